// An example property test over interleavings (README "Finding races"): vitest + fast-check,
// random scenarios × random schedules, and explore() for a search inside a property. Copy it
// into your project's tests and import from 'kprobesim' instead of '../src/index.ts'.
// This repository's vitest.config.ts includes it deliberately, so the example cannot rot.
//
// What the properties check: every failure detector of `kprobesim explore` (the INV-* invariants,
// kernel BUG/oops/WARN, deadlock, liveness) stays silent on the correct kernel whatever the
// interleaving; a planted bug (a mutant kernel) is found, so the check is not vacuous.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUILTIN_SCENARIOS, explore, runSchedule, runStrategySchedule, scenarioArbitrary, scheduleArbitrary, strategyScheduleArbitrary } from '../src/index.ts';

describe('interleavings of random scenarios (example)', () => {
  it('no schedule makes a failure on the correct kernel', () => {
    fc.assert(
      // Scenario and schedule are drawn independently, so fast-check shrinks both together: a
      // counterexample is one task, the probes it needs, and the few preemptions that matter.
      // A preemption that names a CPU the scenario lacks, or falls where it cannot, is skipped.
      fc.property(scenarioArbitrary({ maxCpus: 2 }), scheduleArbitrary({ cpus: 2, maxDecision: 400 }), (scenario, schedule) => {
        const run = runSchedule(scenario, schedule);
        // On failure, the message names the check (INV-…) and the rule it stands for.
        expect(run.failure?.message ?? null).toBeNull();
      }),
      { numRuns: 25 },
    );
  });

  it('schedules drawn through the exploration strategies (preemptions, random walk, PCT, swarm) make no failure either', () => {
    fc.assert(
      // A schedule is a preemption list or run i of `kprobesim explore --strategy S --seed N`
      // (PCT with its --depth); it shrinks towards fewer preemptions, run 0, seed 0, shallower PCT.
      // A failing one is replayed by `kprobesim explore FILE --strategy S --seed N --runs i+1`
      // (exploreCommand(schedule, FILE) prints it), which also shrinks it and writes its log.
      fc.property(scenarioArbitrary({ maxCpus: 2 }), strategyScheduleArbitrary({ cpus: 2 }), (scenario, schedule) => {
        expect(runStrategySchedule(scenario, schedule).failure?.message ?? null).toBeNull();
      }),
      { numRuns: 15 },
    );
  });

  it('explore() inside a property: a short PCT search of each random scenario finds nothing', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary({ maxCpus: 2 }), async (scenario) => {
        // out: null writes no failure logs; the report is returned as an object.
        const report = await explore(scenario, { strategy: 'pct', runs: 8, seed: 1, out: null });
        expect(report.failures.map((f) => f.message)).toEqual([]);
      }),
      { numRuns: 5 },
    );
  });

  it('a dfs search finds the planted removal race (INV-removed-race), shrunk to at most two preemptions', async () => {
    // disarm-without-sync: unregister restores the byte and unlinks the probe with no
    // text-patch sync in between, so a CPU that already trapped finds no probe (R55).
    const scenario = BUILTIN_SCENARIOS.get('unregister-race')!;
    const report = await explore(scenario, { strategy: 'dfs', runs: 30, seed: 42, mutant: 'disarm-without-sync', out: null });
    expect(report.failures.map((f) => f.check)).toEqual(['INV-removed-race']);
    // The race needs one preemption; the shrinker promises a short schedule, not the shortest.
    expect(report.failures[0]!.preemptions).toBeLessThanOrEqual(2);
  });
});
