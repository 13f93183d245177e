import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { executeRun } from '../src/explore/execute.ts';
import { scenarioArbitrary } from '../src/scenario/arbitrary.ts';
import type { Scenario } from '../src/scenario/types.ts';
import type { Choice } from '../src/scheduler/choices.ts';
import { forcedStrategy } from '../src/scheduler/strategies.ts';
import { bounded, finalDigest, pair } from '../test/explore-por-fixtures.ts';

// POR-equivalence (issue 12, docs/explore.md "Preempting only where it can matter"): the
// partial-order reduction loses no outcome. On small random 2-CPU scenarios, the set of final
// states that an exhaustive search reaches is the same with the reduction (preempt only at
// branch points) as without it (preempt anywhere).
//
// The exhaustive search here is the plain one, written apart from src/explore/dfs.ts so the two
// cannot share a mistake: stateful search by re-execution, no preemption bound; a run's
// alternatives at each decision past its last forced one are queued, and a run stops expanding
// at a decision whose (state fingerprint, last CPU, branch flag) an earlier run expanded (the
// fingerprint includes the clock and the step count, so such a point has the same future).
//
// Final states are compared without the clock: the fingerprint of the state with t, the step
// count and seq zeroed; a run halted by a BUG without its CPUs' unfinished private work
// (test/explore-por-fixtures.ts finalDigest: the reduction never cuts an invisible stretch, a
// halt does). Runs end by themselves (done, deadlock, a BUG): the step limit is raised
// so that no run is cut short, because a cut at a fixed decision count is where the two searches
// legitimately differ (the reduction runs a CPU's invisible steps together, so its prefixes of
// one length are a subset). Scenarios whose full search does not finish within BUDGET runs are
// skipped (fc.pre) and the test requires enough of them compared.

const BUDGET = 500;
/** Scenarios whose default run takes more decisions are too big to search exhaustively here. */
const MAX_DECISIONS = 70;

interface Search {
  readonly finals: Set<string>;
  readonly runs: number;
  readonly exhausted: boolean;
}

function exhaustive(scenario: Scenario, reduce: boolean): Search {
  const finals = new Set<string>();
  const expanded = new Set<string>();
  const stack: { at: number; choice: Choice }[][] = [[]];
  let runs = 0;
  while (stack.length > 0) {
    if (runs >= BUDGET) return { finals, runs, exhausted: false };
    const schedule = stack.pop()!;
    const forced = new Map(schedule.map((p) => [p.at, p.choice]));
    const r = executeRun({ scenario, seed: 7, strategy: forcedStrategy('dfs', (i) => forced.get(i)), menus: true, stopAtFailure: false, reduce });
    runs++;
    if (r.endReason === 'limit' || r.endReason === 'task_limit') return { finals, runs, exhausted: false };
    finals.add(finalDigest(r));
    let last = schedule.length === 0 ? null : r.decisions[schedule.at(-1)!.at]!.cpu;
    // Whether the step before only spun (a C module's spinlock): the default moves on from a yield.
    let yielded = schedule.length === 0 ? false : r.yields[schedule.at(-1)!.at]!;
    for (let i = schedule.length === 0 ? 0 : schedule.at(-1)!.at + 1; i < r.decisions.length; i++) {
      const key = `${r.hashes[i]}:${last}:${yielded}:${r.branch[i]}`;
      if (expanded.has(key)) break;
      expanded.add(key);
      const chosen = r.decisions[i]!;
      last = chosen.cpu;
      yielded = r.yields[i]!;
      if (!r.branch[i]) continue;
      for (const alt of r.menus![i]!) if (alt.cpu !== chosen.cpu || alt.switch_to !== chosen.switch_to) stack.push([...schedule, { at: i, choice: alt }]);
    }
  }
  return { finals, runs, exhausted: true };
}

/** Small 2-CPU scenarios: few operations, short handlers; room to finish (see above). */
// The timer is left out: with it every step is visible (the clock drives it), nothing to compare.
const small = scenarioArbitrary({ maxCpus: 2, maxSteps: 400 }).map((s): Scenario => {
  const { timer: _timer, ...rest } = s;
  return { ...rest, cpus: 2, max_steps: 100_000 };
});

function defaultLength(scenario: Scenario): number {
  return executeRun({ scenario, seed: 7, strategy: forcedStrategy('dfs', () => undefined), stopAtFailure: false }).decisions.length;
}

describe('POR-equivalence: the reduction keeps every reachable final state', () => {
  it('exhaustive search reaches the same final states (clock aside) with and without it, in no more runs', () => {
    let compared = 0;
    let reducedRuns = 0;
    let fullRuns = 0;
    fc.assert(
      fc.property(small, (scenario) => {
        // Two tasks at least (one alone has nothing to interleave), small enough to finish.
        fc.pre(scenario.tasks.length >= 2 && defaultLength(scenario) <= MAX_DECISIONS);
        const full = exhaustive(scenario, false);
        fc.pre(full.exhausted);
        const reduced = exhaustive(scenario, true);
        expect(reduced.exhausted).toBe(true);
        expect([...reduced.finals].sort()).toEqual([...full.finals].sort());
        expect(reduced.runs).toBeLessThanOrEqual(full.runs);
        compared++;
        reducedRuns += reduced.runs;
        fullRuns += full.runs;
      }),
      { numRuns: 5, maxSkipsPerRun: 200 },
    );
    expect(compared).toBeGreaterThanOrEqual(3);
    console.log(`POR-equivalence: ${compared} scenarios searched exhaustively, ${reducedRuns} runs with the reduction, ${fullRuns} without`);
    // The reduction should pay on these: fewer runs over all of them.
    expect(reducedRuns).toBeLessThan(fullRuns);
  }, 120_000);
});

// POR-equivalence on C modules (src/explore/visibility.ts, "Runs with C modules"): a module of two
// functions drawn from statements on locals (invisible steps: arithmetic, a small loop), plain
// and marked accesses of a shared global, a spinlock section and a WARN_ON; tasks a and b call
// one each. Each function ends by publishing its local result (WRITE_ONCE to a global of its
// own), so what the local steps computed is part of the final state. A preemption-bounded search
// (bound 1: without the reduction it is what costs) finds the same first failures (kcsan, warn)
// and the same final states with the reduction as without, in no more runs.
const STATEMENTS = fc.oneof(
  fc.integer({ min: 1, max: 5 }).map((k) => `x = x * 2 + ${k};`),
  fc.integer({ min: 1, max: 3 }).map((n) => `for (i = 0; i < ${n}; i++)\n\t\tx += i;`),
  fc.constant('x = x + shared;'),
  fc.constant('shared = x;'),
  fc.constant('x = x + READ_ONCE(shared);'),
  fc.constant('WRITE_ONCE(shared, x);'),
  fc.constant('spin_lock(&lock);\n\tshared = shared + x;\n\tspin_unlock(&lock);'),
  fc.integer({ min: 0, max: 4 }).map((k) => `WARN_ON(READ_ONCE(shared) == ${k});`),
);
const BODY = fc.array(STATEMENTS, { minLength: 1, maxLength: 3 });

function drawnModule(a: readonly string[], b: readonly string[]): string {
  const fn = (name: string, start: number, body: readonly string[], out: string) =>
    `noinline void ${name}(void)\n{\n\tint i, x = ${start};\n\n\t${body.join('\n\t')}\n\tWRITE_ONCE(${out}, x);\n}\n`;
  return [
    '#include <linux/kernel.h>',
    '#include <linux/module.h>',
    '#include <linux/spinlock.h>',
    '',
    'static int shared, out_a, out_b;',
    'static DEFINE_SPINLOCK(lock);',
    '',
    fn('fa', 1, a, 'out_a'),
    fn('fb', 2, b, 'out_b'),
    'static int __init drawn_init(void)\n{\n\treturn 0;\n}\n',
    'module_init(drawn_init);',
    'MODULE_LICENSE("GPL");',
    '',
  ].join('\n');
}

describe('POR-equivalence on C modules: the reduction keeps every failure and final state', () => {
  it('bound-1 search of two tasks calling drawn module functions: same failures, same final states, no more runs', () => {
    let reducedRuns = 0;
    let fullRuns = 0;
    fc.assert(
      fc.property(BODY, BODY, (a, b) => {
        const scenario = pair('drawn.c', drawnModule(a, b), 'fa', 'fb');
        const reduced = bounded(scenario, true, 1);
        const full = bounded(scenario, false, 1);
        expect([...reduced.failures].sort()).toEqual([...full.failures].sort());
        expect([...reduced.finals].sort()).toEqual([...full.finals].sort());
        expect(reduced.runs).toBeLessThanOrEqual(full.runs);
        reducedRuns += reduced.runs;
        fullRuns += full.runs;
      }),
      // More draws: POR_C_RUNS=40 POR_C_SEED=n npx vitest run property-tests/por.test.ts -t 'C modules'
      { numRuns: Number(process.env['POR_C_RUNS'] ?? 4), seed: Number(process.env['POR_C_SEED'] ?? 12) },
    );
    console.log(`POR-equivalence on C modules: ${reducedRuns} runs with the reduction, ${fullRuns} without`);
    expect(reducedRuns).toBeLessThan(fullRuns);
  }, 240_000);
});
