import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Failure } from '../src/explore/detectors.ts';
import { runStrategySchedule, strategyScheduleArbitrary } from '../src/explore/strategy-schedule.ts';
import type { InvariantId } from '../src/monitors/invariants.ts';
import { scenarioArbitrary } from '../src/scenario/arbitrary.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { invariantProperty, SCHEDULE_RUNS, scheduleReporter } from './helpers.ts';

// Each invariant of design.md on random (and built-in) scenarios × schedules drawn through the exploration
// strategies (src/explore/strategy-schedule.ts): a preemption list away from the default schedule,
// or a run of the random walk, of PCT (depth 1–4, change points over the default run's branch
// points) or of swarm, as `kprobesim explore` makes them, watched by every failure detector of
// explore (the INV-* monitors, kernel BUG/oops/WARN, deadlock, liveness). A failure shrinks the
// scenario and the schedule (towards fewer preemptions, run 0, seed 0, a shallower PCT) and prints
// the scenario file and the explore command that replays it. The monitors themselves are tested
// against hand-made violating logs in test/monitors.test.ts; property-tests/mutants.test.ts runs
// these same properties against each planted-bug kernel and requires each to be caught. With the
// built-ins mixed in, these 30 draws catch every mutant too (measured, the mutant planted locally):
// no-grace-period at draw 23, shrunk to one preemption; the removal races at 25; arm-before-insert
// at 1 and no-reenter-check at 4, both shrunk to the default schedule.

const sleepBug = (f: Failure): boolean => f.check === 'bug.atomic_sleep';

/**
 * Random scenarios, and one draw in four a built-in scenario made to exercise the invariant (its
 * race, its pool, its aggregate): random scenarios rarely draw a trap in flight at an
 * unregistration, or another probe keeping the point armed (mutants.test.ts measured it).
 */
function scenarios(builtins: readonly string[], sleeping: boolean): fc.Arbitrary<Scenario> {
  const random = scenarioArbitrary({ sleepingHandlers: sleeping });
  if (builtins.length === 0) return random;
  const own = fc.constantFrom(...builtins.map((name) => BUILTIN_SCENARIOS.get(name)!));
  return fc.oneof({ weight: 3, arbitrary: random }, { weight: 1, arbitrary: own });
}

function holds(inv: InvariantId, builtins: readonly string[], sleeping = false): void {
  fc.assert(invariantProperty(scenarios(builtins, sleeping), { check: inv, ...(sleeping ? { expected: sleepBug } : {}) }), {
    numRuns: SCHEDULE_RUNS,
    reporter: scheduleReporter(),
  });
}

describe('invariants on random and built-in scenarios × exploration schedules (preemptions, random walk, PCT, swarm)', () => {
  it('INV-status: kprobe_status moves only along the kernel graph; no silent continue in REENTER (R50, R51)', () => holds('INV-status', ['printk-recursion']));
  it('INV-nmissed: hits = handler runs + nmissed + skipped; no handler runs nested (R50, R52, R53)', () => holds('INV-nmissed', ['printk-recursion', 'kretprobe-pool']));
  // A sleeping handler's BUG ("scheduling while atomic") is the expected outcome and stops the
  // run there; what INV-preempt forbids is a switch instead of it, or a status without preemption off.
  it('INV-preempt: non-idle kprobe status ⇒ preempt_count > 0; a sleep there is a BUG, not a switch (R59, R61)', () => holds('INV-preempt', ['sleep-in-handler'], true));
  it('INV-unregister: no handler starts after unregister_kprobe returned; none runs at its return (R65, R67)', () => holds('INV-unregister', ['unregister-shared-point', 'unregister-busy', 'unregister-race']));
  it('INV-removed-race: a kprobe breakpoint trap always finds its probe (R18, R55)', () => holds('INV-removed-race', ['unregister-busy', 'unregister-race']));
  it('INV-mutex: register/unregister critical sections never overlap (R16)', () => holds('INV-mutex', ['mutex-contention']));
  it('INV-text: the breakpoint is armed only where a probe is, and gone when the last one leaves (R18, R27)', () => holds('INV-text', ['default', 'optprobes-teardown']));
  it('INV-disabled: no handler runs for a trap taken after disable_kprobe returned (R37, R170)', () => holds('INV-disabled', ['enable-disable']));
  it('INV-kretprobe: instances ≤ maxactive, each taken and given back once, handlers for their own call (R72-R80)', () => holds('INV-kretprobe', ['kretprobe-pool']));
  it("INV-aggr-order: one point's children run newest-registered first, pre and post (R9, R10, R11)", () => holds('INV-aggr-order', ['aggregate', 'unregister-shared-point']));

  it('INV-progress: under a fair schedule after any exploration schedule, every run finishes: no deadlock, every kprobes call and grace period returned', () => {
    // Long enough that the strategies' phase never cuts a run short: the fair liveness phase
    // (10,000 decisions) starts only after 190,000 decisions of the drawn schedule.
    fc.assert(
      fc.property(scenarioArbitrary({ maxSteps: 200_000 }), strategyScheduleArbitrary(), (scenario, schedule) => {
        const run = runStrategySchedule(scenario, schedule);
        expect(run.failure?.message ?? null).toBeNull();
        expect(run.endReason).toBe('done');
        expect(run.world.kprobes.calls).toEqual({});
        expect(run.world.kprobes.mutex).toEqual({ owner: null, waiters: [] });
        expect(run.world.tasks).toEqual([]);
      }),
      { numRuns: SCHEDULE_RUNS, reporter: scheduleReporter() },
    );
  });
});
