import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryLog } from '../src/log/writer.ts';
import { replayLog } from '../src/replay/replay.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { cliInProcess } from './cli-in-process.ts';

// Issue 9 §2: an edited event is named at its own seq. Raising one sched.pick's t makes the
// *next* line's t go backwards; replay must compare the edited event with what re-execution
// produces before the order of the next line is checked (INV-determinism: replay of a log
// re-executes it event for event).

const dir = mkdtempSync(join(tmpdir(), 'kprobesim-edit-'));

async function defaultLog(): Promise<string[]> {
  const log = new MemoryLog();
  await recordRun(BUILTIN_SCENARIOS.get('default')!, { seed: 42, strategy: 'random' }, log);
  return log.lines;
}

describe('replay of an edited log', () => {
  it.each([5, 200, 1000, 2000])('a sched.pick near line %i with t raised by 1000 diverges at its own seq', async (near) => {
    const lines = await defaultLog();
    // The first sched.pick at or after `near` whose next line would then go back in time.
    const i = lines.findIndex((l, j) => j >= near && l.includes('"type":"sched.pick"'));
    const event = JSON.parse(lines[i]!) as { seq: number; t: number };
    const edited = lines[i]!.replace(`"t":${event.t},`, `"t":${event.t + 1000},`);
    expect(edited).not.toBe(lines[i]);
    const file = join(dir, `edited-${near}.jsonl`);
    writeFileSync(file, [...lines.slice(0, i), edited, ...lines.slice(i + 1)].map((l) => `${l}\n`).join(''));
    const r = await replayLog(file);
    expect(r).toEqual({ kind: 'diverged', seq: event.seq, line: i + 1, expected: edited, actual: lines[i] });
    const cli = await cliInProcess(['replay', file]);
    expect(cli.code).toBe(1);
    expect(cli.out.split('\n')[0]).toBe(`diverged at seq ${event.seq} (${file}:${i + 1})`);
  });

  it('an edited payload field is named at its seq too', async () => {
    const lines = await defaultLog();
    const i = lines.findIndex((l) => l.includes('"type":"sched.pick"') && l.includes('"cpu":1'));
    const edited = lines[i]!.replace('"cpu":1', '"cpu":0');
    const file = join(dir, 'edited-cpu.jsonl');
    writeFileSync(file, [...lines.slice(0, i), edited, ...lines.slice(i + 1)].map((l) => `${l}\n`).join(''));
    const r = await replayLog(file);
    expect(r).toMatchObject({ kind: 'diverged', seq: (JSON.parse(lines[i]!) as { seq: number }).seq, line: i + 1 });
  });
});
