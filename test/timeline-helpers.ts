import { parseLogText } from '../src/log/reader.ts';
import type { LogHeader } from '../src/log/header.ts';
import { MemoryLog } from '../src/log/writer.ts';
import type { MutantName } from '../src/kprobes/mutants.ts';
import type { LoggedEvent } from '../src/model/events.ts';
import { recordRun } from '../src/run/record.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { buildTimeline } from '../src/timeline/build.ts';
import type { Slice, Timeline, TimelineOptions } from '../src/timeline/model.ts';

// Logs made in process (a run recorded into memory, read back through the log reader) and
// their timelines, for the timeline and Perfetto tests.

export interface MemLog {
  readonly header: LogHeader;
  readonly events: LoggedEvent[];
  readonly text: string;
}

export async function runLog(scenario: Scenario, seed = 42, mutant?: MutantName): Promise<MemLog> {
  const sink = new MemoryLog();
  await recordRun(scenario, { seed, strategy: 'random', ...(mutant !== undefined ? { mutant } : {}) }, sink);
  const text = sink.text();
  let header: LogHeader | undefined;
  const events: LoggedEvent[] = [];
  for (const entry of parseLogText(text)) {
    if (entry.kind === 'header') header = entry.header;
    else if (entry.kind === 'event') events.push(entry.event);
  }
  return { header: header!, events, text };
}

export function timelineOf(log: MemLog, options: TimelineOptions = {}): Timeline {
  return buildTimeline({ header: log.header, events: log.events }, options);
}

export function slicesOn(tl: Timeline, track: string, pred: (s: Slice) => boolean = () => true): Slice[] {
  return tl.slices.filter((s) => s.track === track && pred(s));
}

/** Whether `outer` contains `inner` (same track, seq range, one level up or more). */
export function contains(outer: Slice, inner: Slice): boolean {
  return outer.track === inner.track && outer.startSeq <= inner.startSeq && inner.endSeq <= outer.endSeq && outer.depth < inner.depth;
}

/** The slices of `track` that contain seq `seq`, outermost first. */
export function stackAt(tl: Timeline, track: string, seq: number): Slice[] {
  return slicesOn(tl, track, (s) => s.startSeq <= seq && seq <= s.endSeq).sort((a, b) => a.depth - b.depth);
}
