import { enqueueActions, setup } from 'xstate';
import type { RunView } from '../actors/channels.ts';
import { callStep, startCall } from '../kprobes/api-step.ts';
import type { DomainEvent } from '../model/events.ts';
import type { ApiPhase } from '../model/state.ts';
import { kprobeCallConfig, type CallStateConfig, type CallStep } from './kprobe-call.ts';

// The machine of one task's kprobes calls: the call graph of ./kprobe-call.ts (register_kprobe,
// unregister_kprobe, enable/disable_kprobe, the debugfs switch, the module notifier), with, in
// each state that is a step, an API transition whose action runs the kernel function of the
// state's name (mutex_lock, hlist_add_head_rcu, arm_kprobe, text_poke_sync, …: callStep in
// src/kprobes/api-step.ts); in `idle`, the task's next operation starts a call (startCall). The
// step's events go to the manager, which folds and publishes them, and then through this machine
// in order: they move it to the next step, as they move the fold's `call.phase` (NEXT_PHASE, derived
// from the same graph; INV-fold checks the two agree). A finished call goes back to `idle`.

export interface CallInput {
  readonly pid: number;
  readonly view: RunView;
  /** A fresh id for a registered probe (the manager's seeded stream). */
  readonly newHandle: () => string;
}

/** The manager's turn for this task: take the call's next step, on the task's CPU. */
export interface CallTurn {
  readonly type: 'API';
  readonly cpu: number;
}

/** A domain event of the step, through the graph. */
export interface Moved {
  readonly type: string;
  readonly event: DomainEvent;
}

/** What a step did, for the manager to fold and publish. */
export interface Called {
  readonly type: 'CALLED';
  readonly events: readonly DomainEvent[];
}


/** The event types the graph has transitions on: only these are sent through it. */
const MOVES: ReadonlySet<string> = (() => {
  const out = new Set<string>();
  const walk = (c: CallStateConfig) => {
    for (const t of Object.keys(c.on ?? {})) out.add(t);
    for (const child of Object.values(c.states ?? {})) walk(child);
  };
  walk(kprobeCallConfig);
  return out;
})();

/**
 * The graph with its steps: an API transition in every state that has a phase (its key is the
 * kernel function it runs), `idle`'s API starts a call, and a call's final state returns to idle.
 */
function withSteps(key: string, c: CallStateConfig, depth: number): object {
  const on: Record<string, unknown> = { ...(c.on ?? {}) };
  if (c.meta !== undefined && 'phase' in c.meta) on.API = { actions: { type: 'callStep', params: { step: key } } };
  if (depth === 1 && key === 'idle') on.API = { actions: { type: 'callStep', params: { step: 'start' } } };
  const states = c.states === undefined ? undefined : Object.fromEntries(Object.entries(c.states).map(([k, child]) => [k, withSteps(k, child, depth + 1)]));
  return {
    ...c,
    on,
    ...(states === undefined ? {} : { states }),
    ...(depth === 1 && c.states !== undefined ? { onDone: 'idle' } : {}),
  };
}

export const kprobeCallMachine = setup({
  types: {} as { context: CallInput; events: CallTurn | Moved; input: CallInput },
  actions: {
    callStep: enqueueActions(({ context, event, enqueue }, params: { step: CallStep | 'start' }) => {
      const input = { setup: context.view.setup(), w: context.view.world(), cpu: (event as CallTurn).cpu, pid: context.pid, newHandle: context.newHandle };
      const events = params.step === 'start' ? startCall(input) : callStep(params.step, input);
      const called: Called = { type: 'CALLED', events };
      enqueue.sendParent(called);
      for (const e of events) if (MOVES.has(e.type)) enqueue.raise({ type: e.type, event: e });
    }),
  },
}).createMachine({ ...withSteps('kprobe_call', kprobeCallConfig, 0), context: ({ input }: { input: CallInput }) => input } as never);

/** The phase of a call machine's state (undefined: idle, or between calls). */
export function phaseOfSnapshot(snapshot: { getMeta(): Record<string, unknown> }): ApiPhase | undefined {
  for (const m of Object.values(snapshot.getMeta())) {
    const phase = (m as { phase?: ApiPhase } | undefined)?.phase;
    if (phase !== undefined) return phase;
  }
  return undefined;
}
