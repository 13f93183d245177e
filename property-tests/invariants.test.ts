import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InvariantId } from '../src/monitors/invariants.ts';
import { scenarioArbitrary, seedArbitrary } from '../src/scenario/arbitrary.ts';
import { RUNS, runInMemory } from './helpers.ts';

// Each invariant of design.md, checked by the runtime monitor on every event of random runs.
// The monitors themselves are tested against hand-made violating logs in test/monitors.test.ts,
// so a silent monitor would be caught there.

async function holds(inv: InvariantId, sleeping = false): Promise<void> {
  await fc.assert(
    fc.asyncProperty(scenarioArbitrary({ sleepingHandlers: sleeping }), seedArbitrary, async (scenario, seed) => {
      const { result } = await runInMemory(scenario, seed);
      expect(result.violations.filter((v) => v.inv === inv)).toEqual([]);
    }),
    { numRuns: RUNS },
  );
}

describe('invariants on random scenarios and schedules', () => {
  it('INV-status: kprobe_status moves only along the kernel graph; no silent continue in REENTER', () => holds('INV-status'));
  it('INV-nmissed: hits = handler runs + nmissed + skipped; no handler runs nested (R50, R52, R53)', () => holds('INV-nmissed'));
  it('INV-preempt: non-idle kprobe status ⇒ preempt_count > 0; no switch there, even when a handler sleeps (R59, R61)', () =>
    holds('INV-preempt', true));
  it('INV-unregister: no handler starts after unregister_kprobe returned; none runs at its return (R67)', () =>
    holds('INV-unregister'));
  it('INV-removed-race: a kprobe breakpoint trap always finds its probe (R55)', () => holds('INV-removed-race'));
  it('INV-mutex: register/unregister critical sections never overlap (R16)', () => holds('INV-mutex'));
  it('INV-text: the breakpoint is armed only where a probe is, and gone when the last one leaves', () => holds('INV-text'));
  it('INV-disabled: no handler runs for a trap taken after disable_kprobe returned (R37, R170)', () => holds('INV-disabled'));
  it('INV-kretprobe: instances ≤ maxactive, each taken and given back once, handlers for their own call (R72-R80)', () =>
    holds('INV-kretprobe'));
  it('INV-aggr-order: one point\'s children run newest-registered first, pre and post (R9, R10, R11)', () => holds('INV-aggr-order'));

  it('INV-progress: with enough steps every run finishes: no deadlock, every kprobes call returned', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary({ maxSteps: 200_000 }), seedArbitrary, async (scenario, seed) => {
        const { result } = await runInMemory(scenario, seed);
        expect(result.endReason).toBe('done');
        expect(result.state.kprobes.calls).toEqual({});
        expect(result.state.kprobes.mutex).toEqual({ owner: null, waiters: [] });
        expect(result.state.tasks).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});
