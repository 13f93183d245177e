import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cModuleSpec, withCModules } from '../src/cexec/index.ts';
import { moduleScenario } from '../src/cli/module-flags.ts';
import { executeRun, livenessBound, type RunRecord } from '../src/explore/execute.ts';
import { explore } from '../src/explore/explore.ts';
import { preemptionsOf } from '../src/explore/shrink.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import type { Choice } from '../src/scheduler/choices.ts';
import { defaultIndex, forcedStrategy, pctStrategy, swarmStrategy, type Strategy } from '../src/scheduler/strategies.ts';

// A spin loop is a yield (CHESS, PCT, Coyote). A CPU spinning on a spinlock another CPU holds can
// always step (src/cexec/natives.ts spinLock: `c.spin`, the step is retried), so a schedule that
// lets "the highest priority" or "the CPU that stepped last" run on spins until the fair liveness
// phase near the step limit while the holder never runs. executeRun records such a step
// (RunRecord.yields) and tells the strategy (Strategy.yielded): PCT drops the spinner to its
// lowest priority, swarm leaves it out of the next decision, the default schedule moves on to the
// next CPU, and that switch is no preemption.

/** A module of examples/modules/races/ as `explore --module FILE` loads it (2 CPUs, the default workload). */
function raceModule(file: string, maxSteps = 30_000): Scenario {
  const rel = `examples/modules/races/${file}`;
  return validateScenario(withCModules({ ...moduleScenario('explore', [rel]), max_steps: maxSteps }, [cModuleSpec(rel, readFileSync(rel, 'utf8'))]));
}

// max_steps 30,000: a run that spins to the fair phase makes at least 30,000 − livenessBound =
// 20,000 decisions; one without contention makes ~900 (the default workload's opens), so a run
// that yields and ends stays far below SPUN.
const spinlock = raceModule('counter_spinlock.c');
const SPUN = spinlock.max_steps - livenessBound(spinlock);
const WELL_UNDER = 2_000;

function run(strategy: Strategy, extra: { menus?: boolean; reduce?: boolean } = {}): RunRecord {
  return executeRun({ scenario: spinlock, seed: 42, strategy, stopAtFailure: false, ...extra });
}

/** The strategy without its `yielded` (the behaviour before spins were yields). */
function deaf(s: Strategy): Strategy {
  return { name: s.name, choose: (c, t) => s.choose(c, t), ...(s.follow ? { follow: (c: Choice) => s.follow!(c) } : {}) };
}

const theDefault = (): Strategy => forcedStrategy('dfs', () => undefined);
/** k as explore computes it for PCT: the default schedule's branch points. */
const k = run(theDefault(), { reduce: true }).branch.filter((b) => b).length;

function endsClean(r: RunRecord): void {
  expect(r.failure).toBeNull();
  expect(r.endReason).toBe('done');
  expect(r.decisions.length).toBeLessThan(WELL_UNDER);
}

describe('a spin on a spinlock is a yield (counter_spinlock.c)', () => {
  it('the default schedule: CPU 0 opens first; the run ends without a spin', () => {
    const r = run(theDefault());
    endsClean(r);
    expect(r.yields).toHaveLength(r.decisions.length);
    expect(r.yields.some((y) => y)).toBe(false);
  });

  // Seeds found by scanning 1..80 for runs that spin (contention on the lock is rare: the
  // critical section is a few steps of a ~900-decision run): pct seeds 20 and 36 (of 13 in
  // 1..80), swarm seeds 17 and 57 (of 2 in 1..60).
  it.each([20, 36])('PCT seed %i: its spinner outranks the holder; it yields and the run ends; without the yield it spins to the fair phase', (seed) => {
    const r = run(pctStrategy(seed, { depth: 3, length: k }), { reduce: true });
    expect(r.yields.filter((y) => y).length).toBeGreaterThan(0);
    endsClean(r);
    const before = run(deaf(pctStrategy(seed, { depth: 3, length: k })), { reduce: true });
    expect(before.decisions.length).toBeGreaterThanOrEqual(SPUN);
  });

  it.each([17, 57])('swarm seed %i spins, leaves the spinner out once, and ends', (seed) => {
    const r = run(swarmStrategy(seed));
    expect(r.yields.some((y) => y)).toBe(true);
    endsClean(r);
    // After every yield the next decision is another CPU's (there are two CPUs, both busy).
    r.yields.forEach((y, i) => {
      if (y) expect(r.decisions[i + 1]!.cpu).not.toBe(r.decisions[i]!.cpu);
    });
  });

  describe('a spin-then-release schedule (CPU 1 brought in while CPU 0 holds the lock)', () => {
    // Where CPU 0 takes the lock in the default schedule: the decision whose step posts the first
    // c.preempt +1 (spin_lock disables preemption); forcing CPU 1 in just after it makes CPU 1 reach
    // the handler's spin_lock while CPU 0 is inside.
    let picks = -1;
    let takenAt = -1;
    executeRun({
      scenario: spinlock,
      seed: 42,
      strategy: theDefault(),
      stopAtFailure: false,
      onEvent: (e) => {
        if (e.type === 'sched.pick') picks++;
        if (e.type === 'c.preempt' && e.delta > 0 && takenAt < 0) takenAt = picks;
      },
    });
    const at = takenAt + 1;
    const menu = run(theDefault(), { menus: true }).menus![at]!;
    const bringIn = menu.find((c) => c.cpu === 1)!;
    const r = run(
      forcedStrategy('dfs', (i) => (i === at ? bringIn : undefined)),
      { menus: true },
    );

    it('CPU 1 spins, the default switches back to the holder, and the run ends', () => {
      expect(takenAt).toBeGreaterThan(0);
      const spins = r.yields.flatMap((y, i) => (y ? [i] : []));
      expect(spins.length).toBeGreaterThan(0);
      for (const i of spins) {
        expect(r.decisions[i]!.cpu).toBe(1);
        expect(r.decisions[i + 1]!.cpu).toBe(0);
      }
      endsClean(r);
    });

    it('has one preemption: bringing CPU 1 in; the switch away from the spinner is free', () => {
      expect(preemptionsOf(r).map((p) => p.at)).toEqual([at]);
      // Counted as before (the spinner "goes on while it can"), the switch back is a second one.
      let last: number | null = null;
      let old = 0;
      r.decisions.forEach((c, i) => {
        const m = r.menus![i]!;
        const d = m[defaultIndex(m, last)]!;
        if (d.cpu !== c.cpu || d.switch_to !== c.switch_to) old++;
        last = c.cpu;
      });
      expect(old).toBe(2);
    });
  });

  it('defaultIndex after a yield: the next CPU after the spinner, wrapping; the spinner only when alone', () => {
    const step = (cpu: number): Choice => ({ cpu, switch_to: null }) as Choice;
    const sw = (cpu: number, pid: number): Choice => ({ cpu, switch_to: pid }) as Choice;
    const menu = [step(0), step(1), sw(1, 104), step(2)];
    expect(defaultIndex(menu, 1)).toBe(1);
    expect(defaultIndex(menu, 1, true)).toBe(3);
    expect(defaultIndex(menu, 2, true)).toBe(0);
    expect(defaultIndex([sw(0, 7), step(1)], 1, true)).toBe(0);
    expect(defaultIndex([step(1), sw(1, 104)], 1, true)).toBe(0);
  });

  it('explore finds nothing under every strategy, and the same seed gives the same report', async () => {
    for (const strategy of ['pct', 'swarm', 'random', 'portfolio', 'dfs'] as const) {
      const rep = await explore(spinlock, { strategy, runs: 12, seed: 42, out: null });
      expect(rep.failures, strategy).toEqual([]);
      expect(rep.runs).toBe(12);
    }
    const a = await explore(spinlock, { strategy: 'portfolio', runs: 9, seed: 7, out: null });
    const b = await explore(spinlock, { strategy: 'portfolio', runs: 9, seed: 7, out: null });
    expect(a).toEqual(b);
  });
});

describe('the races of examples/modules/races/ are still found', () => {
  it.each(['pct', 'random', 'swarm', 'portfolio', 'dfs'] as const)('counter_unlocked.c under %s: kcsan on the first run', async (strategy) => {
    const rep = await explore(raceModule('counter_unlocked.c'), { strategy, runs: 5, seed: 42, out: null });
    expect(rep.failures.map((f) => f.kind)).toEqual(['kcsan']);
    expect(rep.runs).toBe(1);
  });

  // Budgets from the README's strategy table (medians over seeds 1..10): free_while_in_use.c
  // needs ~5 PCT runs, check_then_set.c ~29 random ones (seed 1 needs more than 120; seed 2, 20).
  // Neither module takes a spinlock, so no run of theirs yields: their schedules are unchanged.
  it('free_while_in_use.c under pct: kasan', async () => {
    const rep = await explore(raceModule('free_while_in_use.c'), { strategy: 'pct', runs: 60, seed: 1, out: null });
    expect(rep.failures.map((f) => f.kind)).toEqual(['kasan']);
  });

  it('check_then_set.c under random: warn', async () => {
    const rep = await explore(raceModule('check_then_set.c'), { strategy: 'random', runs: 60, seed: 2, out: null });
    expect(rep.failures.map((f) => f.kind)).toEqual(['warn']);
  });
});
