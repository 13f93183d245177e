import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scenarioArbitrary, seedArbitrary } from '../src/scenario/arbitrary.ts';
import { formatCounterexample } from '../src/index.ts';
import { parseScenarioText } from '../src/scenario/load.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { counterexampleNote, runInMemory } from './helpers.ts';

// A failing property must end in a counterexample a user can read and run: a small scenario
// (scenarioArbitrary shrinks well), printed as plain scenario JSON, which `kprobesim run FILE
// --seed S` reproduces. The property used is a false one, "nmissed is always 0" (R50: a hit
// while a kprobe runs on that CPU is a miss), so it fails on purpose.

const nmissedIsAlwaysZero = fc.asyncProperty(scenarioArbitrary(), seedArbitrary, async (scenario, seed) => {
  const { result } = await runInMemory(scenario, seed);
  return Object.values(result.state.stats).every((st) => st.nmissed === 0);
});

const missed = async (scenario: Scenario, seed: number) => {
  const { result } = await runInMemory(scenario, seed);
  return Object.values(result.state.stats).reduce((n, st) => n + st.nmissed, 0);
};

/** Every value in a tree is plain JSON data: no undefined, ordinary prototypes only. */
function isPlainJson(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return true;
  if (Array.isArray(v)) return v.every(isPlainJson);
  if (typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return false;
  return Object.values(v).every(isPlainJson);
}

describe('scenarioArbitrary counterexamples', () => {
  it('values are plain JSON scenarios: no undefined fields, ordinary prototypes', () => {
    for (const s of fc.sample(scenarioArbitrary({ sleepingHandlers: true }), { seed: 5, numRuns: 300 })) {
      expect(isPlainJson(s)).toBe(true);
      expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    }
  });

  for (const seed of [20261122, 99, 31337]) {
    it(`a false "nmissed is always 0" shrinks to one task and at most two probes, which reproduce the failure (fast-check seed ${seed})`, async () => {
      const out = await fc.check(nmissedIsAlwaysZero, { seed, numRuns: 200 });
      expect(out.failed).toBe(true);
      const [scenario, runSeed] = out.counterexample!;
      expect(scenario.tasks.length).toBeLessThanOrEqual(1);
      expect(scenario.probes.length).toBeLessThanOrEqual(2);
      // It prints as the scenario file, not with undefined fields or {__proto__:null,…}.
      const printed = fc.stringify(out.counterexample);
      expect(printed).not.toMatch(/undefined|__proto__/);
      expect(printed).toContain('"$schema": ');
      // The file the report gives runs to the same failure.
      const note = formatCounterexample(scenario, runSeed);
      expect(note).toMatch(new RegExp(`^save this as counterexample\\.json; \`kprobesim run counterexample\\.json --seed ${runSeed}\` reproduces it:\\n\\{\\n`));
      const file = parseScenarioText(note.slice(note.indexOf('\n') + 1), 'counterexample.json');
      expect(await missed(file, runSeed)).toBeGreaterThan(0);
    });
  }

  it('a failed fc.assert reports the counterexample as a file and the command that runs it, and the command does', async () => {
    const error = await fc.assert(nmissedIsAlwaysZero, { seed: 99, numRuns: 200 }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).not.toBeNull();
    // fast-check's own report stays (seed and path to replay the property)…
    expect(error!.message).toMatch(/Property failed after \d+ tests\n\{ seed: 99, path: /);
    // …followed by the scenario file and the command.
    const m = /The counterexample as a scenario file: save this as counterexample\.json; `kprobesim run counterexample\.json --seed (\d+)` reproduces it:\n(\{\n[^]*\n\})\n?$/.exec(error!.message);
    expect(m).not.toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'kprobesim-cex-'));
    writeFileSync(join(dir, 'counterexample.json'), m![2]!);
    const r = spawnSync(process.execPath, [resolve('bin/kprobesim.js'), 'run', 'counterexample.json', '--seed', m![1]!, '--no-log'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // The summary's probe table: some probe has a non-zero NMISSED column.
    const rows = r.stdout.split('\n\n').find((b) => b.startsWith('probes:'))!.split('\n').slice(2);
    expect(rows.some((row) => Number(row.trim().split(/\s+/)[3]) > 0)).toBe(true);
  });

  it('counterexamples that are not a scenario and a seed get no note', () => {
    expect(counterexampleNote([1, 'x'])).toBeNull();
    expect(counterexampleNote(null)).toBeNull();
  });
});
