import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryLog } from '../src/log/writer.ts';
import { replayByLabels } from '../src/replay/by-labels.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';

// INV-determinism, by labels: on the model that wrote a log, `replay --by-labels` takes every
// logged decision on its own CPU (the enabled choices' labels are distinct, and the model labels
// the logged choice as it did), so it re-executes the run: every decision applies, none moves to
// another CPU, and the run ends as the log's did with the log's digest.

const dir = mkdtempSync(join(tmpdir(), 'kprobesim-by-labels-'));
let n = 0;

describe('replay --by-labels of an unchanged model (INV-determinism)', () => {
  it('applies every decision of a fresh log on its own CPU and ends with the log\'s digest', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...BUILTIN_SCENARIOS.keys()), fc.integer({ min: 1, max: 1000 }), fc.constantFrom('random' as const, 'round-robin' as const), async (name, seed, strategy) => {
        const log = new MemoryLog();
        await recordRun(BUILTIN_SCENARIOS.get(name)!, { seed, strategy }, log);
        const file = join(dir, `${n++}.jsonl`);
        writeFileSync(file, log.text());
        const end = JSON.parse(log.lines.at(-1)!) as { type: string; digest: string; reason: string };
        expect(end.type).toBe('log.end');
        const decisions = log.lines.filter((l) => l.includes('"type":"sched.pick"')).length;
        const r = await replayByLabels(file);
        expect(r).toMatchObject({ kind: 'applied', decisions, moved: 0, endReason: end.reason, digest: end.digest, loggedDigest: end.digest });
      }),
      { numRuns: 25, seed: 12 },
    );
  }, 300_000);
});
