import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryLog } from '../src/log/writer.ts';
import { replayLog, replayLogChecked, type ReplayResult } from '../src/replay/replay.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';

// INV-determinism (replay's fast path): replayLog answers a log that re-executes line for line without parsing or
// checking its lines, and replays anything else again with every line checked. Whatever the log
// (whole, cut anywhere, a byte changed, a line dropped or doubled), both ways give the same
// verdict, or fail with the same error.

const dir = mkdtempSync(join(tmpdir(), 'kprobesim-fast-path-'));
let n = 0;

type Outcome = { result: ReplayResult } | { error: string };

async function outcome(replay: (path: string) => Promise<ReplayResult>, file: string): Promise<Outcome> {
  try {
    return { result: await replay(file) };
  } catch (e) {
    return { error: e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e) };
  }
}

const logs = new Map<string, string>();
async function logText(name: string, seed: number, strategy: 'random' | 'round-robin'): Promise<string> {
  const key = `${name}/${seed}/${strategy}`;
  let text = logs.get(key);
  if (text === undefined) {
    const log = new MemoryLog();
    await recordRun(BUILTIN_SCENARIOS.get(name)!, { seed, strategy }, log);
    logs.set(key, (text = log.text()));
  }
  return text;
}

const edit = fc.oneof(
  fc.record({ kind: fc.constant('whole' as const) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), char: fc.constantFrom('0', '1', '9', 'a', '"', ',', '}', ' ', '\n', '\r') }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('double' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
);

type Edit = { kind: 'whole' | 'cut' | 'byte' | 'drop' | 'double'; at?: number; char?: string };

function apply(text: string, e: Edit): string {
  if (e.kind === 'whole') return text;
  const pos = Math.floor((e.at ?? 0) * text.length);
  if (e.kind === 'cut') return text.slice(0, pos);
  if (e.kind === 'byte') return text.slice(0, pos) + e.char! + text.slice(pos + 1);
  const lines = text.split('\n').slice(0, -1);
  const i = Math.min(lines.length - 1, 1 + Math.floor((e.at ?? 0) * (lines.length - 1)));
  const out = e.kind === 'drop' ? [...lines.slice(0, i), ...lines.slice(i + 1)] : [...lines.slice(0, i + 1), ...lines.slice(i)];
  return out.map((l) => `${l}\n`).join('');
}

describe('replay without parsing lines agrees with replay checking every line', () => {
  it('on whole, cut and edited logs of the built-ins', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('unregister-race', 'default', 'kretprobe-pool', 'optprobes', 'module-init', 'aggregate'),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom('random' as const, 'round-robin' as const),
        edit,
        async (name, seed, strategy, e) => {
          const file = join(dir, `log-${n++}.jsonl`);
          writeFileSync(file, apply(await logText(name, seed, strategy), e));
          expect(await outcome(replayLog, file)).toEqual(await outcome(replayLogChecked, file));
        },
      ),
      { numRuns: 120 },
    );
  });
});
