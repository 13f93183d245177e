import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryLog } from '../src/log/writer.ts';
import { replayLog } from '../src/replay/replay.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';

// INV-determinism: replay compares the writer's line for each re-created event with the logged
// line as text, and falls back to comparing the two as data only when the text differs. A line
// rewritten without changing its event (keys in another order, spaces, CRLF) still replays as
// identical; a changed value is still named at its seq with the line the run would have written.

const dir = mkdtempSync(join(tmpdir(), 'kprobesim-line-compare-'));

async function log(): Promise<string[]> {
  const m = new MemoryLog();
  await recordRun(BUILTIN_SCENARIOS.get('unregister-race')!, { seed: 3, strategy: 'random' }, m);
  return m.lines;
}

function write(name: string, lines: readonly string[], eol = '\n'): string {
  const file = join(dir, name);
  writeFileSync(file, lines.map((l) => `${l}${eol}`).join(''));
  return file;
}

describe('replay compares lines as text, then as data', () => {
  it('a log whose event lines are re-serialized (keys reversed, spaces) is identical', async () => {
    const lines = await log();
    const reordered = lines.map((l, i) => {
      if (i === 0) return l;
      const obj = JSON.parse(l) as Record<string, unknown>;
      return JSON.stringify(Object.fromEntries(Object.entries(obj).reverse()), null, 1).replace(/\n/g, ' ');
    });
    expect(reordered[1]).not.toBe(lines[1]);
    const r = await replayLog(write('reordered.jsonl', reordered));
    expect(r).toMatchObject({ kind: 'identical', events: lines.length - 1, truncatedAt: null });
  });

  it('a CRLF log is identical', async () => {
    const lines = await log();
    const r = await replayLog(write('crlf.jsonl', lines, '\r\n'));
    expect(r).toMatchObject({ kind: 'identical', events: lines.length - 1 });
  });

  it('a changed value is named at its seq, with the logged line and the line the run writes', async () => {
    const lines = await log();
    const i = lines.findIndex((l) => l.includes('"type":"printk"') || l.includes('"type":"dmesg"'));
    const j = i > 0 ? i : lines.findIndex((l) => l.includes('"type":"kprobe.register"'));
    const edited = lines[j]!.replace(/"pid":(\d+)/, (_m, p: string) => `"pid":${Number(p) + 1}`);
    expect(edited).not.toBe(lines[j]);
    const r = await replayLog(write('edited.jsonl', [...lines.slice(0, j), edited, ...lines.slice(j + 1)]));
    expect(r).toEqual({ kind: 'diverged', seq: (JSON.parse(lines[j]!) as { seq: number }).seq, line: j + 1, expected: edited, actual: lines[j] });
  });
});
