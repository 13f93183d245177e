import type { Observable } from 'rxjs';
import { enqueueActions, setup } from 'xstate';
import type { Outbox } from '../actors/bus.ts';
import { streamEvents, type KprobesCall, type RunView } from '../actors/channels.ts';
import { planApiStep } from '../kprobes/api-step.ts';
import { kprobe_optimizer } from '../kprobes/optimizer.ts';
import type { DomainEvent } from '../model/events.ts';
import { evolveKprobes } from '../model/evolve.ts';
import type { KprobesState } from '../model/state.ts';

// The kprobe manager: the probe table, kprobe_mutex, arming and disarming, text-patch syncs and
// grace periods. Its state value is kprobe_mutex (locked/unlocked), so INV-mutex is visible in
// the machine itself. Its context is its slice of the kernel state, kept by folding its own
// events through evolveKprobes. The steps of each call it serves (register, unregister, enable,
// disable, the debugfs switch, the module notifier) and their order are one XState machine config,
// kprobeCallConfig in ./kprobe-call.ts: planApiStep runs the step a call's phase names there, and
// the fold moves the phase by the table derived from it.

export type KprobesEvent =
  /** A CPU's task takes the next step of its kprobes call (on the calls stream). */
  | KprobesCall
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

interface KprobesContext extends KprobesInput {}

export const kprobesMachine = setup({
  types: {} as { context: KprobesContext; events: KprobesEvent; input: KprobesInput },
  actors: { calls: streamEvents<KprobesCall>() },
}).createMachine({
  id: 'kprobes',
  context: ({ input }) => ({ ...input }),
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
      actions: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'API') return;
        const events: DomainEvent[] = planApiStep({
          setup: context.view.setup(),
          w: context.view.world(),
          cpu: event.cpu,
          pid: event.pid,
          newHandle: context.newHandle,
        });
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
