import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replayLog } from '../src/replay/replay.ts';
import { scenarioArbitrary, seedArbitrary } from '../src/scenario/arbitrary.ts';
import { RUNS, runInMemory } from './helpers.ts';

describe('INV-determinism: same scenario and seed ⇒ same bytes; replay of any log ⇒ same digest', () => {
  it('INV-determinism: two runs in one process write identical logs', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary(), seedArbitrary, async (scenario, seed) => {
        const a = await runInMemory(scenario, seed);
        const b = await runInMemory(scenario, seed);
        expect(a.log.text()).toBe(b.log.text());
        expect(a.result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      }),
      { numRuns: RUNS },
    );
  });

  it('INV-determinism: replaying a log re-executes it event for event and reaches the same digest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kprobesim-det-'));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary(), seedArbitrary, async (scenario, seed) => {
        const { log, result } = await runInMemory(scenario, seed);
        const file = join(dir, `run${n++}.jsonl`);
        writeFileSync(file, log.text());
        const r = await replayLog(file);
        expect(r).toMatchObject({ kind: 'identical', digest: result.digest, truncatedAt: null });
      }),
      { numRuns: Math.max(5, Math.floor(RUNS / 2)) },
    );
  });

  it('INV-determinism: two separate processes write byte-identical logs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kprobesim-proc-'));
    const [scenario] = fc.sample(scenarioArbitrary({ maxSteps: 2000 }), { seed: 7, numRuns: 1 });
    const file = join(dir, 'scenario.json');
    writeFileSync(file, JSON.stringify(scenario));
    const run = (out: string) =>
      execFileSync(process.execPath, ['bin/kprobesim.js', 'run', file, '--seed', '1234', '--log', out], { encoding: 'utf8' });
    run(join(dir, 'a.jsonl'));
    run(join(dir, 'b.jsonl'));
    const a = readFileSync(join(dir, 'a.jsonl'));
    expect(a.length).toBeGreaterThan(100);
    expect(a.equals(readFileSync(join(dir, 'b.jsonl')))).toBe(true);
  }, 60_000);
});
