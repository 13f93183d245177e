import type { Slice, Timeline, Track } from './model.ts';

// The timeline as a Chrome trace-event JSON file: the format that ui.perfetto.dev and
// chrome://tracing open (the "JSON Object Format": {"traceEvents": [...]}). Written here rather
// than with a library: the format is a flat list of small objects, and what matters (a stable
// byte order, integer timestamps laid out so that nesting never depends on a tie, the key order
// the Perfetto tokenizer expects) is easier to guarantee in ~200 lines than to configure.
//
// ── Logical time → microseconds ─────────────────────────────────────────────────────────────
// The trace's `ts` are integer microseconds (fractions would be rounded differently by readers).
// - One logical tick (the log's `t`) is one millisecond on the trace's time axis: the event of
//   `t = 1044` is drawn at 1.044 s. (The kernel's own `trace` view prints a tick as a
//   microsecond; here there must be room inside one tick for the several events of a step.)
// - Each event (each seq) gets a slot of W microseconds, W = 2 × (D + 2) where D is the deepest
//   slice nesting of the timeline (`otherData.slot_us`). The slot of seq s starts at
//     slot(s) = max(1000 × t(s), slot(s − 1) + W)
//   so the events of one tick follow each other in log order, W µs apart, and a tick with more
//   events than fit into a millisecond pushes the following ones on (the axis then runs ahead of
//   t until a later tick catches up; every slice and instant carries its exact `seq` and `t` in
//   its args).
// - Inside a slot: a slice at depth d that opens at s begins at slot(s) + d; one that closes at s
//   ends at slot(s) + W − 1 − d; instants and flow ends sit at slot(s) + D + 1, inside every
//   slice that contains s. So a parent always begins before and ends after its children, two
//   slices of one track never share a timestamp, and a flow end is strictly inside its slice.
//
// ── Layout ───────────────────────────────────────────────────────────────────────────────────
// Every track of the model is a thread (tid = its order + 1), named and ordered with metadata
// events, in one of three processes: 1 "CPUs" (cpu tracks), 2 "kernel" (scheduler, kprobe_mutex),
// 3 "tasks" (kprobes API calls per task); an async track goes with its parent's process. Counters
// are process 4 "counters". Slices are B/E pairs, instants `i` (thread scope), counters `C`, flows
// `s`/`f` (v1 flow events, `f` bound to its enclosing slice). `traceEvents` comes first in the
// file and every event lists `ph` and `ts` before anything else: Perfetto's tokenizer reads the
// timestamp of each event before parsing it, and stops at a top-level key it does not know.

export const PERFETTO_TICK_US = 1000;

const PROCESSES = [
  { pid: 1, name: 'CPUs' },
  { pid: 2, name: 'kernel' },
  { pid: 3, name: 'tasks' },
  { pid: 4, name: 'counters' },
] as const;

function processOf(track: Track, byId: ReadonlyMap<string, Track>): number {
  const kind = track.kind === 'async' && track.parent !== undefined ? (byId.get(track.parent)?.kind ?? 'async') : track.kind;
  return kind === 'cpu' ? 1 : kind === 'task' ? 3 : 2;
}

/** The microsecond layout of a timeline (exported for tests and for the checker). */
export interface TimeLayout {
  /** Slot width in microseconds. */
  readonly slot: number;
  /** The deepest nesting (D). */
  readonly maxDepth: number;
  /** slot(seq) in µs. */
  at(seq: number): number;
}

export function timeLayout(tl: Timeline): TimeLayout {
  let maxDepth = 0;
  for (const s of tl.slices) if (s.depth > maxDepth) maxDepth = s.depth;
  const slot = 2 * (maxDepth + 2);
  const starts: number[] = new Array<number>(tl.times.length);
  let prev = -Infinity;
  for (let i = 0; i < tl.times.length; i++) {
    const at = Math.max(PERFETTO_TICK_US * tl.times[i]!, prev + slot);
    starts[i] = at;
    prev = at;
  }
  return {
    slot,
    maxDepth,
    at(seq: number): number {
      const v = starts[seq - tl.firstSeq];
      if (v === undefined) throw new Error(`internal: seq ${seq} is outside the timeline [${tl.firstSeq}, ${tl.lastSeq}]`);
      return v;
    },
  };
}

interface Out {
  /** Sort keys: timestamp, then a phase rank, then creation order. */
  readonly ts: number;
  readonly rank: number;
  readonly n: number;
  readonly json: string;
}

export function perfettoJson(tl: Timeline): string {
  const layout = timeLayout(tl);
  const mid = layout.maxDepth + 1;
  const byId = new Map(tl.tracks.map((t) => [t.id, t]));
  const tid = (track: string): number => {
    const t = byId.get(track);
    if (t === undefined) throw new Error(`internal: no track ${track}`);
    return t.order + 1;
  };
  const pidOf = (track: string): number => processOf(byId.get(track)!, byId);
  const tOf = (seq: number): number => tl.times[seq - tl.firstSeq]!;

  const meta: string[] = [];
  for (const p of PROCESSES) {
    meta.push(JSON.stringify({ ph: 'M', ts: 0, pid: p.pid, name: 'process_name', args: { name: p.name } }));
    meta.push(JSON.stringify({ ph: 'M', ts: 0, pid: p.pid, name: 'process_sort_index', args: { sort_index: p.pid } }));
  }
  for (const t of tl.tracks) {
    const pid = processOf(t, byId);
    meta.push(JSON.stringify({ ph: 'M', ts: 0, pid, tid: t.order + 1, name: 'thread_name', args: { name: t.name } }));
    meta.push(JSON.stringify({ ph: 'M', ts: 0, pid, tid: t.order + 1, name: 'thread_sort_index', args: { sort_index: t.order } }));
  }

  const out: Out[] = [];
  let n = 0;
  const add = (ts: number, rank: number, obj: Record<string, unknown>): void => {
    out.push({ ts, rank, n: n++, json: JSON.stringify(obj) });
  };

  if (tl.firstSeq > 0) {
    for (const s of tl.slices) addSlice(s);
    for (const i of tl.instants) {
      add(layout.at(i.seq) + mid, 2, {
        ph: 'i',
        ts: layout.at(i.seq) + mid,
        pid: pidOf(i.track),
        tid: tid(i.track),
        s: 't',
        name: i.name,
        cat: i.cat,
        args: { severity: i.severity, seq: i.seq, t: tOf(i.seq), ...i.args },
      });
    }
    for (const c of tl.counters) {
      for (const p of c.points) add(layout.at(p.seq), 0, { ph: 'C', ts: layout.at(p.seq), pid: 4, name: c.name, args: { value: p.value } });
    }
    for (const f of tl.flows) {
      const common = { name: f.name, cat: `flow.${f.cat ?? 'wait'}`, id: f.id };
      add(layout.at(f.from.seq) + mid, 3, { ph: 's', ts: layout.at(f.from.seq) + mid, pid: pidOf(f.from.track), tid: tid(f.from.track), ...common });
      add(layout.at(f.to.seq) + mid, 4, { ph: 'f', ts: layout.at(f.to.seq) + mid, pid: pidOf(f.to.track), tid: tid(f.to.track), bp: 'e', ...common });
    }
  }
  out.sort((a, b) => a.ts - b.ts || a.rank - b.rank || a.n - b.n);

  const other = {
    generator: 'kprobesim export --format perfetto',
    scenario: tl.scenario,
    seed: String(tl.seed),
    run: tl.run,
    first_seq: String(tl.firstSeq),
    last_seq: String(tl.lastSeq),
    tick_us: String(PERFETTO_TICK_US),
    slot_us: String(layout.slot),
    time: 'one logical tick t = 1000 us (1 ms); the events of a tick follow in seq order, slot_us apart (see docs/timeline.md)',
    ...(tl.partial ? { partial: 'the log stops before log.end' } : {}),
  };
  return `{"traceEvents":[\n${[...meta, ...out.map((o) => o.json)].join(',\n')}\n],\n"otherData":${JSON.stringify(other)}}\n`;

  function addSlice(s: Slice): void {
    const pid = pidOf(s.track);
    const t = tid(s.track);
    const begin = layout.at(s.startSeq) + s.depth;
    const end = layout.at(s.endSeq) + layout.slot - 1 - s.depth;
    const args = {
      seq: s.startSeq,
      t: tOf(s.startSeq),
      end_seq: s.endSeq,
      end_t: tOf(s.endSeq),
      ...(s.clippedStart ? { clipped_start: true } : {}),
      ...(s.clippedEnd ? { clipped_end: true } : {}),
      ...s.args,
    };
    add(begin, 1, { ph: 'B', ts: begin, pid, tid: t, name: s.name, cat: s.cat, args });
    add(end, 1, { ph: 'E', ts: end, pid, tid: t, name: s.name, cat: s.cat });
  }
}
