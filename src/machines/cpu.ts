import type { Observable } from 'rxjs';
import { assign, enqueueActions, setup } from 'xstate';
import type { Outbox } from '../actors/bus.ts';
import { streamEvents, type Grant, type KprobesCall, type RunView } from '../actors/channels.ts';
import * as kernel from '../kprobes/cpu-step.ts';
import type { CpuPlan } from '../kprobes/cpu-step.ts';
import type { Here } from '../kprobes/here.ts';
import type { DomainEvent } from '../model/events.ts';
import { evolveCpu } from '../model/evolve.ts';
import type { CpuState, KprobeStatus } from '../model/state.ts';
import { KPROBE_STATUS_STATES, STATUS_EVENTS, type CpuStatusValue, type KernelStep, type StatusEventType, type StatusStateConfig, type StepGuard } from './kprobe-status.ts';

// One CPU. The machine's state value is the CPU's kprobe_status, and its states and transitions
// are the kernel's graph (spec §6), defined once in ./kprobe-status.ts. The machine decides what
// a step granted by the scheduler does: in each status, its STEP transitions (the status's `step`
// list) test named guards in order and run the named kernel function of the first that holds
// (kprobe_int3_handler, aggr_pre_handler, setup_singlestep, …, from src/kprobes/cpu-step.ts).
// Each event of that step that the graph knows is then sent through it in order; an event with no transition from the current
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

export type CpuEvent = Grant | StatusEvent;

/** An event the graph refused, and the CPU's folded status when it happened. */
export interface Refusal {
  readonly status: KprobeStatus;
  readonly type: string;
}

export interface CpuInput {
  readonly cpu: CpuState;
  readonly view: RunView;
  readonly outbox: Outbox;
  /** The scheduler's grants to this CPU. */
  readonly grants: Observable<Grant>;
}

interface CpuContext extends CpuInput {
  readonly refused: readonly Refusal[];
}

/** The step's view of the world, built once per STEP for every guard and the action that runs. */
const HERE = new WeakMap<object, Here>();
function here(context: CpuContext, event: CpuEvent): Here {
  let h = HERE.get(event);
  if (h === undefined) HERE.set(event, (h = kernel.hereOf(context.view.setup(), context.view.world(), context.cpu)));
  return h;
}

const GUARDS: Readonly<Record<StepGuard, (h: Here) => boolean>> = {
  timerDue: kernel.timerDue,
  trapped: kernel.trapped,
  irqInKprobe: kernel.irqInKprobe,
  onTrampoline: kernel.onTrampoline,
  stepped: kernel.stepped,
};

const asPlan = (f: (h: Here) => DomainEvent[]) => (h: Here): CpuPlan => ({ kind: 'events', events: f(h) });
const KERNEL_STEPS: Readonly<Record<KernelStep, (h: Here) => CpuPlan | null>> = {
  timer_interrupt: asPlan(kernel.timer_interrupt),
  kprobe_int3_handler: asPlan(kernel.kprobe_int3_handler),
  rethook_trampoline_handler: asPlan(kernel.rethook_trampoline_handler),
  kretprobe_rethook_handler: asPlan(kernel.kretprobe_rethook_handler),
  aggr_pre_handler: asPlan(kernel.aggr_pre_handler),
  aggr_post_handler: asPlan(kernel.aggr_post_handler),
  setup_singlestep: asPlan(kernel.setup_singlestep),
  kprobe_post_process: asPlan(kernel.kprobe_post_process),
  run_task: kernel.run_task,
};

/**
 * The graph's states with each status's `step` list as its STEP transitions: the guard and the
 * action are named, and setup() below binds the names to the kernel functions.
 */
const STATES = Object.fromEntries(
  (Object.entries(KPROBE_STATUS_STATES) as [CpuStatusValue, StatusStateConfig][]).map(([status, { step, ...config }]) => [
    status,
    step === undefined
      ? config
      : {
          ...config,
          on: {
            ...config.on,
            STEP: step.map((c) => ({
              ...(c.guard === undefined ? {} : { guard: { type: 'step', params: { test: c.guard } } }),
              actions: { type: 'kernelStep', params: { run: c.run } },
            })),
          },
        },
  ]),
) as unknown as typeof KPROBE_STATUS_STATES;

export const cpuMachine = setup({
  // A task's kprobes call is emitted: the manager's calls stream is what the CPUs emit.
  types: {} as { context: CpuContext; events: CpuEvent; input: CpuInput; emitted: KprobesCall },
  actors: { grants: streamEvents<Grant>() },
  guards: {
    /** A step guard of ./kprobe-status.ts, tested on where the CPU stands. */
    step: ({ context, event }, params: { test: StepGuard }) => GUARDS[params.test](here(context, event)),
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
    /**
     * Runs one kernel function and publishes what it did. Its events that the graph knows are
     * raised in order (each seeing the CPU's slice as it was when it happened: the saved status
     * of a nested hit, R51), so the graph moves the status after the step.
     */
    kernelStep: enqueueActions(({ context, event, enqueue }, params: { run: KernelStep }) => {
      const plan = KERNEL_STEPS[params.run](here(context, event));
      if (plan === null) return;
      if (plan.kind === 'api') {
        // register/unregister run in this CPU's task but are the manager's to decide.
        enqueue.emit({ type: 'API', cpu: context.cpu.id, pid: plan.pid });
        return;
      }
      const before = context.cpu;
      let after = before;
      for (const e of plan.events) {
        if (STATUS_EVENTS.has(e.type)) enqueue.raise({ type: e.type as StatusEventType, event: e, status: after.status, saved: after.prev?.status ?? null });
        after = evolveCpu(after, e);
      }
      // Most steps run task code and leave the CPU's own slice as it was.
      if (after !== before) enqueue.assign({ cpu: after });
      enqueue(() => context.outbox.publish(plan.events));
    }),
  },
}).createMachine({
  id: 'cpu',
  context: ({ input }) => ({ ...input, refused: [] }),
  initial: 'idle',
  invoke: { src: 'grants', input: ({ context }) => context.grants },
  // An event of the graph that the current status has no transition for.
  on: { '*': { actions: 'refuse' } },
  states: STATES,
});
