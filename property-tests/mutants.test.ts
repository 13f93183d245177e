import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MUTANT_INFO, MUTANTS } from '../src/kprobes/mutants.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { seedArbitrary } from '../src/scenario/arbitrary.ts';
import { RUNS } from './helpers.ts';

// The mutants test the tests (issue 12): the invariant property "every invariant holds on every
// schedule" over random seeds of a mutant's scenario passes on the correct kernel and fails on the
// mutant's, its counterexample caught by the invariant the mutant names. 200 schedules are enough:
// the rarest window (a trap in flight at the disarm, unregister-busy) opens in about 1 schedule in
// 30, so 200 miss it with a probability near 0.001; the runs are seeded, so the outcome is fixed.
// The correct kernel gets RUNS schedules of each scenario here (every built-in is also run on many
// seeds elsewhere).

const SCHEDULES = 200;
const CORRECT = Math.max(RUNS, 25);

describe('the invariant property catches every planted bug', () => {
  for (const m of MUTANTS) {
    const { scenario: name, caughtBy } = MUTANT_INFO[m];
    // A run of a mutant that loops (no-reenter-check) stops early; the correct one needs no limit.
    const scenario = BUILTIN_SCENARIOS.get(name)!;
    it(`${m}: fails on ${name} with ${caughtBy}; the correct kernel passes`, async () => {
      const property = (mutant: boolean) =>
        fc.asyncProperty(seedArbitrary, async (seed) => {
          const r = await recordRun(mutant ? { ...scenario, max_steps: Math.min(scenario.max_steps, 5000) } : scenario, { seed, strategy: 'random', ...(mutant ? { mutant: m } : {}) }, null);
          return r.violations.length === 0;
        });
      const good = await fc.check(property(false), { numRuns: CORRECT });
      expect(good.failed, `${name} on the correct kernel`).toBe(false);
      const bad = await fc.check(property(true), { numRuns: SCHEDULES, endOnFailure: true });
      expect(bad.failed, `${m} was not caught in ${SCHEDULES} schedules`).toBe(true);
      const [seed] = bad.counterexample!;
      const r = await recordRun({ ...scenario, max_steps: Math.min(scenario.max_steps, 5000) }, { seed, strategy: 'random', mutant: m }, null);
      expect(r.violations[0]?.inv).toBe(caughtBy);
    });
  }
});
