import { enqueueActions, setup, type AnyActorRef } from 'xstate';
import type { Outbox } from '../actors/bus.ts';
import { planCpuStep } from '../kprobes/cpu-step.ts';
import type { DomainEvent } from '../model/events.ts';
import { evolveCpu } from '../model/evolve.ts';
import type { Setup } from '../model/setup.ts';
import type { CpuState, KernelState, KprobeStatus } from '../model/state.ts';

// One CPU. The machine's state value is the CPU's kprobe_status, and its transitions are the
// kernel's graph (spec §6): a move the graph does not allow is not taken, so the state value and
// the folded status part ways and INV-fold reports it. The context is the CPU's own slice of the
// kernel state, kept by folding the events this CPU emits through the same evolveCpu as the log.

export type CpuEvent =
  | { type: 'STEP'; world: KernelState }
  /** Internal: the kcb status moved (raised by the CPU itself). */
  | { type: 'KCB'; to: KprobeStatus | 'halted' };

export interface CpuInput {
  readonly cpu: CpuState;
  readonly setup: Setup;
  readonly outbox: Outbox;
  readonly manager: AnyActorRef;
}

interface CpuContext extends CpuInput {}

function fold(c: CpuState, events: readonly DomainEvent[]): CpuState {
  let out = c;
  for (const e of events) out = evolveCpu(out, e);
  return out;
}

const to = (...targets: (KprobeStatus | 'halted')[]) =>
  targets.map((target) => ({ guard: ({ event }: { event: CpuEvent }) => event.type === 'KCB' && event.to === target, target }));

export const cpuMachine = setup({
  types: {} as { context: CpuContext; events: CpuEvent; input: CpuInput },
}).createMachine({
  id: 'cpu',
  context: ({ input }) => ({ ...input }),
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
        const after = fold(before, plan.events);
        // Most steps run task code and leave the CPU's own slice as it was.
        if (after !== before) enqueue.assign({ cpu: after });
        enqueue(() => context.outbox.publish(plan.events));
        if (after.halted && !before.halted) enqueue.raise({ type: 'KCB', to: 'halted' });
        else if (after.status !== before.status) enqueue.raise({ type: 'KCB', to: after.status });
      }),
    },
  },
  states: {
    idle: { on: { KCB: to('KPROBE_HIT_ACTIVE', 'halted') } },
    // R92: an ftrace-based probe goes from its pre- to its post-handlers without a single-step.
    KPROBE_HIT_ACTIVE: { on: { KCB: to('KPROBE_HIT_SS', 'KPROBE_HIT_SSDONE', 'KPROBE_REENTER', 'idle', 'halted') } },
    KPROBE_HIT_SS: { on: { KCB: to('KPROBE_HIT_SSDONE', 'KPROBE_REENTER', 'halted') } },
    KPROBE_HIT_SSDONE: { on: { KCB: to('idle', 'KPROBE_REENTER', 'halted') } },
    // R49/R51: a reentrant single-step ends by restoring whatever status was saved.
    KPROBE_REENTER: { on: { KCB: to('KPROBE_HIT_ACTIVE', 'KPROBE_HIT_SS', 'KPROBE_HIT_SSDONE', 'halted') } },
    halted: { type: 'final' },
  },
});
