// The log file format (contract v1): writer, streaming reader, and the errors users see.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LogError, OutputExistsError } from '../src/log/errors.ts';
import { checkHeader, LOG_FORMAT, LOG_VERSION } from '../src/log/header.ts';
import { parseLogText, readLog, readLogToArray, type LogEntry } from '../src/log/reader.ts';
import { LogWriter, MemoryLog } from '../src/log/writer.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'kprobesim-log-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const HEADER = {
  format: 'kprobesim-log',
  version: 1,
  seed: 42,
  scenario: { name: 'basic', probes: [{ symbol: 'kernel_clone' }] },
  cpus: 2,
  strategy: { name: 'random' },
  run: 'basic-42',
};
// Key order as the engine builds them: seq, t, src, type, then the payload.
const EVENTS = [
  { seq: 1, t: 0, src: 'sched', type: 'sched.pick', cpu: 0, switch_to: null },
  { seq: 2, t: 1, src: 'cpu/0', type: 'insn.exec', cpu: 0, pid: 1, ip: '0xffffffff81000000', ctx: 'task' },
  { seq: 3, t: 1, src: 'cpu/0', type: 'kprobe.hit', cpu: 0, pid: 1, addr: '0xffffffff81000000', probes: ['p1'] },
  { seq: 4, t: 1, src: 'log', type: 'log.end', digest: 'd1g3st', reason: 'done' },
];
const line = (o: object): string => LogWriter.serialize(o);
const GOOD = [HEADER, ...EVENTS].map(line);
const text = (lines: string[]): string => lines.map((l) => `${l}\n`).join('');

function writeFile(content: string): string {
  const p = path.join(tmp(), 'run.jsonl');
  fs.writeFileSync(p, content);
  return p;
}

/** Reads the text both ways and insists they agree, then returns the file reader's error. */
async function errorOf(content: string): Promise<LogError> {
  const p = writeFile(content);
  let fileErr: unknown;
  try {
    await readLogToArray(p);
  } catch (e) {
    fileErr = e;
  }
  let memErr: unknown;
  try {
    [...parseLogText(content, p)];
  } catch (e) {
    memErr = e;
  }
  expect(fileErr).toBeInstanceOf(LogError);
  expect(memErr).toBeInstanceOf(LogError);
  expect((memErr as LogError).message).toBe((fileErr as LogError).message);
  expect((fileErr as LogError).file).toBe(p);
  return fileErr as LogError;
}

/** GOOD with line n (1-based) replaced. */
function withLine(n: number, l: string): string {
  const lines = [...GOOD];
  lines[n - 1] = l;
  return text(lines);
}

describe('round trip', () => {
  it('reads back exactly what the writer wrote', async () => {
    const p = path.join(tmp(), 'run.jsonl');
    const w = await LogWriter.create(p, { force: false });
    for (const l of GOOD) if (!w.writeLine(l)) await w.drain();
    await w.commit();
    expect(fs.readFileSync(p, 'utf8')).toBe(text(GOOD));
    expect(fs.existsSync(`${p}.partial`)).toBe(false);

    const entries = await readLogToArray(p);
    expect(entries.map((e) => e.kind)).toEqual(['header', 'event', 'event', 'event', 'event']);
    expect(entries[0]).toEqual({ kind: 'header', header: HEADER, line: 1 });
    entries.slice(1).forEach((e, i) => {
      expect(e).toEqual({ kind: 'event', event: EVENTS[i], line: i + 2, raw: GOOD[i + 1] });
    });
    // The in-memory parser and MemoryLog agree with the file path byte for byte.
    const mem = new MemoryLog();
    for (const l of GOOD) mem.writeLine(l);
    expect(mem.text()).toBe(text(GOOD));
    expect([...parseLogText(mem.text())]).toEqual(entries);
  });

  it('serialize keeps the engine key order', () => {
    expect(LogWriter.serialize(EVENTS[0]!)).toBe('{"seq":1,"t":0,"src":"sched","type":"sched.pick","cpu":0,"switch_to":null}');
  });

  it('accepts CRLF line endings and a final event without its newline', async () => {
    const crlf = GOOD.map((l) => `${l}\r\n`).join('');
    expect((await readLogToArray(writeFile(crlf))).length).toBe(5);
    const noFinalNewline = text(GOOD).slice(0, -1);
    const entries = await readLogToArray(writeFile(noFinalNewline));
    expect(entries.at(-1)).toMatchObject({ kind: 'event', line: 5, event: { type: 'log.end' } });
  });

  it('a log without log.end (aborted run) is readable', async () => {
    const entries = await readLogToArray(writeFile(text(GOOD.slice(0, 3))));
    expect(entries.map((e) => e.kind)).toEqual(['header', 'event', 'event']);
  });
});

describe('bad input names the line', () => {
  it('empty file', async () => {
    const e = await errorOf('');
    expect([e.line, e.column, e.what]).toEqual([1, undefined, 'empty file: not a kprobesim log']);
  });

  it('line 1 with the wrong format', async () => {
    const e = await errorOf(withLine(1, line({ ...HEADER, format: 'foo' })));
    expect(e.line).toBe(1);
    expect(e.what).toBe('not a kprobesim log (line 1 has "format": "foo")');
  });

  it('an event where the header should be', async () => {
    const e = await errorOf(text(GOOD.slice(1)));
    expect(e.line).toBe(1);
    expect(e.what).toBe('not a kprobesim log (line 1 has no "format" field)');
  });

  it('line 1 that is not JSON', async () => {
    const e = await errorOf('hello world\n');
    expect(e.line).toBe(1);
    expect(e.what).toMatch(/^not a kprobesim log: invalid JSON/);
  });

  it('wrong version', async () => {
    const e = await errorOf(withLine(1, line({ ...HEADER, version: 2 })));
    expect(e.line).toBe(1);
    expect(e.what).toBe('log version 2 is not supported (this kprobesim reads version 1)');
  });

  it('JSON syntax error reports line and 1-based column', async () => {
    // Missing comma after "t":0: the parser wanted ',' or '}' and found the quote opening "src".
    const bad = '{"seq":1,"t":0 "src":"sched","type":"sched.pick","cpu":0,"switch_to":null}';
    const e = await errorOf(withLine(2, bad));
    expect(e.line).toBe(2);
    expect(e.column).toBe(bad.indexOf('"src"') + 1);
    expect(e.what).toMatch(/^invalid JSON: /);
    expect(e.message).toBe(`${e.file}:2:${e.column}: ${e.what}`);
  });

  it('unknown event type', async () => {
    const e = await errorOf(withLine(3, line({ ...EVENTS[1], type: 'foo' })));
    expect(e.line).toBe(3);
    expect(e.what).toContain('unknown event type "foo"');
    expect(e.column).toBeUndefined();
    expect(e.message).toBe(`${e.file}:3: ${e.what}`);
  });

  it('missing payload field', async () => {
    const { pid: _pid, ...noPid } = EVENTS[2]!;
    const e = await errorOf(withLine(4, line(noPid)));
    expect(e.line).toBe(4);
    expect(e.what).toBe('event "kprobe.hit" lacks field "pid" (expected an integer)');
  });

  it('wrong field type', async () => {
    const e = await errorOf(withLine(3, line({ ...EVENTS[1], ip: 4096 })));
    expect(e.line).toBe(3);
    expect(e.what).toContain('event "insn.exec" field "ip" is 4096');
  });

  it('bad envelope: src and non-object line', async () => {
    expect((await errorOf(withLine(2, line({ ...EVENTS[0], src: 'cpu0' })))).what).toContain('field "src" is "cpu0"');
    const e = await errorOf(withLine(2, '[1,2]'));
    expect([e.line, e.what]).toEqual([2, 'line is an array (expected an event object with seq, t, src and type)']);
  });

  it('seq gap', async () => {
    const e = await errorOf(withLine(3, line({ ...EVENTS[1], seq: 7 })));
    expect(e.line).toBe(3);
    expect(e.what).toBe('seq gap: expected seq 2, found 7');
  });

  it('t decreasing', async () => {
    // Line 4 (seq 3) goes back from t 1 to t 0.
    const e = await errorOf(withLine(4, line({ ...EVENTS[2], t: 0 })));
    expect(e.line).toBe(4);
    expect(e.what).toContain('time goes backwards: t 0 after t 1');
  });

  it('event after log.end', async () => {
    const extra = line({ seq: 5, t: 1, src: 'sched', type: 'sched.pick', cpu: 1, switch_to: null });
    const e = await errorOf(text([...GOOD, extra]));
    expect(e.line).toBe(6);
    expect(e.what).toContain('event after log.end');
  });

  it('a malformed line followed by more lines is an error, not truncation', async () => {
    const lines = [...GOOD];
    lines[2] = lines[2]!.slice(0, 20);
    const e = await errorOf(text(lines));
    expect(e.line).toBe(3);
    expect(e.what).toMatch(/^invalid JSON/);
  });

  it('an empty line in the middle', async () => {
    const e = await errorOf(withLine(3, ''));
    expect([e.line, e.what]).toEqual([3, 'empty line (expected one JSON event object per line)']);
  });
});

describe('truncation', () => {
  it('yields the complete events, then the cut line, and stops', async () => {
    const cut = GOOD[3]!.slice(0, 25);
    const content = text(GOOD.slice(0, 3)) + cut;
    const expected: LogEntry[] = [
      { kind: 'header', header: HEADER as never, line: 1 },
      { kind: 'event', event: EVENTS[0] as never, line: 2, raw: GOOD[1]! },
      { kind: 'event', event: EVENTS[1] as never, line: 3, raw: GOOD[2]! },
      { kind: 'truncated', line: 4, raw: cut },
    ];
    expect(await readLogToArray(writeFile(content))).toEqual(expected);
    expect([...parseLogText(content)]).toEqual(expected);
  });

  it('a final line that parses but is invalid is an error, not truncation', async () => {
    const content = text(GOOD.slice(0, 3)) + line({ ...EVENTS[2], seq: 9 });
    const e = await errorOf(content);
    expect([e.line, e.what]).toEqual([4, 'seq gap: expected seq 3, found 9']);
  });
});

describe('writer', () => {
  it('refuses an existing file without --force, replaces it with --force', async () => {
    const p = path.join(tmp(), 'out.jsonl');
    fs.writeFileSync(p, 'old contents\n');
    await expect(LogWriter.create(p, { force: false })).rejects.toThrow(new OutputExistsError(p, `${p} exists; pass --force to replace it`));
    expect(fs.existsSync(`${p}.partial`)).toBe(false);

    const w = await LogWriter.create(p, { force: true });
    for (const l of GOOD) w.writeLine(l);
    // Until commit the old file stays whole and new lines live only in .partial.
    expect(fs.readFileSync(p, 'utf8')).toBe('old contents\n');
    expect(fs.existsSync(`${p}.partial`)).toBe(true);
    await w.commit();
    expect(fs.readFileSync(p, 'utf8')).toBe(text(GOOD));
    expect(fs.existsSync(`${p}.partial`)).toBe(false);
    expect(() => w.writeLine('x')).toThrow(/closed/);
    expect(await w.abort()).toBeNull();
  });

  it('never creates the target before commit', async () => {
    const p = path.join(tmp(), 'new.jsonl');
    const w = await LogWriter.create(p, { force: false });
    w.writeLine(GOOD[0]!);
    await w.drain();
    expect(fs.existsSync(p)).toBe(false);
    expect(fs.readdirSync(path.dirname(p))).toEqual(['new.jsonl.partial']);
    await w.commit();
    expect(fs.readdirSync(path.dirname(p))).toEqual(['new.jsonl']);
  });

  it('abort leaves a readable .partial and returns its path', async () => {
    const p = path.join(tmp(), 'crash.jsonl');
    const w = await LogWriter.create(p, { force: false });
    for (const l of GOOD.slice(0, 3)) w.writeLine(l);
    const left = await w.abort();
    expect(left).toBe(`${p}.partial`);
    expect(fs.existsSync(p)).toBe(false);
    const entries = await readLogToArray(left!);
    expect(entries.map((e) => e.kind)).toEqual(['header', 'event', 'event']);
    // A second run must not write over the leftover silently.
    await expect(LogWriter.create(p, { force: true })).rejects.toThrow(`${p}.partial exists`);
  });

  it('backpressure: writeLine returns false and drain resolves', async () => {
    const p = path.join(tmp(), 'bp.jsonl');
    const w = await LogWriter.create(p, { force: false, highWaterMark: 64 });
    let waits = 0;
    const lines = [GOOD[0]!];
    for (let i = 1; i <= 500; i++) lines.push(line({ seq: i, t: i, src: 'sched', type: 'sched.pick', cpu: 0, switch_to: null }));
    for (const l of lines) {
      if (!w.writeLine(l)) {
        waits++;
        await w.drain();
      }
    }
    await w.commit();
    expect(waits).toBeGreaterThan(0);
    expect(fs.readFileSync(p, 'utf8')).toBe(text(lines));
  });

  it('rejects a line holding a newline', () => {
    expect(() => new MemoryLog().writeLine('{"a":1}\n{"b":2}')).toThrow(/newline/);
  });
});

describe('checkHeader', () => {
  it('accepts the header and names each bad field', () => {
    expect(LOG_FORMAT).toBe('kprobesim-log');
    expect(LOG_VERSION).toBe(1);
    expect(checkHeader(HEADER)).toBeNull();
    expect(checkHeader({ ...HEADER, seed: -1 })).toBe('log header field "seed" is -1 (expected a non-negative integer)');
    expect(checkHeader({ ...HEADER, seed: 1.5 })).toContain('"seed"');
    expect(checkHeader({ ...HEADER, cpus: 0 })).toContain('"cpus" is 0');
    expect(checkHeader({ ...HEADER, strategy: { name: 'bfs' } })).toContain('"strategy.name" is "bfs"');
    // explore's strategies are names a header may carry (its failure logs say "explore").
    for (const name of ['pct', 'dfs', 'swarm', 'portfolio', 'explore']) expect(checkHeader({ ...HEADER, strategy: { name } })).toBeNull();
    expect(checkHeader({ ...HEADER, run: undefined })).toBe('log header lacks field "run" (expected a non-empty run id string)');
    expect(checkHeader({ ...HEADER, scenario: 'basic.yaml' })).toContain('"scenario"');
    expect(checkHeader([1])).toContain('not a JSON object');
  });
});

describe('large files', () => {
  it('streams a 200,000-line log', async () => {
    const p = path.join(tmp(), 'big.jsonl');
    const w = await LogWriter.create(p, { force: false });
    if (!w.writeLine(GOOD[0]!)) await w.drain();
    const N = 200_000;
    for (let i = 1; i < N; i++) {
      const ev = { seq: i, t: i >> 2, src: 'cpu/1', type: 'insn.exec', cpu: 1, pid: 7, ip: '0xffffffff81000010', ctx: 'task' };
      if (!w.writeLine(LogWriter.serialize(ev))) await w.drain();
    }
    await w.commit();
    let events = 0;
    let lastLine = 0;
    for await (const e of readLog(p)) {
      if (e.kind === 'event') events++;
      lastLine = e.line;
    }
    expect(events).toBe(N - 1);
    expect(lastLine).toBe(N);
  });
});
