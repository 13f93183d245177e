import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runBatch } from '../src/explore/batch.ts';
import { explore } from '../src/explore/explore.ts';
import { exploreCommand, runStrategySchedule, strategyScheduleArbitrary, type StrategySchedule } from '../src/explore/strategy-schedule.ts';
import { smallRace } from './explore-fixtures.ts';

// strategyScheduleArbitrary / runStrategySchedule (src/explore/strategy-schedule.ts): a drawn
// schedule is run i of an explore command, so a property's counterexample is replayed by explore.

const mutant = 'disarm-without-sync' as const;

describe('a strategy schedule is run i of kprobesim explore', () => {
  it('pct: the first failing run is the one explore reports, with the same check (the removal race, R55)', async () => {
    const seed = 7;
    const report = await explore(smallRace, { strategy: 'pct', runs: 300, seed, mutant, out: null });
    expect(report.failures).toHaveLength(1);
    const found = report.failures[0]!;
    expect(found.check).toBe('INV-removed-race');
    const schedule = (run: number): StrategySchedule => ({ strategy: 'pct', seed, run, depth: 3 });
    // Explore stops at its first failure: every run before it passes, and that one fails alike.
    for (let run = 0; run < found.run; run++) expect(runStrategySchedule(smallRace, schedule(run), { mutant }).failure).toBeNull();
    expect(runStrategySchedule(smallRace, schedule(found.run), { mutant }).failure?.check).toBe(found.check);
    // The correct kernel passes the same run.
    expect(runStrategySchedule(smallRace, schedule(found.run)).failure).toBeNull();
  });

  for (const strategy of ['random', 'swarm'] as const) {
    it(`${strategy}: runs i = 0 … 5 visit the states and end as explore's batch runs do`, () => {
      const seed = 7;
      const indices = [0, 1, 2, 3, 4, 5];
      const batch = runBatch({ scenario: smallRace, seed, strategy, pct: { depth: 3, length: 1 }, indices, mutant });
      for (const b of batch) {
        const r = runStrategySchedule(smallRace, { strategy, seed, run: b.index }, { mutant });
        expect(r.failure).toEqual(b.failure);
        expect([...new Set(r.hashes)]).toEqual(b.hashes);
      }
      // The runs differ from each other (each has its own schedule seed).
      expect(new Set(batch.map((b) => b.hashes.length)).size).toBeGreaterThan(1);
    });
  }

  it('names the explore command that replays a run (runs 0 … i, PCT with its depth)', () => {
    expect(exploreCommand({ strategy: 'pct', seed: 5, run: 9, depth: 2 }, 'c.json', mutant)).toBe(
      'kprobesim explore c.json --strategy pct --depth 2 --seed 5 --runs 10 --mutant disarm-without-sync',
    );
    expect(exploreCommand({ strategy: 'swarm', seed: 0, run: 0 }, 'c.json')).toBe('kprobesim explore c.json --strategy swarm --seed 0 --runs 1');
  });
});

describe('strategyScheduleArbitrary', () => {
  it('draws every strategy, and only those asked for', () => {
    const drawn = new Set(fc.sample(strategyScheduleArbitrary(), { numRuns: 200, seed: 1 }).map((s) => s.strategy));
    expect([...drawn].sort()).toEqual(['pct', 'preemptions', 'random', 'swarm']);
    const only = fc.sample(strategyScheduleArbitrary({ strategies: ['pct'], maxDepth: 2 }), { numRuns: 50, seed: 1 });
    expect(only.every((s) => s.strategy === 'pct' && s.depth >= 1 && s.depth <= 2)).toBe(true);
  });

  it('shrinks towards readable schedules: a failing PCT schedule to run 0, seed 0 and the least depth that fails', () => {
    // A stand-in for "fails whenever PCT has a change point" (depth ≥ 2): the shrunk value is the simplest such schedule.
    const out = fc.check(
      fc.property(strategyScheduleArbitrary({ strategies: ['pct'] }), (s) => s.strategy !== 'pct' || s.depth < 2),
      { seed: 3 },
    );
    expect(out.counterexample?.[0]).toEqual({ strategy: 'pct', seed: 0, run: 0, depth: 2 });
  });

  it('shrinks a preemption list to the preemptions a failure needs', () => {
    // "Fails" when some preemption falls at decision 100 or later: one preemption is left, at 100.
    const out = fc.check(
      fc.property(strategyScheduleArbitrary({ strategies: ['preemptions'], cpus: 2 }), (s) => s.strategy !== 'preemptions' || s.preemptions.every((p) => p.at < 100)),
      { seed: 3 },
    );
    expect(out.counterexample?.[0]).toEqual({ strategy: 'preemptions', seed: 0, preemptions: [{ at: 100, cpu: 0, switch_to: null }] });
  });
});
