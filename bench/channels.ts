// Issue 10: the cost of each channel between actors (src/actors/channels.ts), alone:
// `npx tsx bench/channels.ts`. Each figure is nanoseconds per message, median of 5 rounds of
// N messages, against the same receiving machine sent the same event directly:
//   grant: the scheduler's grant stream (a Subject) → an invoked fromEventObservable → the CPU
//          machine's STEP, over actor.send({type:'STEP'}) to the same machine;
//   call:  a CPU machine's `emit` of its task's kprobes call → the calls stream (fromEventPattern,
//          merged over the CPUs) → the manager's invoked fromEventObservable → its API event,
//          over the same sender whose emit nobody subscribes to plus a direct send to the receiver.

import { Subject, type Observable } from 'rxjs';
import { assign, createActor, emit, setup, type AnyActorRef } from 'xstate';
import { emitted, streamEvents } from '../src/actors/channels.ts';

type Msg = { type: 'STEP' } | { type: 'API'; cpu: number; pid: number } | { type: 'PING' };

const receiver = (withStream: boolean) =>
  setup({
    types: {} as { context: { n: number; stream: Observable<Msg> | null }; events: Msg; input: Observable<Msg> | null },
    actors: { stream: streamEvents<Msg>() },
  }).createMachine({
    context: ({ input }) => ({ n: 0, stream: input }),
    ...(withStream ? { invoke: { src: 'stream', input: ({ context }: { context: { stream: Observable<Msg> | null } }) => context.stream! } } : {}),
    on: {
      STEP: { actions: assign({ n: ({ context }) => context.n + 1 }) },
      API: { actions: assign({ n: ({ context }) => context.n + 1 }) },
    },
  });

const sender = setup({ types: {} as { events: Msg; emitted: { type: 'API'; cpu: number; pid: number } } }).createMachine({
  on: { PING: { actions: emit({ type: 'API', cpu: 0, pid: 1 }) } },
});

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function nsPer(n: number, f: () => void): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return ((performance.now() - t0) * 1e6) / n;
}

function check(actor: AnyActorRef, n: number): void {
  const got = (actor.getSnapshot() as { context: { n: number } }).context.n;
  if (got !== n) throw new Error(`the receiver counted ${got} messages, expected ${n}`);
}

export function channelCosts(n = 200_000, rounds = 5): { grantNs: number; callNs: number; directNs: number } {
  const grant: number[] = [];
  const call: number[] = [];
  const direct: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Direct: the receiving machine sent STEP by its caller.
    const d = createActor(receiver(false), { input: null }).start();
    const step = { type: 'STEP' } as const;
    direct.push(nsPer(n, () => d.send(step)));
    check(d, n);
    d.stop();

    // Grant: a Subject the receiving machine subscribes to.
    const grants = new Subject<Msg>();
    const g = createActor(receiver(true), { input: grants }).start();
    grant.push(nsPer(n, () => grants.next({ type: 'STEP' })));
    check(g, n);
    g.stop();

    // Call: what a sender emits, received by a machine subscribed to the emitted stream. The
    // sender's own transition is taken off: a sender nobody listens to, plus a direct send.
    const alone = createActor(sender).start();
    const d2 = createActor(receiver(false), { input: null }).start();
    const api = { type: 'API', cpu: 0, pid: 1 } as const;
    const base = nsPer(n, () => {
      alone.send({ type: 'PING' });
      d2.send(api);
    });
    alone.stop();
    d2.stop();
    const s = createActor(sender);
    const c = createActor(receiver(true), { input: emitted<Msg & { type: 'API' }>([s], 'API') }).start();
    s.start();
    call.push(nsPer(n, () => s.send({ type: 'PING' })) - base);
    check(c, n);
    s.stop();
    c.stop();
  }
  const directNs = median(direct);
  return { grantNs: median(grant) - directNs, callNs: median(call), directNs };
}

if (process.argv[1]?.endsWith('channels.ts')) {
  const r = channelCosts();
  process.stdout.write(`xstate_send_ns: ${r.directNs.toFixed(0)} ns\n`);
  process.stdout.write(`grant_channel_overhead_ns: ${r.grantNs.toFixed(0)} ns\n`);
  process.stdout.write(`call_channel_overhead_ns: ${r.callNs.toFixed(0)} ns\n`);
}
