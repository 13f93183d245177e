import type { Progress } from '../explore/explore.ts';

// The progress of `kprobesim explore` on standard error: runs, runs/s, distinct states,
// failures, ETA. Wall-clock time enters here and nowhere else: the report, standard output and
// the failure logs never see it, so they stay byte-identical between runs. By default the line
// is drawn only on a terminal (redrawn in place, erased at the end); in CI, where stderr is a
// pipe, nothing is printed unless plain lines are asked for (`--progress plain`).
//
// Written here rather than with cli-progress: one line is all it takes, and cli-progress (last
// released 2023, CommonJS, its own redraw timer) would be a runtime dependency of the library
// for a dozen lines of formatting.

export const PROGRESS_MODES = ['auto', 'plain', 'off'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** Plain lines come at most this often (seconds), and once more at the end. */
export const PLAIN_EVERY_S = 10;

/** 75 → "1m15s", 3725 → "1h02m05s". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h${pad(m)}m${pad(s % 60)}s`;
  if (m > 0) return `${m}m${pad(s % 60)}s`;
  return `${s}s`;
}

/** The line for `p` after `elapsed` seconds (a pure function: the caller reads the clock). */
export function formatProgress(p: Progress, elapsed: number): string {
  const rate = elapsed > 0 ? p.runs / elapsed : 0;
  // Before the first run finishes there is no rate to extrapolate from.
  const eta = p.runs >= p.of ? '0s' : rate > 0 ? duration((p.of - p.runs) / rate) : '?';
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  return `explore: ${p.runs}/${p.of} runs, ${rate.toFixed(1)} runs/s, ${plural(p.states, 'distinct state')}, ${plural(p.failures, 'failure')}, ETA ${eta}`;
}

export interface ProgressSink {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressWriter {
  update(p: Progress): void;
  done(): void;
}

/** Where and how the line is shown; `now` is in milliseconds (Date.now in the command). */
export function progressWriter(mode: ProgressMode, sink: ProgressSink, now: () => number): ProgressWriter {
  const quiet = { update: () => {}, done: () => {} };
  if (mode === 'off' || (mode === 'auto' && sink.isTTY !== true)) return quiet;
  const start = now();
  const elapsed = () => (now() - start) / 1000;
  if (mode === 'auto') {
    let shown = false;
    return {
      update(p) {
        // \r back to the line's start, \x1b[K erases what a longer previous line left.
        sink.write(`\r${formatProgress(p, elapsed())}\x1b[K`);
        shown = true;
      },
      done() {
        if (shown) sink.write('\r\x1b[K');
      },
    };
  }
  let last: Progress | null = null;
  let printedAt = 0;
  let printed: Progress | null = null;
  const print = (p: Progress) => {
    sink.write(`${formatProgress(p, elapsed())}\n`);
    printed = p;
    printedAt = elapsed();
  };
  return {
    update(p) {
      last = p;
      if (elapsed() - printedAt >= PLAIN_EVERY_S) print(p);
    },
    done() {
      if (last !== null && last !== printed) print(last);
    },
  };
}
