import { fromTransition } from 'xstate';
import type { Observer } from 'rxjs';
import type { Outbox } from '../actors/bus.ts';
import type { Grant } from '../actors/channels.ts';
import type { DomainEvent } from '../model/events.ts';
import { evolveSched } from '../model/evolve.ts';
import { optimizerDue } from '../model/queries.ts';
import type { KernelState, SchedState } from '../model/state.ts';
import { enabledChoices, type Choice } from '../scheduler/choices.ts';
import type { Labeller } from '../scheduler/label.ts';
import type { Strategy } from '../scheduler/strategies.ts';

// The scheduler owns the one clock: on each TICK it lists the enabled choices, lets its strategy
// pick one, publishes the decision (`sched.pick`, then `sched.switch` for a context switch), and
// grants the chosen CPU its step on that CPU's grant stream (src/actors/channels.ts).
// When nothing can run it says why: every task finished, or a deadlock (INV-progress).

export type SchedulerEvent = { type: 'TICK' };

export type Outcome =
  | { kind: 'step'; choice: Choice }
  | { kind: 'idle' }
  | { kind: 'end'; reason: 'done' | 'deadlock' | 'limit' | 'task_limit' };

export interface SchedulerInput {
  readonly sched: SchedState;
  readonly strategy: Strategy;
  readonly outbox: Outbox;
  readonly maxSteps: number;
  /** More live tasks than this end the run (scenario.max_tasks). */
  readonly maxTasks: number;
  /** The folded kernel state, as it is when the scheduler's turn comes. */
  readonly world: () => KernelState;
  /** Each CPU's grant stream: the chosen CPU is told to take its step. */
  readonly grants: readonly Observer<Grant>[];
  /** Labels a decision with what its step does (`sched.pick`'s label); null, or undefined from it: no label. */
  readonly label: Labeller | null;
}

interface SchedulerContext extends SchedulerInput {
  readonly outcome: Outcome | null;
}

function decide(ctx: SchedulerContext, w: KernelState): { outcome: Outcome; events: DomainEvent[] } {
  if (w.sched.steps >= ctx.maxSteps) {
    return { outcome: { kind: 'end', reason: 'limit' }, events: [{ type: 'run.limit', steps: w.sched.steps }] };
  }
  // Tasks that fork faster than their children exit would grow the state (and memory) without
  // bound; the run stops as soon as a fork took the live tasks past the limit.
  if (w.tasks.length > ctx.maxTasks) {
    return { outcome: { kind: 'end', reason: 'task_limit' }, events: [{ type: 'run.task_limit', tasks: w.tasks.length, max_tasks: ctx.maxTasks }] };
  }
  const choices = enabledChoices(w);
  if (choices.length === 0) {
    // Every CPU idles until the next sleeping task's timer or the optimizer's deferred work (§11):
    // logical time jumps there.
    const sleepers = w.tasks.flatMap((t) => (t.wait?.on === 'time' && t.wait.until > w.t ? [t.wait.until] : []));
    const wake = Math.min(...sleepers, optimizerDue(w));
    if (Number.isFinite(wake)) return { outcome: { kind: 'idle' }, events: [{ type: 'time.advance', to: wake }] };
    // Done: every task exited, or what is left are shells waiting for their user.
    if (w.tasks.every((t) => t.wait?.on === 'input')) return { outcome: { kind: 'end', reason: 'done' }, events: [] };
    return {
      outcome: { kind: 'end', reason: 'deadlock' },
      events: [{ type: 'kernel.deadlock', blocked: w.tasks.map((t) => t.pid) }],
    };
  }
  const choice = ctx.strategy.choose(choices, w.t);
  const label = ctx.label === null ? undefined : ctx.label(w, choice);
  const events: DomainEvent[] = [
    label === undefined ? { type: 'sched.pick', cpu: choice.cpu, switch_to: choice.switch_to } : { type: 'sched.pick', cpu: choice.cpu, switch_to: choice.switch_to, label },
  ];
  if (choice.switch_to !== null) {
    const next = w.tasks.find((t) => t.pid === choice.switch_to)!;
    events.push({
      type: 'sched.switch',
      cpu: choice.cpu,
      prev: w.sched.curr[choice.cpu] ?? null,
      next: next.pid,
      migrated: next.last_cpu !== null && next.last_cpu !== choice.cpu,
    });
  }
  return { outcome: { kind: 'step', choice }, events };
}

/**
 * The scheduler is an XState actor built from a transition function: one TICK, one decision, no
 * hierarchy of states to walk (a machine here cost several times more per step for nothing).
 * Its state is its slice of the kernel state plus the decision it just made.
 */
export const schedulerLogic = fromTransition(
  (state: SchedulerContext, event: SchedulerEvent): SchedulerContext => {
    // XState hands a transition actor its own events too: stopping it sends `xstate.stop`,
    // which has no world to decide on (deciding threw a TypeError at the end of every run).
    if (event.type !== 'TICK') return state;
    // The strategy draws from its own seeded stream: each TICK is processed exactly once.
    const { outcome, events } = decide(state, state.world());
    let sched = state.sched;
    for (const e of events) sched = evolveSched(sched, e);
    state.outbox.publish(events);
    // The grant goes out once the decision is in the fold: the CPU steps on the state after it.
    if (outcome.kind === 'step') state.grants[outcome.choice.cpu]!.next({ type: 'STEP' });
    return { ...state, sched, outcome };
  },
  ({ input }: { input: SchedulerInput }): SchedulerContext => ({ ...input, outcome: null }),
);
