// A checker of Chrome trace-event JSON as kprobesim writes it (src/timeline/perfetto.ts), written
// from the format's rules, not from the writer: it is what the tests hold every export to.
// Returns the list of problems (empty: the file is good).
//
// - shape: one JSON object whose first key is "traceEvents" (Perfetto's tokenizer stops at the
//   first top-level key it does not know), other keys among those both readers accept; every
//   event an object with a known `ph`, `ph` and `ts` its first two keys, `ts` an integer >= 0,
//   integer pid/tid, a string name;
// - slices: per thread (pid, tid), in timestamp order, every B is closed by an E of the same
//   name on the same thread, every E closes an open B, nothing is left open: B/E pairs nest;
// - no two B/E events of one thread share a timestamp (their order would decide the nesting);
// - every thread with events has thread_name and thread_sort_index metadata, every process a
//   process_name;
// - flows: each id has exactly one `s` and one `f` (with bp "e"), with the same name and cat,
//   each strictly inside a slice of its thread;
// - counters: `C` events carry numeric args;
// - events after the metadata are in non-decreasing timestamp order.

const PHASES = new Set(['B', 'E', 'X', 'i', 'I', 'C', 's', 't', 'f', 'M']);
const TOP_KEYS = new Set(['traceEvents', 'displayTimeUnit', 'otherData', 'metadata', 'systemTraceEvents']);

interface Ev {
  readonly ph: string;
  readonly ts: number;
  readonly pid: number;
  readonly tid?: number;
  readonly name?: string;
  readonly cat?: string;
  readonly id?: number;
  readonly bp?: string;
  readonly args?: Record<string, unknown>;
}

export interface CheckResult {
  readonly problems: string[];
  /** Counts, for tests that want to know the file is not trivially empty. */
  readonly slices: number;
  readonly instants: number;
  readonly flows: number;
  readonly counters: number;
  readonly threads: number;
}

export function checkPerfetto(text: string): CheckResult {
  const problems: string[] = [];
  const result = (extra: Partial<CheckResult> = {}): CheckResult => ({ problems, slices: 0, instants: 0, flows: 0, counters: 0, threads: 0, ...extra });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    problems.push(`not JSON: ${(e as Error).message}`);
    return result();
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    problems.push('not a JSON object');
    return result();
  }
  const keys = Object.keys(doc);
  if (keys[0] !== 'traceEvents') problems.push(`first key is ${JSON.stringify(keys[0])}, expected "traceEvents"`);
  for (const k of keys) if (!TOP_KEYS.has(k)) problems.push(`unknown top-level key ${JSON.stringify(k)}`);
  const events = (doc as { traceEvents?: unknown }).traceEvents;
  if (!Array.isArray(events)) {
    problems.push('traceEvents is not an array');
    return result();
  }

  const evs: Ev[] = [];
  events.forEach((raw, i) => {
    const where = `traceEvents[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return void problems.push(`${where} is not an object`);
    const o = raw as Record<string, unknown>;
    const ks = Object.keys(o);
    if (ks[0] !== 'ph' || ks[1] !== 'ts') problems.push(`${where}: keys start ${JSON.stringify(ks.slice(0, 2))}, expected ["ph","ts"]`);
    if (typeof o.ph !== 'string' || !PHASES.has(o.ph)) return void problems.push(`${where}: unknown ph ${JSON.stringify(o.ph)}`);
    if (!Number.isSafeInteger(o.ts) || (o.ts as number) < 0) problems.push(`${where}: ts ${JSON.stringify(o.ts)} is not an integer >= 0`);
    if (!Number.isSafeInteger(o.pid)) problems.push(`${where}: pid ${JSON.stringify(o.pid)} is not an integer`);
    if (o.ph !== 'C' && !(o.ph === 'M' && String(o.name).startsWith('process_')) && !Number.isSafeInteger(o.tid)) problems.push(`${where}: tid ${JSON.stringify(o.tid)} is not an integer`);
    if (typeof o.name !== 'string') problems.push(`${where}: name is not a string`);
    if (o.args !== undefined && (typeof o.args !== 'object' || o.args === null || Array.isArray(o.args))) problems.push(`${where}: args is not an object`);
    evs.push(o as unknown as Ev);
  });

  // Metadata.
  const processNames = new Set<number>();
  const threadNames = new Set<string>();
  const threadSorts = new Set<string>();
  for (const e of evs) {
    if (e.ph !== 'M') continue;
    const arg = e.args ?? {};
    if (e.name === 'process_name' && typeof arg.name === 'string') processNames.add(e.pid);
    if (e.name === 'thread_name' && typeof arg.name === 'string') threadNames.add(`${e.pid}/${e.tid}`);
    if (e.name === 'thread_sort_index' && Number.isSafeInteger(arg.sort_index)) threadSorts.add(`${e.pid}/${e.tid}`);
  }

  // Order after the metadata.
  const timed = evs.filter((e) => e.ph !== 'M');
  for (let i = 1; i < timed.length; i++) {
    if (timed[i]!.ts < timed[i - 1]!.ts) {
      problems.push(`events out of timestamp order: ts ${timed[i]!.ts} after ${timed[i - 1]!.ts}`);
      break;
    }
  }

  // Slices per thread, and which thread needs metadata.
  const threads = new Map<string, Ev[]>();
  const pids = new Set<number>();
  for (const e of timed) {
    pids.add(e.pid);
    if (e.ph === 'C') continue;
    const key = `${e.pid}/${e.tid}`;
    let l = threads.get(key);
    if (l === undefined) threads.set(key, (l = []));
    l.push(e);
  }
  for (const pid of pids) if (!processNames.has(pid)) problems.push(`process ${pid} has no process_name metadata`);
  let slices = 0;
  const spans = new Map<string, { b: number; e: number }[]>();
  for (const [key, list] of threads) {
    if (!threadNames.has(key)) problems.push(`thread ${key} has no thread_name metadata`);
    if (!threadSorts.has(key)) problems.push(`thread ${key} has no thread_sort_index metadata`);
    const be = list.filter((e) => e.ph === 'B' || e.ph === 'E');
    const seen = new Map<number, Ev>();
    for (const e of be) {
      const other = seen.get(e.ts);
      if (other !== undefined) problems.push(`thread ${key}: ${other.ph} "${other.name}" and ${e.ph} "${e.name}" share ts ${e.ts}`);
      seen.set(e.ts, e);
    }
    const sorted = [...be].sort((a, b) => a.ts - b.ts);
    const stack: Ev[] = [];
    const done: { b: number; e: number }[] = [];
    for (const e of sorted) {
      if (e.ph === 'B') stack.push(e);
      else {
        const open = stack.pop();
        if (open === undefined) problems.push(`thread ${key}: E "${e.name}" at ${e.ts} closes nothing`);
        else if (open.name !== e.name) problems.push(`thread ${key}: E "${e.name}" at ${e.ts} closes B "${open.name}" (at ${open.ts}): slices overlap without nesting`);
        else {
          done.push({ b: open.ts, e: e.ts });
          slices++;
        }
      }
    }
    for (const open of stack) problems.push(`thread ${key}: B "${open.name}" at ${open.ts} is never closed`);
    spans.set(key, done);
  }

  // Flows.
  const flowEnds = new Map<number, { s: Ev[]; f: Ev[] }>();
  let instants = 0;
  let counters = 0;
  for (const e of timed) {
    if (e.ph === 'i' || e.ph === 'I') instants++;
    if (e.ph === 'C') {
      counters++;
      const vals = Object.values(e.args ?? {});
      if (vals.length === 0 || vals.some((v) => typeof v !== 'number')) problems.push(`counter "${e.name}" at ${e.ts} has non-numeric args`);
    }
    if (e.ph !== 's' && e.ph !== 'f') continue;
    if (!Number.isSafeInteger(e.id)) {
      problems.push(`flow event "${e.name}" at ${e.ts} has no integer id`);
      continue;
    }
    let f = flowEnds.get(e.id!);
    if (f === undefined) flowEnds.set(e.id!, (f = { s: [], f: [] }));
    (e.ph === 's' ? f.s : f.f).push(e);
  }
  const inside = (e: Ev): boolean => (spans.get(`${e.pid}/${e.tid}`) ?? []).some((sp) => sp.b < e.ts && e.ts < sp.e);
  for (const [id, f] of flowEnds) {
    if (f.s.length !== 1 || f.f.length !== 1) {
      problems.push(`flow ${id} has ${f.s.length} start(s) and ${f.f.length} end(s) (expected one each)`);
      continue;
    }
    const [s, e] = [f.s[0]!, f.f[0]!];
    if (s.name !== e.name || s.cat !== e.cat) problems.push(`flow ${id}: start and end differ in name or cat`);
    if (e.bp !== 'e') problems.push(`flow ${id}: its end does not bind to the enclosing slice (bp "e")`);
    if (!inside(s)) problems.push(`flow ${id}: start at ${s.ts} on ${s.pid}/${s.tid} is inside no slice`);
    if (!inside(e)) problems.push(`flow ${id}: end at ${e.ts} on ${e.pid}/${e.tid} is inside no slice`);
  }
  return { problems, slices, instants, flows: flowEnds.size, counters, threads: threads.size };
}
