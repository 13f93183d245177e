import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { digestState } from '../src/model/digest.ts';
import { MemoryLog } from '../src/log/writer.ts';
import { foldLog } from '../src/replay/fold-log.ts';
import { replayLog } from '../src/replay/replay.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';

// Replay re-executes a log and must name the first event that differs, whatever was changed.

const dir = mkdtempSync(join(tmpdir(), 'kprobesim-replay-'));
let lines: string[] = [];
let digest = '';

function writeLog(name: string, ls: readonly string[], trailingNewline = true): string {
  const file = join(dir, name);
  writeFileSync(file, ls.join('\n') + (trailingNewline ? '\n' : ''));
  return file;
}

/** The log with one event's JSON changed by `f`; returns the file and that event's seq. */
function tampered(match: (e: any) => boolean, f: (e: any) => void, nth = 0): { file: string; seq: number } {
  const out = lines.slice();
  let seen = 0;
  for (let i = 1; i < out.length; i++) {
    const e = JSON.parse(out[i]!);
    if (match(e) && seen++ === nth) {
      f(e);
      out[i] = JSON.stringify(e);
      return { file: writeLog(`tampered-${e.seq}.jsonl`, out), seq: e.seq };
    }
  }
  throw new Error('no such event in the log');
}

beforeAll(async () => {
  const log = new MemoryLog();
  const r = await recordRun(BUILTIN_SCENARIOS.get('default')!, { seed: 42, strategy: 'random' }, log);
  lines = log.lines;
  digest = r.digest;
});

describe('replay', () => {
  it('INV-determinism: an untouched log replays identically, to the same digest', async () => {
    const r = await replayLog(writeLog('ok.jsonl', lines));
    expect(r).toEqual({ kind: 'identical', events: lines.length - 1, digest, truncatedAt: null });
  });

  const cases: [string, (e: any) => boolean, (e: any) => void, number][] = [
    ['a printed line', (e) => e.type === 'printk', (e) => (e.text += '!'), 3],
    ['an instruction address', (e) => e.type === 'insn.exec', (e) => (e.ip = '0xffffffff81000001'), 40],
    ['the probes of a hit', (e) => e.type === 'kprobe.hit', (e) => (e.probes = []), 1],
    ['a scheduling decision (another CPU)', (e) => e.type === 'sched.pick' && e.switch_to === null, (e) => (e.cpu = (e.cpu + 1) % 4), 100],
    ['a registration handle', (e) => e.type === 'kprobe.insert', (e) => (e.handle = 'AAAAAAAAAA'), 0],
    ['the final digest', (e) => e.type === 'log.end', (e) => (e.digest = 'sha256:' + '0'.repeat(64)), 0],
  ];
  for (const [what, match, change, nth] of cases) {
    it(`changing ${what} makes replay name that event's seq`, async () => {
      const { file, seq } = tampered(match, change, nth);
      const r = await replayLog(file);
      expect(r).toMatchObject({ kind: 'diverged', seq, line: seq + 1 });
    });
  }

  it('a log cut short by a crash replays up to its last complete event', async () => {
    const cut = lines.slice(0, 300);
    cut.push(lines[300]!.slice(0, 25));
    const r = await replayLog(writeLog('cut.jsonl', cut, false));
    expect(r).toEqual({ kind: 'identical', events: 299, digest: null, truncatedAt: 301 });
    const folded = await foldLog(join(dir, 'cut.jsonl'));
    expect(folded).toMatchObject({ lastSeq: 299, truncatedAt: 301, ended: false });
  });

  it('the digest in log.end is the digest of the folded log (state LOG)', async () => {
    const folded = await foldLog(writeLog('fold.jsonl', lines));
    expect(digestState(folded.state)).toBe(digest);
  });

  it('state --at SEQ folds exactly the first SEQ events', async () => {
    const file = writeLog('at.jsonl', lines);
    const at = await foldLog(file, [], 120);
    expect(at.state.seq).toBe(120);
    expect(at.state.t).toBe(JSON.parse(lines[120]!).t);
    await expect(foldLog(file, [], lines.length + 5)).rejects.toThrow(/there is no seq/);
  });
});
