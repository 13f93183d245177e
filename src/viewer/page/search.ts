import { EVENT_TYPES } from '../../model/events.ts';
import type { LogLines } from './history.ts';

// The search box: a probe, a task (its comm or pid) or an event type. Each becomes the text it
// has on a log line ("slow" for a probe, "pid":101 for a task, "type":"kprobe.miss"), found with
// indexOf over the log's one string, so a search of a 1M-event log parses nothing.

export interface SearchResult {
  /** What the query was taken for: "probe slow", "task reader (101)", "type kprobe.miss"… */
  readonly matched: readonly string[];
  /** Seqs of the matching events, sorted, without repeats (at most MAX_HITS). */
  readonly seqs: readonly number[];
  /** More events matched than `seqs` holds. */
  readonly capped: boolean;
}

const MAX_HITS = 100_000;

export interface Known {
  readonly probes: Iterable<string>;
  /** Every task of the run: pid → comm (its last name). */
  readonly tasks: ReadonlyMap<number, string>;
}

export function search(query: string, lines: LogLines, known: Known): SearchResult {
  const q = query.trim();
  if (q === '') return { matched: [], seqs: [], capped: false };
  const needles: string[] = [];
  const matched: string[] = [];
  const lower = q.toLowerCase();
  for (const type of EVENT_TYPES) {
    if (type === q || (type.startsWith(q) && q.length >= 3) || (q.includes('.') && type.includes(q))) {
      needles.push(`"type":"${type}"`);
      matched.push(`type ${type}`);
    }
  }
  for (const probe of known.probes) {
    if (probe.toLowerCase().includes(lower)) {
      needles.push(JSON.stringify(probe));
      matched.push(`probe ${probe}`);
    }
  }
  for (const [pid, comm] of known.tasks) {
    if (comm.toLowerCase().includes(lower) || String(pid) === q) {
      needles.push(`"pid":${pid},`, `"pid":${pid}}`);
      matched.push(`task ${comm} (${pid})`);
    }
  }
  const text = lines.text;
  const found = new Set<number>();
  let capped = false;
  outer: for (const needle of needles) {
    for (let at = text.indexOf(needle); at !== -1; ) {
      const seq = lines.seqAt(at);
      found.add(seq);
      if (found.size >= MAX_HITS) {
        capped = true;
        break outer;
      }
      // On to the next line: one hit per event.
      const nl = text.indexOf('\n', at);
      at = nl === -1 ? -1 : text.indexOf(needle, nl + 1);
    }
  }
  return { matched, seqs: [...found].sort((a, b) => a - b), capped };
}
