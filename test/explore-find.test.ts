import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvariantDetector, KernelBugDetector } from '../src/explore/detectors.ts';
import { explore } from '../src/explore/explore.ts';
import { foldLog } from '../src/replay/fold-log.ts';
import { replayLog } from '../src/replay/replay.ts';
import { smallRace, tempDir } from './explore-fixtures.ts';

// kprobesim explore finds the removal race of a planted bug (disarm-without-sync: R18/R55's
// disarm → sync → unlink loses its sync), shrinks it, and writes a log that replays and fails
// again; on the correct kernel the same budget finds nothing.

const MUTANT = 'disarm-without-sync' as const;

describe('finding the removal race (INV-removed-race, R55)', () => {
  it('pct and dfs find it within 300 runs; random does not within 30', async () => {
    const pct = await explore(smallRace, { strategy: 'pct', runs: 300, seed: 42, mutant: MUTANT, out: null });
    expect(pct.failures).toHaveLength(1);
    expect(pct.failures[0]!.check).toBe('INV-removed-race');
    expect(pct.runs).toBe(pct.failures[0]!.run + 1);
    const dfs = await explore(smallRace, { strategy: 'dfs', runs: 300, seed: 42, mutant: MUTANT, out: null });
    expect(dfs.failures.map((f) => f.check)).toEqual(['INV-removed-race']);
    // dfs finds it with one preemption: the decision after CPU 1's trap goes to CPU 0.
    expect(dfs.failures[0]!.preemptions).toBe(1);
    // The uniform walk needs the trap and CPU 0's disarm to line up by chance (see the fixture).
    const random = await explore(smallRace, { strategy: 'random', runs: 30, seed: 42, mutant: MUTANT, out: null });
    expect(random.failures).toEqual([]);
    expect(random.runs).toBe(30);
  });

  it('finds nothing on the correct kernel with the same budget', async () => {
    for (const strategy of ['pct', 'dfs'] as const) {
      const r = await explore(smallRace, { strategy, runs: 300, seed: 42, out: null });
      expect(r.failures, strategy).toEqual([]);
    }
  });

  it('shrinks to a schedule no longer than the original, whose log replays identically and fails again', async () => {
    const out = tempDir();
    const r = await explore(smallRace, { strategy: 'pct', runs: 300, seed: 42, mutant: MUTANT, out });
    const f = r.failures[0]!;
    expect(f.decisions).toBeLessThanOrEqual(f.decisions_before_shrinking);
    expect(f.preemptions).toBeLessThanOrEqual(f.preemptions_before_shrinking);
    expect(f.preemptions).toBe(f.schedule.length);
    // The race needs CPU 0 to run right after CPU 1's trap: one preemption at least, and the
    // shrinker keeps only what the failure needs.
    expect(f.preemptions).toBe(1);
    expect(f.log).toBe(join(out, `small-unregister-race-pct-${MUTANT}-seed42-run${f.run}.jsonl`));
    const replay = await replayLog(f.log!);
    expect(replay.kind).toBe('identical');
    // Folding the log through the same detectors shows the same failure at the same seq.
    const inv = new InvariantDetector();
    const bug = new KernelBugDetector();
    await foldLog(f.log!, [inv, bug]);
    expect(inv.found?.check).toBe('INV-removed-race');
    expect(inv.found?.message).toBe(f.message);
    // The kernel itself oopses on the lost trap (v6.3+: no recovery, R54).
    expect(bug.found?.check).toBe('kernel.oops');
  });

  it('shrinking is deterministic: the same exploration gives the same failure and schedule', async () => {
    const a = await explore(smallRace, { strategy: 'portfolio', runs: 300, seed: 7, mutant: MUTANT, out: null });
    const b = await explore(smallRace, { strategy: 'portfolio', runs: 300, seed: 7, mutant: MUTANT, out: null });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
});
