import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { executeRun } from '../src/explore/execute.ts';
import { opaqueReason } from '../src/explore/visibility.ts';
import { analyseC, CLOCKED_NATIVES } from '../src/explore/visibility-c.ts';
import type { LoggedEvent } from '../src/model/events.ts';
import { createSetup } from '../src/model/setup.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { forcedStrategy } from '../src/scheduler/strategies.ts';
import { bounded, opens, pair, SLOT } from './explore-por-fixtures.ts';
import { COUNTER } from './kcsan-fixtures.ts';

// Partial-order reduction on scenarios with C modules (src/explore/visibility.ts, "Runs with C
// modules"; docs/explore.md "Preempting only where it can matter"). The reduction must lose no
// failure and no final state: a preemption-bounded exhaustive search (the shape of `explore
// --strategy dfs`, written apart from src/explore/dfs.ts) finds the same failure checks and the
// same set of final states with the reduction as without, in fewer runs.
// (Final states and the search: ./explore-por-fixtures.ts.)

/**
 * The preemption bound: 1 in the suite (the search without the reduction is what costs: thousands
 * of runs at bound 2); `POR_MODULES_BOUND=2 npx vitest run test/explore-por-modules.test.ts`
 * checks the same at bound 2 (minutes).
 */
const BOUND = Number(process.env['POR_MODULES_BOUND'] ?? 1);

const CASES: readonly { name: string; scenario: () => Scenario; failures: readonly string[] }[] = [
  { name: 'racy.c: two tasks call bump() (unlocked counter++)', scenario: () => pair('racy.c', COUNTER, 'bump', 'bump'), failures: ['kcsan: KCSAN: data-race in bump / bump'] },
  { name: 'racy.c: two tasks call bump_locked() (under a spinlock)', scenario: () => pair('racy.c', COUNTER, 'bump_locked', 'bump_locked'), failures: [] },
  { name: 'slot.c: grab() reads what drop() frees', scenario: () => pair('slot.c', SLOT, 'grab', 'drop'), failures: ['kasan: KASAN', 'warn: kernel.warn'] },
  { name: 'count_opens.c: insmod, two opens hit the unlocked pre-handler, rmmod', scenario: () => opens(false), failures: ['kcsan: KCSAN: data-race in handler_pre / handler_pre'] },
];

describe(`POR on C-module scenarios: bound-${BOUND} exhaustive search loses no failure and no final state`, () => {
  for (const c of CASES) {
    it(c.name, () => {
      const scenario = c.scenario();
      const reduced = bounded(scenario, true, BOUND);
      const full = bounded(scenario, false, BOUND);
      console.log(`POR ${c.name}, bound ${BOUND}: ${reduced.runs} runs with the reduction, ${full.runs} without (${(reduced.runs / full.runs).toFixed(3)}); ${full.finals.size} final states`);
      expect([...full.failures].sort()).toEqual([...c.failures]);
      expect([...reduced.failures].sort()).toEqual([...full.failures].sort());
      expect([...reduced.finals].sort()).toEqual([...full.finals].sort());
      expect(reduced.runs).toBeLessThan(full.runs);
    }, BOUND > 1 ? 3_600_000 : 300_000);
  }
});

/** The events of each step of a run (a step opens with its sched.pick) and its branch flags. */
function steps(scenario: Scenario): { steps: LoggedEvent[][]; branch: readonly boolean[] } {
  const out: LoggedEvent[][] = [];
  const r = executeRun({ scenario, seed: 42, strategy: forcedStrategy('dfs', () => undefined), stopAtFailure: false, reduce: true, onEvent: (e) => (e.type === 'sched.pick' ? out.push([]) : out.at(-1)?.push(e)) });
  return { steps: out, branch: r.branch };
}

const setupOf = (scenario: Scenario) => createSetup(scenario, 42);

describe('which C steps are invisible', () => {
  it("slot.c: grab()'s loop over its locals runs on without a branch point; every access of module memory, and everything before the module is LIVE, is one", () => {
    const { steps: s, branch } = steps(pair('slot.c', SLOT, 'grab', 'drop'));
    const live = s.findIndex((st) => st.some((e) => e.type === 'module.live'));
    expect(live).toBeGreaterThan(0);
    // Until the init returned (register_kprobe's address is read there), every step is visible.
    for (let i = 1; i <= live; i++) expect(branch[i]).toBe(true);
    let local = 0;
    for (let i = 0; i + 1 < s.length; i++) {
      const cs = s[i]!.filter((e): e is Extract<LoggedEvent, { type: 'c.step' }> => e.type === 'c.step');
      if (cs.some((e) => e.acc.length > 0)) expect(branch[i + 1], `step ${i}: ${JSON.stringify(cs)}`).toBe(true);
      if (s[i]!.length > 0 && s[i]!.every((e) => e.type === 'c.step' && e.acc.length === 0 && e.ctx === 'task') && !branch[i + 1]) local++;
    }
    // i = 0, sum = 0; three rounds of the test, sum += i, i++ and the jump; the last test.
    expect(local).toBeGreaterThanOrEqual(12);
  });

  it("count_opens.c: the pre-handler's C steps are visible (no reference keeps a handler's module loaded), the kernel's instructions between are not", () => {
    const { steps: s, branch } = steps(opens(false));
    let handler = 0;
    let kernel = 0;
    for (let i = 0; i + 1 < s.length; i++) {
      if (s[i]!.some((e) => e.type === 'c.step' && e.ctx === 'handler')) {
        handler++;
        expect(branch[i + 1]).toBe(true);
      }
      if (s[i]!.length === 1 && s[i]![0]!.type === 'insn.exec' && !branch[i + 1]) kernel++;
    }
    expect(handler).toBeGreaterThanOrEqual(2);
    expect(kernel).toBeGreaterThan(50);
  });

  it('a module that takes the address of a local has no invisible C step (the address could reach another CPU)', () => {
    const code = SLOT.replace('int i, sum = 0;', 'int i, sum = 0;\n\tint *q = &sum;').replace('seen = READ_ONCE(*p) + sum;', 'seen = READ_ONCE(*p) + *q;');
    const scenario = pair('slot.c', code, 'grab', 'drop');
    expect(analyseC(setupOf(scenario).c!).framesEscape).toBe(true);
    const { steps: s, branch } = steps(scenario);
    for (let i = 0; i + 1 < s.length; i++) if (s[i]!.some((e) => e.type === 'c.step')) expect(branch[i + 1]).toBe(true);
  });
});

describe('runs that stay opaque (every step visible), and why', () => {
  const variant = (from: string, to: string) => pair('slot.c', SLOT.replace('#include <linux/slab.h>', '#include <linux/slab.h>\n#include <linux/jiffies.h>\n#include <linux/random.h>').replace(from, to), 'grab', 'drop');
  const reason = (scenario: Scenario) => {
    const setup = setupOf(scenario);
    return opaqueReason(setup, setup.c === undefined ? null : analyseC(setup.c));
  };
  it('none for the module scenarios above', () => {
    expect(reason(pair('slot.c', SLOT, 'grab', 'drop'))).toBeNull();
    expect(reason(opens(true))).toBeNull();
  });
  it('a module reading the clock or the random generator: their values follow the decision and event counts', () => {
    expect(reason(variant('seen = READ_ONCE(*p) + sum;', 'seen = READ_ONCE(*p) + sum + (int)jiffies;'))).toBe('grab reads jiffies (the clock)');
    expect(reason(variant('seen = READ_ONCE(*p) + sum;', 'seen = READ_ONCE(*p) + sum + (int)ktime_get_ns();'))).toBe('grab calls ktime_get_ns() (the clock or the random generator)');
    expect(reason(variant('seen = READ_ONCE(*p) + sum;', 'seen = READ_ONCE(*p) + get_random_u32();'))).toBe('grab calls get_random_u32() (the clock or the random generator)');
  });
  it('a probe registered outside __init code (its address is read from the struct then), but not one in init', () => {
    const probe = '#include <linux/kprobes.h>\nstatic struct kprobe kp = { .symbol_name = "__x64_sys_openat" };\n';
    const late = variant('static int seen;', `static int seen;\n${probe}`).modules![0]!;
    const withLate = pair('slot.c', late.code!.replace('kfree(p);', 'kfree(p);\n\tregister_kprobe(&kp);'), 'grab', 'drop');
    expect(reason(withLate)).toBe('drop (not __init code) names register_kprobe: a probe may be registered after the modules initialised');
    expect(reason(opens(false))).toBeNull();
  });
  it('a timer, a module loaded twice', () => {
    expect(reason({ ...pair('slot.c', SLOT, 'grab', 'drop'), timer: { period: 100 } })).toBe('a timer');
    const twice = pair('slot.c', SLOT, 'grab', 'drop');
    expect(reason({ ...twice, tasks: [...twice.tasks, { comm: 'again', program: [{ op: 'insmod', module: 'slot' }] }] })).toBe('slot is loaded 2 times');
  });
  it('CLOCKED_NATIVES names every native that reads the clock or the random generator (src/cexec/natives.ts)', () => {
    const src = readFileSync(new URL('../src/cexec/natives.ts', import.meta.url), 'utf8');
    const reading = [...src.matchAll(/^\s+(\w+): \(n[^)]*\) => .*n\.(now|random)\b/gm)].map((m) => m[1]!);
    expect(reading.length).toBeGreaterThanOrEqual(8);
    for (const name of reading) expect(CLOCKED_NATIVES.has(name), name).toBe(true);
  });
});
