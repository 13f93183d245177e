import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultOutput, exportCommand } from '../src/cli/commands/export.ts';
import { InputError } from '../src/errors.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { perfettoJson, PERFETTO_TICK_US } from '../src/timeline/perfetto.ts';
import { cliInProcess } from './cli-in-process.ts';
import { checkPerfetto } from './perfetto-check.ts';
import { runLog, timelineOf } from './timeline-helpers.ts';

// `kprobesim export LOG --format perfetto`: the Chrome trace-event JSON that ui.perfetto.dev and
// chrome://tracing open, held to the format's rules by test/perfetto-check.ts, with the logical
// time mapping of src/timeline/perfetto.ts, byte-stable, and written like every other output.

const dir = mkdtempSync(join(tmpdir(), 'kprobesim-export-'));

interface TraceEvent {
  ph: string;
  ts: number;
  pid: number;
  tid?: number;
  name: string;
  cat?: string;
  id?: number;
  args?: Record<string, unknown>;
}

function parse(text: string): { traceEvents: TraceEvent[]; otherData: Record<string, string> } {
  return JSON.parse(text) as { traceEvents: TraceEvent[]; otherData: Record<string, string> };
}

/** The thread id a track got: its thread_name metadata. */
function tidOf(events: readonly TraceEvent[], name: string): number {
  const m = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === name);
  if (m === undefined) throw new Error(`no thread named ${name}`);
  return m.tid!;
}

describe('the format checker', () => {
  const meta = '{"ph":"M","ts":0,"pid":1,"name":"process_name","args":{"name":"p"}},{"ph":"M","ts":0,"pid":1,"tid":1,"name":"thread_name","args":{"name":"t"}},{"ph":"M","ts":0,"pid":1,"tid":1,"name":"thread_sort_index","args":{"sort_index":0}}';
  const file = (events: string) => `{"traceEvents":[${meta}${events === '' ? '' : ','}${events}]}`;
  const B = (ts: number, name: string) => `{"ph":"B","ts":${ts},"pid":1,"tid":1,"name":"${name}"}`;
  const E = (ts: number, name: string) => `{"ph":"E","ts":${ts},"pid":1,"tid":1,"name":"${name}"}`;

  it('accepts nested slices, and finds what breaks each rule', () => {
    expect(checkPerfetto(file([B(1, 'a'), B(2, 'b'), E(3, 'b'), E(4, 'a')].join(','))).problems).toEqual([]);
    expect(checkPerfetto('{"traceEvents":').problems[0]).toMatch(/^not JSON/);
    expect(checkPerfetto(`{"x":1,"traceEvents":[]}`).problems.join()).toMatch(/first key is "x"/);
    expect(checkPerfetto(file([B(1, 'a'), B(2, 'b'), E(3, 'a'), E(4, 'b')].join(','))).problems.join()).toMatch(/overlap without nesting/);
    expect(checkPerfetto(file(B(1, 'a'))).problems.join()).toMatch(/never closed/);
    expect(checkPerfetto(file(E(1, 'a'))).problems.join()).toMatch(/closes nothing/);
    expect(checkPerfetto(file([B(1, 'a'), B(1, 'b'), E(3, 'b'), E(4, 'a')].join(','))).problems.join()).toMatch(/share ts 1/);
    expect(checkPerfetto(file('{"ph":"B","ts":1,"pid":1,"tid":2,"name":"a"},{"ph":"E","ts":2,"pid":1,"tid":2,"name":"a"}')).problems.join()).toMatch(/thread 1\/2 has no thread_name/);
    expect(checkPerfetto(file([B(1, 'a'), '{"ph":"s","ts":2,"pid":1,"tid":1,"name":"f","cat":"c","id":7}', E(4, 'a')].join(','))).problems.join()).toMatch(/flow 7 has 1 start\(s\) and 0 end\(s\)/);
    expect(checkPerfetto(file('{"ts":1,"ph":"i","pid":1,"tid":1,"name":"x"}')).problems.join()).toMatch(/keys start \["ts","ph"\]/);
    expect(checkPerfetto(file('{"ph":"B","ts":1.5,"pid":1,"tid":1,"name":"a"},{"ph":"E","ts":3,"pid":1,"tid":1,"name":"a"}')).problems.join()).toMatch(/ts 1.5 is not an integer/);
  });
});

describe('perfetto export', () => {
  it('the default scenario passes every format check and carries CPU tracks, slices, counters', async () => {
    const log = await runLog(BUILTIN_SCENARIOS.get('default')!);
    const text = perfettoJson(timelineOf(log));
    const r = checkPerfetto(text);
    expect(r.problems).toEqual([]);
    expect(r.slices).toBeGreaterThan(50);
    expect(r.counters).toBeGreaterThan(0);
    const { traceEvents } = parse(text);
    const names = traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args!.name);
    // Four CPUs (the scenario's), in order, then the scheduler and the mutex.
    expect(names.slice(0, 6)).toEqual(['CPU 0', 'CPU 1', 'CPU 2', 'CPU 3', 'scheduler', 'kprobe_mutex']);
    const sorts = traceEvents.filter((e) => e.name === 'thread_sort_index').map((e) => e.args!.sort_index);
    expect(sorts).toEqual(sorts.map((_, i) => i));
  });

  it.each([...BUILTIN_SCENARIOS.keys()])('%s passes every format check', async (name) => {
    const r = checkPerfetto(perfettoJson(timelineOf(await runLog(BUILTIN_SCENARIOS.get(name)!))));
    expect(r.problems).toEqual([]);
    expect(r.slices).toBeGreaterThan(0);
  });

  it('is byte-stable: the same log gives the same bytes, another seed other bytes', async () => {
    const s = BUILTIN_SCENARIOS.get('unregister-race')!;
    const a = perfettoJson(timelineOf(await runLog(s, 42)));
    const b = perfettoJson(timelineOf(await runLog(s, 42)));
    const c = perfettoJson(timelineOf(await runLog(s, 43)));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it('maps logical time to microseconds as documented: 1 tick = 1000 µs, slots of W = 2(D+2) µs in seq order', async () => {
    const log = await runLog(BUILTIN_SCENARIOS.get('unregister-race')!);
    const tl = timelineOf(log);
    const { traceEvents, otherData } = parse(perfettoJson(tl));
    const depth = Math.max(...tl.slices.map((s) => s.depth));
    const W = 2 * (depth + 2);
    expect(otherData.slot_us).toBe(String(W));
    expect(PERFETTO_TICK_US).toBe(1000);
    // slot(s) = max(1000 t(s), slot(s-1) + W), from the log's own t.
    const slot = new Map<number, number>();
    let prev = -Infinity;
    for (const e of log.events) {
      prev = Math.max(1000 * e.t, prev + W);
      slot.set(e.seq, prev);
    }
    // The first event (t = 1) is at 1000 µs.
    expect(slot.get(1)).toBe(1000 * log.events[0]!.t);
    const cpu1 = tidOf(traceEvents, 'CPU 1');
    for (const s of tl.slices.filter((x) => x.track === 'cpu/1')) {
      const b = traceEvents.find((e) => e.ph === 'B' && e.tid === cpu1 && e.args?.seq === s.startSeq && e.name === s.name)!;
      expect(b.ts).toBe(slot.get(s.startSeq)! + s.depth);
      expect(b.args!.t).toBe(log.events[s.startSeq - 1]!.t);
    }
    // Instants sit mid-slot, after every begin and before every end of their seq.
    for (const i of traceEvents.filter((e) => e.ph === 'i')) {
      const seq = i.args!.seq as number;
      expect(i.ts).toBe(slot.get(seq)! + depth + 1);
    }
  });

  it('draws the unregister wait: the sync on CPU 0, flows to and from CPU 1', async () => {
    const { traceEvents } = parse(perfettoJson(timelineOf(await runLog(BUILTIN_SCENARIOS.get('unregister-race')!))));
    const [cpu0, cpu1] = [tidOf(traceEvents, 'CPU 0'), tidOf(traceEvents, 'CPU 1')];
    const sync = traceEvents.find((e) => e.ph === 'B' && e.tid === cpu0 && e.name === 'text_poke_sync: waits for CPU 1')!;
    expect(sync.cat).toBe('sync');
    const starts = traceEvents.filter((e) => e.ph === 's');
    const ends = traceEvents.filter((e) => e.ph === 'f');
    expect(starts.map((e) => e.tid)).toEqual([cpu0, cpu1]);
    expect(ends.map((e) => e.tid)).toEqual([cpu1, cpu0]);
    expect(starts[0]!.name).toBe('text_poke_sync waits for CPU 1');
    // The wait's arrow leaves from inside the sync slice.
    expect(starts[0]!.ts).toBeGreaterThan(sync.ts);
  });

  it('marks a miss with an instant that names the probe and its nmissed', async () => {
    const { traceEvents } = parse(perfettoJson(timelineOf(await runLog(BUILTIN_SCENARIOS.get('printk-recursion')!))));
    const misses = traceEvents.filter((e) => e.ph === 'i' && e.cat === 'miss');
    expect(misses.length).toBeGreaterThan(0);
    expect(misses[0]).toMatchObject({ name: 'miss kp_printk', args: { severity: 'miss', probes: ['kp_printk'], nmissed: 1 } });
  });

  it('a window gives a smaller file that still passes the checks', async () => {
    const log = await runLog(BUILTIN_SCENARIOS.get('default')!);
    const r = checkPerfetto(perfettoJson(timelineOf(log, { from: 500, to: 900 })));
    expect(r.problems).toEqual([]);
    expect(r.slices).toBeGreaterThan(0);
  });
});

describe('kprobesim export', () => {
  async function logFile(name: string, scenario = 'unregister-race'): Promise<string> {
    const path = join(dir, `${name}.jsonl`);
    const r = await cliInProcess(['run', scenario, '--log', path, '--force']);
    expect(r.code).toBe(0);
    return path;
  }

  it('writes LOG.perfetto.json next to the log, prints its path, and refuses to replace it without --force', async () => {
    const log = await logFile('race');
    const out = join(dir, 'race.perfetto.json');
    const r = await cliInProcess(['export', log, '--format', 'perfetto']);
    expect(r).toMatchObject({ code: 0, out: `${out}\n`, err: '' });
    const text = readFileSync(out, 'utf8');
    expect(checkPerfetto(text).problems).toEqual([]);
    const again = await cliInProcess(['export', log, '--format', 'perfetto']);
    expect(again.code).toBe(2);
    expect(again.err).toBe(`kprobesim: ${out}: exists; pass --force to replace it\n`);
    writeFileSync(out, 'old');
    expect((await cliInProcess(['export', log, '--format', 'perfetto', '--force'])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(text);
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('--out, --from and --to', async () => {
    const log = await logFile('window');
    const out = join(dir, 'w.json');
    const r = await cliInProcess(['export', log, '--format', 'perfetto', '--out', out, '--from', '100', '--to', '400']);
    expect(r.code).toBe(0);
    const { otherData } = parse(readFileSync(out, 'utf8'));
    expect([otherData.first_seq, otherData.last_seq]).toEqual(['100', '400']);
  });

  it('exits 2 with a message for a bad range, a missing or malformed log, an unknown format', async () => {
    const log = await logFile('bad');
    const cases: [string[], RegExp][] = [
      [['--from', '50', '--to', '10'], /^kprobesim: --from: seq 50 is after --to 10 \(expected --from <= --to\)\n$/],
      [['--from', '0'], /^kprobesim: --from: seq 0 is before the first event/],
      [['--to', '999999'], /^kprobesim: --to: the log has events up to seq \d+; there is no seq 999999\n$/],
      [['--from', 'x'], /--from/],
    ];
    for (const [args, msg] of cases) {
      const r = await cliInProcess(['export', log, '--format', 'perfetto', '--out', join(dir, 'never.json'), ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(msg);
    }
    expect(existsSync(join(dir, 'never.json'))).toBe(false);
    const missing = await cliInProcess(['export', join(dir, 'nope.jsonl'), '--format', 'perfetto']);
    expect(missing).toMatchObject({ code: 2, err: `kprobesim: ${join(dir, 'nope.jsonl')}: No such file or directory\n` });
    const junk = join(dir, 'junk.jsonl');
    writeFileSync(junk, '{"format":"kprobesim-log"}\n');
    const bad = await cliInProcess(['export', junk, '--format', 'perfetto']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^kprobesim: .*junk\.jsonl/);
    expect(existsSync(join(dir, 'junk.perfetto.json'))).toBe(false);
    expect((await cliInProcess(['export', log, '--format', 'svg'])).code).toBe(2);
    expect((await cliInProcess(['export', log])).code).toBe(2);
  });

  it('reads a log cut short by a crash up to its last complete event, with a note', async () => {
    const log = await logFile('cut');
    const text = readFileSync(log, 'utf8');
    const partial = join(dir, 'cut2.jsonl');
    writeFileSync(partial, text.slice(0, Math.floor(text.length / 2)));
    const r = await cliInProcess(['export', partial, '--format', 'perfetto']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/is cut short/);
    const out = readFileSync(join(dir, 'cut2.perfetto.json'), 'utf8');
    expect(checkPerfetto(out).problems).toEqual([]);
    expect(parse(out).otherData.partial).toBe('the log stops before log.end');
  });

  it('names the default output after the log', () => {
    expect(defaultOutput('/a/b/run.jsonl', '.perfetto.json')).toBe('/a/b/run.perfetto.json');
    expect(defaultOutput('run.log', '.perfetto.json')).toBe('run.log.perfetto.json');
    expect(defaultOutput('/a/.jsonl', '.html')).toBe('/a/.jsonl.html');
  });
});

describe('exportCommand (the library path, past the CLI\'s own choice check)', () => {
  it('refuses a format name that is only a property of every object, naming --format', async () => {
    for (const format of ['constructor', 'toString', '__proto__']) {
      const err = await exportCommand('/nonexistent.jsonl', { format, force: false }).catch((e: unknown) => e);
      expect(err, format).toBeInstanceOf(InputError);
      expect(String((err as Error).message), format).toContain('unknown format');
    }
  });
});
