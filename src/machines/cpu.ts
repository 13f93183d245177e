import { assign, enqueueActions, setup, type AnyActorRef } from 'xstate';
import type { Outbox } from '../actors/bus.ts';
import { planCpuStep } from '../kprobes/cpu-step.ts';
import type { DomainEvent } from '../model/events.ts';
import { evolveCpu } from '../model/evolve.ts';
import type { Setup } from '../model/setup.ts';
import type { CpuState, KernelState, KprobeStatus } from '../model/state.ts';
import { KPROBE_STATUS_STATES, STATUS_EVENTS, type StatusEventType } from './kprobe-status.ts';

// One CPU. The machine's state value is the CPU's kprobe_status, and its states and transitions
// are the kernel's graph (spec §6), defined once in ./kprobe-status.ts. Each event of a step that
// the graph knows is sent through it in order; an event with no transition from the current
// status is refused: the machine stays where it is and records the refusal in `refused`, the
// folded status moves on without it, and the run's INV-status checker (derived from the same
// graph) reports the move. Nothing throws. The context's `cpu` is the CPU's own slice of the
// kernel state, kept by folding the events this CPU emits through the same evolveCpu as the log.

/** A domain event of the graph, as the CPU machine receives it. */
export interface StatusEvent {
  readonly type: StatusEventType;
  readonly event: DomainEvent;
  /** The folded status when the event happened (what a refusal reports). */
  readonly status: KprobeStatus;
  /** The status prev_kprobe holds when the event happens (restore_previous_kprobe(), R51). */
  readonly saved: KprobeStatus | null;
}

export type CpuEvent = { type: 'STEP'; world: KernelState } | StatusEvent;

/** An event the graph refused, and the CPU's folded status when it happened. */
export interface Refusal {
  readonly status: KprobeStatus;
  readonly type: string;
}

export interface CpuInput {
  readonly cpu: CpuState;
  readonly setup: Setup;
  readonly outbox: Outbox;
  readonly manager: AnyActorRef;
}

interface CpuContext extends CpuInput {
  readonly refused: readonly Refusal[];
}

export const cpuMachine = setup({
  types: {} as { context: CpuContext; events: CpuEvent; input: CpuInput },
  guards: {
    /** R51: restore_previous_kprobe() puts back the status the nested hit saved. */
    saved: ({ event }, params: { status: KprobeStatus }) => (event as StatusEvent).saved === params.status,
    /** R75: the kretprobe return handler finished: current_kprobe goes back to NULL. */
    returned: ({ event }) => {
      const e = (event as StatusEvent).event;
      return e !== undefined && e.type === 'kretprobe.put' && e.reason === 'returned';
    },
  },
  actions: {
    refuse: assign({
      refused: ({ context, event }) => [...context.refused, { status: (event as StatusEvent).status, type: event.type }],
    }),
  },
}).createMachine({
  id: 'cpu',
  context: ({ input }) => ({ ...input, refused: [] }),
  initial: 'idle',
  on: {
    STEP: {
      actions: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'STEP') return;
        const plan = planCpuStep(context.setup, event.world, context.cpu);
        if (plan === null) return;
        if (plan.kind === 'api') {
          // register/unregister run in this CPU's task but are the manager's to decide.
          enqueue.sendTo(context.manager, { type: 'API', cpu: context.cpu.id, pid: plan.pid, world: event.world });
          return;
        }
        const before = context.cpu;
        let after = before;
        for (const e of plan.events) {
          // The graph's events go through the machine in order, each seeing the slice as it
          // was when it happened (the saved status of a nested hit, R51).
          if (STATUS_EVENTS.has(e.type)) enqueue.raise({ type: e.type as StatusEventType, event: e, status: after.status, saved: after.prev?.status ?? null });
          after = evolveCpu(after, e);
        }
        // Most steps run task code and leave the CPU's own slice as it was.
        if (after !== before) enqueue.assign({ cpu: after });
        enqueue(() => context.outbox.publish(plan.events));
      }),
    },
    // An event of the graph that the current status has no transition for.
    '*': { actions: 'refuse' },
  },
  states: KPROBE_STATUS_STATES,
});
