import { assign, createActor, setup } from 'xstate';

// The baseline: one XState v5 actor with a single counter, sent INC n times. This is the cost of
// XState's send → transition → assign → snapshot path with nothing else in it.

export const counterMachine = setup({
  types: {
    context: {} as { n: number },
    events: {} as { type: 'INC' },
  },
}).createMachine({
  context: { n: 0 },
  on: {
    INC: { actions: assign({ n: ({ context }) => context.n + 1 }) },
  },
});

/** Sends INC n times to a fresh actor; returns events/s and checks the count came out right. */
export function xstateRawSendsPerSecond(n: number): number {
  const actor = createActor(counterMachine);
  actor.start();
  const ev = { type: 'INC' } as const;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) actor.send(ev);
  const dt = performance.now() - t0;
  const got = actor.getSnapshot().context.n;
  actor.stop();
  if (got !== n) throw new Error(`xstate baseline counted ${got}, expected ${n}`);
  return (n / dt) * 1000;
}
