import type { Observable } from 'rxjs';
import { enqueueActions, setup, type ActorRefFrom } from 'xstate';
import type { Outbox } from '../actors/bus.ts';
import { streamEvents, type KprobesCall, type RunView } from '../actors/channels.ts';
import { kprobe_optimizer } from '../kprobes/optimizer.ts';
import type { DomainEvent } from '../model/events.ts';
import { kprobeCallMachine, type Called } from './kprobe-call-actor.ts';
import { evolveKprobes } from '../model/evolve.ts';
import type { KprobesState } from '../model/state.ts';

// The kprobe manager: the probe table, kprobe_mutex, arming and disarming, text-patch syncs and
// grace periods. Its state value is kprobe_mutex (locked/unlocked), so INV-mutex is visible in
// the machine itself. Its context is its slice of the kernel state, kept by folding its own
// events through evolveKprobes. Each task's calls (register, unregister, enable, disable, the
// debugfs switch, the module notifier) are run by that task's call machine (./kprobe-call-actor.ts,
// built from the one graph in ./kprobe-call.ts), a child of this one: it decides the step, this
// machine folds and publishes what the step did.

export type KprobesEvent =
  /** A CPU's task takes the next step of its kprobes call (on the calls stream). */
  | KprobesCall
  /** A task's call machine took a step: its events, to fold and publish. */
  | Called
  /** A session's input that changes this slice (a new probe's registry entry). */
  | { type: 'INPUT'; event: DomainEvent }
  /** The deferred optimizer's turn (spec §11): patch the points that are due. */
  | { type: 'OPTIMIZE' }
  | { type: 'MUTEX'; held: boolean };

export interface KprobesInput {
  readonly kprobes: KprobesState;
  readonly view: RunView;
  readonly outbox: Outbox;
  /** The CPUs' tasks' kprobes calls. */
  readonly calls: Observable<KprobesCall>;
  readonly newHandle: () => string;
}

interface KprobesContext extends KprobesInput {
  /** Each task's call machine, made at its first call. */
  readonly callers: Readonly<Record<number, ActorRefFrom<typeof kprobeCallMachine>>>;
}

export const kprobesMachine = setup({
  types: {} as { context: KprobesContext; events: KprobesEvent; input: KprobesInput },
  actors: { calls: streamEvents<KprobesCall>(), call: kprobeCallMachine },
}).createMachine({
  id: 'kprobes',
  context: ({ input }) => ({ ...input, callers: {} }),
  initial: 'unlocked',
  invoke: { src: 'calls', input: ({ context }) => context.calls },
  on: {
    OPTIMIZE: {
      actions: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'OPTIMIZE') return;
        const events = kprobe_optimizer(context.view.setup(), context.view.world());
        if (events.length === 0) return;
        let k = context.kprobes;
        for (const e of events) k = evolveKprobes(k, e);
        enqueue.assign({ kprobes: k });
        enqueue(() => context.outbox.publish(events));
      }),
    },
    INPUT: {
      actions: enqueueActions(({ context, event, enqueue }) => {
        if (event.type === 'INPUT') enqueue.assign({ kprobes: evolveKprobes(context.kprobes, event.event) });
      }),
    },
    API: {
      // The task's call machine decides which step of its call runs (made at the task's first call).
      actions: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'API') return;
        const { pid, cpu } = event;
        if (context.callers[pid] === undefined) {
          enqueue.assign({
            callers: ({ context, spawn }) => ({
              ...context.callers,
              [pid]: spawn('call', { id: `call/${pid}`, input: { pid, view: context.view, newHandle: context.newHandle } }),
            }),
          });
        }
        enqueue.sendTo(({ context }) => context.callers[pid]!, { type: 'API', cpu });
      }),
    },
    CALLED: {
      actions: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'CALLED') return;
        const { events } = event;
        let k = context.kprobes;
        for (const e of events) k = evolveKprobes(k, e);
        enqueue.assign({ kprobes: k });
        enqueue(() => context.outbox.publish(events));
        const held = k.mutex.owner !== null;
        if (held !== (context.kprobes.mutex.owner !== null)) enqueue.raise({ type: 'MUTEX', held });
      }),
    },
  },
  states: {
    unlocked: { on: { MUTEX: { guard: ({ event }) => event.type === 'MUTEX' && event.held, target: 'locked' } } },
    locked: { on: { MUTEX: { guard: ({ event }) => event.type === 'MUTEX' && !event.held, target: 'unlocked' } } },
  },
});
