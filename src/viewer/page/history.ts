/// <reference lib="dom" />
import type { LoggedEvent } from '../../model/events.ts';
import { evolve } from '../../model/evolve.ts';
import type { KernelState } from '../../model/state.ts';

// The log inside the page, and time travel through it. The event lines stay one string (what the
// file carried, inflated): an event is parsed when something asks for it. The kernel state at a
// seq is the project's own fold (src/model/evolve.ts) from the nearest checkpoint before it, so
// jumping anywhere folds at most CHECKPOINT_EVERY - 1 events.

/** A state is kept after every this many events while the page loads. */
export const CHECKPOINT_EVERY = 1024;

/**
 * The base64 text of gzip'ed bytes, inflated by the browser's own DecompressionStream and
 * decoded a chunk at a time, handing the main thread back to the browser now and then (`pause`)
 * so that a large log does not freeze the page while it inflates.
 */
export async function inflate(base64: string, pause: () => Promise<void>): Promise<string> {
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip')).pipeThrough(new TextDecoderStream()).getReader();
  const parts: string[] = [];
  for (let n = 1; ; n++) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    if (n % 64 === 0) await pause();
  }
  return parts.join('');
}

/** The event lines of a log; the event with seq s is line s - 1 (seqs are 1, 2, … without gaps). */
export class LogLines {
  /** starts[i]: where line i begins in `text`; starts[count]: the end of the last line + 1. */
  private readonly starts: Uint32Array;
  readonly count: number;

  constructor(readonly text: string) {
    let n = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', nl + 1)) n++;
    const starts = new Uint32Array(n + 1);
    let i = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', nl + 1)) starts[++i] = nl + 1;
    this.starts = starts;
    this.count = n;
  }

  /** The JSON text of the event with this seq. */
  line(seq: number): string {
    if (!(seq >= 1 && seq <= this.count)) throw new RangeError(`no event with seq ${seq} (the log has 1 to ${this.count})`);
    return this.text.slice(this.starts[seq - 1]!, this.starts[seq]! - 1);
  }

  event(seq: number): LoggedEvent {
    return JSON.parse(this.line(seq)) as LoggedEvent;
  }

  /** The seq of the line holding character `offset` of `text`. */
  seqAt(offset: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}

/** The folded state at any seq of the log, from checkpoints the loading pass leaves. */
export class History {
  /** checkpoints[k]: the state after seq k * CHECKPOINT_EVERY (k = 0: the initial state). */
  private readonly checkpoints: KernelState[];
  /** The last state asked for: moving the slider forward folds on from it. */
  private last: { seq: number; state: KernelState };

  constructor(
    private readonly lines: LogLines,
    initial: KernelState,
  ) {
    this.checkpoints = [initial];
    this.last = { seq: 0, state: initial };
  }

  /** The loading pass: `state` is the fold after event `seq`, and the events come in order. */
  record(seq: number, state: KernelState): void {
    if (seq % CHECKPOINT_EVERY === 0) this.checkpoints[seq / CHECKPOINT_EVERY] = state;
  }

  /** The kernel state after the event with this seq (0: before the first event). */
  stateAt(seq: number): KernelState {
    if (!(Number.isSafeInteger(seq) && seq >= 0 && seq <= this.lines.count)) throw new RangeError(`no seq ${seq} in this log (0 to ${this.lines.count})`);
    const k = Math.min(Math.floor(seq / CHECKPOINT_EVERY), this.checkpoints.length - 1);
    let from = k * CHECKPOINT_EVERY;
    let state = this.checkpoints[k]!;
    if (this.last.seq <= seq && this.last.seq > from) {
      from = this.last.seq;
      state = this.last.state;
    }
    for (let s = from + 1; s <= seq; s++) state = evolve(state, this.lines.event(s));
    this.last = { seq, state };
    return state;
  }
}
