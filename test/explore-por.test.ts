import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvariantDetector } from '../src/explore/detectors.ts';
import { executeRun } from '../src/explore/execute.ts';
import { explore } from '../src/explore/explore.ts';
import { MUTANT_INFO, MUTANTS } from '../src/kprobes/mutants.ts';
import { foldLog } from '../src/replay/fold-log.ts';
import { replayLog } from '../src/replay/replay.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { forcedStrategy } from '../src/scheduler/strategies.ts';
import { cliInProcess } from './cli-in-process.ts';
import { tempDir } from './explore-fixtures.ts';

// Issue 12's done-criterion with partial-order reduction (src/explore/visibility.ts): in
// unregister-race CPU 1's handler spins 400 steps per hit, and the removal race needs CPU 0's
// unregister exactly between CPU 1's int3 (kprobe.trap) and its lookup (kprobe.hit). Preempting
// only after visible steps leaves a few dozen places to preempt instead of thousands.

const race = BUILTIN_SCENARIOS.get('unregister-race')!;

describe('branch points of unregister-race', () => {
  it('a spin or an instruction at an unprobed address is no branch point; the decision after a trap is', () => {
    const events: { type: string }[] = [];
    const r = executeRun({ scenario: race, seed: 42, strategy: forcedStrategy('dfs', () => undefined), stopAtFailure: true, reduce: true, onEvent: (e) => events.push(e) });
    // The events of each decision's step (the sched.pick opens it).
    const steps: string[][] = [];
    for (const e of events) {
      if (e.type === 'sched.pick') steps.push([]);
      else steps.at(-1)?.push(e.type);
    }
    // Right after CPU 1's int3 (before its kprobe_int3_handler lookup) a preemption can matter.
    let traps = 0;
    for (let i = 1; i < r.decisions.length; i++) {
      if (steps[i - 1]!.includes('kprobe.trap')) {
        traps++;
        expect(r.branch[i]).toBe(true);
      }
    }
    expect(traps).toBe(6);
    const spins = steps.filter((s) => s.length === 1 && s[0] === 'handler.spin').length;
    const branches = r.branch.filter((b) => b).length;
    // 6 hits × 400 spins; the branch points are a few per hit (trap, hit, enter, printk, exit, ss…).
    expect(spins).toBeGreaterThan(2000);
    expect(branches).toBeLessThan(100);
    expect(branches).toBeGreaterThan(6 * 5);
  });
});

describe('kprobesim explore unregister-race --mutant disarm-without-sync (the done-criterion)', () => {
  it('the default strategy finds INV-removed-race, shrinks it to one preemption and writes a log that replay reproduces', async () => {
    const out = tempDir();
    const report = join(out, 'report.json');
    const r = await cliInProcess(['explore', 'unregister-race', '--mutant', 'disarm-without-sync', '--out', out, '--report', report]);
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/INV-removed-race: cpu 1 trapped at 0x[0-9a-f]+ and found no probe \(R55\)/);
    const json = JSON.parse(readFileSync(report, 'utf8')) as { runs: number; failures: { check: string; preemptions: number; log: string }[] };
    expect(json.failures).toHaveLength(1);
    const f = json.failures[0]!;
    expect(f.check).toBe('INV-removed-race');
    // The race needs one ordering away from the default schedule: CPU 0 right after the trap.
    expect(f.preemptions).toBe(1);
    // Found well inside the default budget of 1000 runs.
    expect(json.runs).toBeLessThan(500);
    const replay = await replayLog(f.log);
    expect(replay.kind).toBe('identical');
    const inv = new InvariantDetector();
    await foldLog(f.log, [inv]);
    expect(inv.found?.check).toBe('INV-removed-race');
  }, 60_000);

  it('dfs finds it within 30 runs; without the reduction it does not within 60', async () => {
    const reduced = await explore(race, { strategy: 'dfs', runs: 30, seed: 42, mutant: 'disarm-without-sync', out: null });
    expect(reduced.failures.map((f) => f.check)).toEqual(['INV-removed-race']);
    const plain = await explore(race, { strategy: 'dfs', runs: 60, seed: 42, mutant: 'disarm-without-sync', out: null, reduce: false });
    expect(plain.failures).toEqual([]);
  }, 60_000);
});

describe('every mutant is found on its scenario, and the correct kernel passes the same budget (dfs, 30 runs)', () => {
  for (const name of MUTANTS) {
    const info = MUTANT_INFO[name];
    it(`${name} on ${info.scenario}: ${info.caughtBy}`, async () => {
      const scenario = BUILTIN_SCENARIOS.get(info.scenario)!;
      const bad = await explore(scenario, { strategy: 'dfs', runs: 30, seed: 42, mutant: name, out: null });
      expect(bad.failures.map((f) => f.check)).toEqual([info.caughtBy]);
      const good = await explore(scenario, { strategy: 'dfs', runs: 30, seed: 42, out: null });
      expect(good.failures).toEqual([]);
      expect(good.runs).toBeLessThanOrEqual(30);
    }, 60_000);
  }
  it('and on unregister-race', async () => {
    const good = await explore(race, { strategy: 'dfs', runs: 30, seed: 42, out: null });
    expect(good.failures).toEqual([]);
  }, 60_000);
});
