import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runSchedule, scheduleArbitrary } from '../src/explore/arbitrary.ts';
import { executeRun } from '../src/explore/execute.ts';
import { explore } from '../src/explore/explore.ts';
import { mergeReports } from '../src/explore/merge.ts';
import { shrinkSchedule, SHRINK_RUNS, type Preemption } from '../src/explore/shrink.ts';
import { stateHash } from '../src/explore/state-hash.ts';
import type { KernelState } from '../src/model/state.ts';
import { forcedStrategy } from '../src/scheduler/strategies.ts';
import { smallRace } from '../test/explore-fixtures.ts';

// Properties of kprobesim explore (issue 12): shrinking keeps the failure and yields a 1-minimal
// schedule; state fingerprints are canonical; shards merge into the unsharded report.

const spec = { scenario: smallRace, seed: 42, mutant: 'disarm-without-sync' as const };

function run(preemptions: readonly Preemption[]) {
  const byIndex = new Map(preemptions.map((p) => [p.at, p.choice]));
  return executeRun({ ...spec, strategy: forcedStrategy('explore', (i) => byIndex.get(i)), menus: true, stopAtFailure: true });
}

/**
 * Schedules of the small race: a few preemptions anywhere, plus (often) CPU 0 at the decision
 * after one of CPU 1's traps, the ordering the removal race needs (INV-removed-race, R55).
 */
const schedules = fc
  .tuple(
    fc.array(fc.record({ at: fc.integer({ min: 0, max: 160 }), cpu: fc.integer({ min: 0, max: 1 }) }), { maxLength: 6 }),
    fc.option(fc.constantFrom(145, 55, 100), { nil: undefined }),
  )
  .map(([noise, race]) => {
    const all = [...noise, ...(race === undefined ? [] : [{ at: race, cpu: 0 }])];
    const byAt = new Map(all.map((p) => [p.at, { at: p.at, choice: { cpu: p.cpu, switch_to: null } }]));
    return [...byAt.values()].sort((a, b) => a.at - b.at);
  });

describe('shrinking a failing schedule', () => {
  it('keeps the failure (kind and check), never adds preemptions or decisions, and leaves a 1-minimal schedule', () => {
    let failing = 0;
    fc.assert(
      fc.property(schedules, (schedule) => {
        const original = run(schedule);
        if (original.failure === null) return;
        failing++;
        const shrunk = shrinkSchedule(spec, original.decisions.slice(0, original.failureAt), original.failure);
        expect(shrunk.record.failure?.check).toBe(original.failure.check);
        expect(shrunk.record.failure?.kind).toBe(original.failure.kind);
        expect(shrunk.preemptions.length).toBeLessThanOrEqual(shrunk.preemptionsBefore);
        expect(shrunk.record.failureAt).toBeLessThanOrEqual(original.failureAt);
        // The shrunk schedule fails the same way on its own, and deterministically.
        expect(run(shrunk.preemptions).failure).toEqual(shrunk.record.failure);
        // 1-minimal (within the shrink budget): without any one of its preemptions it no longer fails so.
        if (shrunk.runs < SHRINK_RUNS) {
          for (let i = 0; i < shrunk.preemptions.length; i++) {
            const fewer = run(shrunk.preemptions.filter((_, j) => j !== i));
            expect(fewer.failure?.check === original.failure.check).toBe(false);
          }
        }
      }),
      { numRuns: 30 },
    );
    // The generator must reach the race often enough for the property to say something.
    expect(failing).toBeGreaterThan(5);
  });
});

describe('state fingerprints', () => {
  it('are canonical: equal for the same data in any key order, as canonicalJson is', () => {
    const shuffle = (v: unknown, flip: boolean): unknown => {
      if (Array.isArray(v)) return v.map((x) => shuffle(x, flip));
      if (typeof v === 'object' && v !== null) {
        const entries = Object.entries(v).map(([k, x]) => [k, shuffle(x, !flip)] as const);
        return Object.fromEntries(flip ? entries.reverse() : entries);
      }
      return v;
    };
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.integer(), (extra, seq) => {
        const w = { seq: 0, ...extra } as unknown as KernelState;
        const moved = { ...(shuffle(w, true) as object), seq } as unknown as KernelState;
        expect(stateHash(moved)).toBe(stateHash(w));
      }),
      { numRuns: 200 },
    );
  });
});

describe('shards', () => {
  it('merge into the report of the unsharded exploration (runs, failures, everything but distinct_states)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.integer({ min: 0, max: 1000 }), async (count, keepGoing, seed) => {
        const opts = { strategy: 'portfolio' as const, runs: 90, seed, keepGoing, mutant: spec.mutant, out: null };
        const whole = await explore(smallRace, opts);
        const shards = [];
        for (let index = 0; index < count; index++) shards.push(await explore(smallRace, { ...opts, shard: { index, count } }));
        const merged = mergeReports(shards, shards.map((_, i) => `shard${i}`));
        expect({ ...merged, distinct_states: 0 }).toEqual({ ...whole, distinct_states: 0 });
        expect(merged.distinct_states).toBeGreaterThanOrEqual(whole.distinct_states);
      }),
      { numRuns: 4 },
    );
  });
});

describe('scheduleArbitrary', () => {
  it('lets fast-check shrink a failing interleaving to the one preemption the removal race needs (R55)', () => {
    const property = fc.property(scheduleArbitrary({ cpus: 2, maxDecision: 200, maxPreemptions: 6 }), (schedule) => {
      return runSchedule(smallRace, schedule, { seed: 42, mutant: 'disarm-without-sync' }).failure === null;
    });
    const out = fc.check(property, { numRuns: 2000 });
    expect(out.failed).toBe(true);
    const [schedule] = out.counterexample!;
    // CPU 0 right after one of CPU 1's traps: a single preemption, which shrinking keeps.
    expect(schedule).toHaveLength(1);
    expect(schedule[0]!.cpu).toBe(0);
    expect(runSchedule(smallRace, schedule, { seed: 42, mutant: 'disarm-without-sync' }).failure?.check).toBe('INV-removed-race');
  });
});
