import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cellMedian, fmtCell, medianOfFirsts, nextCap, runColumn, sctCases, sctMarkdown, sctTable, type SctCell, type SeedOutcome } from '../bench/sct-table.ts';
import { MUTANTS } from '../src/kprobes/mutants.ts';

// bench/sct-table.ts (issue 12, "Benchmarks"): runs to the first failure per strategy, the
// median over exploration seeds. The median must be exact although seeds are stopped early, a
// seed that found nothing counts as +∞, and portfolio finds every mutant on its scenario.

const found = (seed: number, first: number): SeedOutcome => ({ seed, found: true, first, check: 'X' });
const none = (seed: number, ranTo: number, censored = false): SeedOutcome => ({ seed, found: false, ranTo, censored });

/** What the table does for one cell, with each seed's true first failing run given (null: none within the budget). */
function drive(truth: readonly (number | null)[], budget: number): SeedOutcome[] {
  const outcomes: SeedOutcome[] = [];
  for (const [i, v] of truth.entries()) {
    const cap = nextCap(outcomes, truth.length, budget);
    if (cap === null) break;
    outcomes.push(v !== null && v <= cap ? found(i + 1, v) : none(i + 1, cap, cap < budget));
  }
  return outcomes;
}

describe('the median of first failing runs', () => {
  it('of 10 seeds is the mean of the 5th and 6th smallest; of an odd count the middle one', () => {
    expect(medianOfFirsts([10, 1, 9, 2, 8, 3, 7, 4, 6, 5])).toBe(5.5);
    expect(medianOfFirsts([4, 4, 4, 4, 4, 4, 4, 4, 4, 4])).toBe(4);
    expect(medianOfFirsts([3, 1, 2])).toBe(2);
  });

  it('counts a seed that found nothing as +∞: 6 of 10 found gives a number, 5 of 10 does not', () => {
    // Sorted: 1 2 3 4 5 6 ∞ ∞ ∞ ∞: the 5th and 6th are 5 and 6.
    expect(medianOfFirsts([1, 2, 3, 4, 5, 6, null, null, null, null])).toBe(5.5);
    // Sorted: 1 2 3 4 5 ∞ …: the 6th is ∞, so is the mean.
    expect(medianOfFirsts([null, 1, null, 2, null, 3, null, 4, null, 5])).toBeNull();
    expect(medianOfFirsts([null])).toBeNull();
  });

  it('nextCap stops once 5 of 10 seeds found nothing in the whole budget (the median is +∞ whatever the rest do)', () => {
    const five = [1, 2, 3, 4, 5].map((s) => none(s, 100));
    expect(nextCap(five, 10, 100)).toBeNull();
    // A seed stopped at a cap below the budget is not a "found nothing": it does not count.
    expect(nextCap([...five.slice(0, 4), none(5, 7, true)], 10, 100)).toBe(100);
  });

  it('nextCap caps a seed at the 6th smallest first run found so far, and never above the budget', () => {
    const six = [9, 3, 1, 4, 1, 5].map((v, i) => found(i + 1, v));
    // Sorted 1 1 3 4 5 9: the final 6th smallest can only be 9 or less.
    expect(nextCap(six, 10, 100)).toBe(9);
    expect(nextCap(six.slice(0, 5), 10, 100)).toBe(100);
    expect(nextCap(six, 10, 4)).toBe(4);
    expect(nextCap([...six, ...[7, 8, 9, 10].map((s) => found(s, 1))], 10, 100)).toBeNull();
  });

  it('stopping seeds early never changes the median (every list of first runs, budget 50)', () => {
    const first = fc.option(fc.integer({ min: 1, max: 50 }), { nil: null });
    fc.assert(
      fc.property(fc.array(first, { minLength: 10, maxLength: 10 }), (truth) => {
        const outcomes = drive(truth, 50);
        expect(cellMedian(outcomes, 10)).toBe(medianOfFirsts(truth));
      }),
    );
  });

  it('a cell reads "median (found/seeds)", ">budget" when not found, "≥" when seeds were stopped early', () => {
    const cell = (median: number | null, n: number, exact: boolean): SctCell => ({ strategy: 'pct', outcomes: [], median, found: n, foundExact: exact, runs: 0 });
    expect(fmtCell(cell(5.5, 10, true), 10, 10_000)).toBe('5.5 (10/10)');
    expect(fmtCell(cell(1234, 7, false), 10, 10_000)).toBe('1,234 (≥7/10)');
    expect(fmtCell(cell(null, 2, false), 10, 10_000)).toBe('>10,000 (≥2/10)');
  });
});

describe('the strategies on the mutants (bench/sct-table.ts rows, one seed)', () => {
  it('portfolio finds every mutant on its own scenario within 100 runs; the three that break their rule on every schedule on the first run', async () => {
    const cases = sctCases().filter((c) => c.mutant !== undefined);
    expect(cases.map((c) => c.mutant)).toEqual([...MUTANTS]);
    for (const c of cases) {
      const r = await runColumn({ case: c, column: 'portfolio', seeds: [1], budget: 100, dfsSeed: 1 });
      if (!('cell' in r)) throw new Error('expected a strategy cell');
      const [o] = r.cell.outcomes;
      expect(o?.found, c.name).toBe(true);
      // arm-before-insert arms the point before the probe is in kprobe_table (INV-text sees it at
      // once), no-reenter-check's printk recursion is on one CPU, and no-grace-period's
      // scenario keeps a CPU in the handler while it unregisters: no interleaving is needed, so
      // the portfolio's first run (pct) fails. The two removal races need CPU 0's unregister to
      // fall between CPU 1's int3 and its lookup.
      if (o?.found === true && ['arm-before-insert', 'no-reenter-check', 'no-grace-period'].includes(c.mutant!)) expect(o.first, c.name).toBe(1);
      // disarm-without-sync and int3-sync-gap fail on the same schedules (both leave the same
      // window open), so the same run finds them.
    }
  });

  it('dfs finds the removal race of disarm-without-sync in its first executions, and the correct kernel fails nowhere in a tiny table', async () => {
    const race = sctCases().find((c) => c.mutant === 'disarm-without-sync')!;
    const r = await runColumn({ case: race, column: 'dfs', seeds: [], budget: 50, dfsSeed: 1 });
    if (!('dfs' in r)) throw new Error('expected a dfs cell');
    expect(r.dfs.first).not.toBeNull();
    expect(r.checks).toEqual(['INV-removed-race']);
    const t = await sctTable({ cases: [], clean: [{ name: 'correct kernel (default)', kind: 'kernel', scenario: sctCases().find((c) => c.mutant === 'arm-before-insert')!.scenario, expect: 'none' }], cleanSeeds: [1], cleanBudget: 2, workers: 1 });
    expect(t.falsePositives).toEqual([]);
    expect(t.clean[0]!.cells.map((c) => c.runs)).toEqual([2, 2, 2, 2]);
    expect(sctMarkdown(t)).toContain('| correct kernel (default) | none in 2 | none in 2 | none in 2 | none in 2 | none in ');
  });
});
