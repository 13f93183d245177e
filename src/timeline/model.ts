import type { LogHeader } from '../log/header.ts';
import type { LoggedEvent } from '../model/events.ts';
import type { Scenario } from '../scenario/types.ts';

// The timeline model: what a run looks like as tracks of nested slices, instants, counters and
// flow arrows, in the log's own coordinates (seq). Both pictures of a log are drawn from it: the
// Perfetto (Chrome trace-event JSON) export in ./perfetto.ts and the HTML viewer. It is plain
// data (JSON-serialisable: no functions, no Maps, no bigint), and this directory imports no
// node: module, so the viewer can bundle it for the browser.
//
// Coordinates are seqs, not time: a slice's [startSeq, endSeq] are the inclusive seqs of the log
// events that open and close it, an instant sits on the seq of the event it marks. `times` gives
// each seq's logical time t where a picture wants t on its axis; how t becomes microseconds in
// the Perfetto file is documented in ./perfetto.ts.
//
// The one rule every consumer may rely on: the slices of one track nest properly. Two slices of
// a track are either disjoint (one ends at a smaller seq than the other starts) or one contains
// the other; `depth` is the number of slices of the same track that contain it. Work that would
// overlap without nesting is put on a track of kind 'async' (its `parent` names the track it
// belongs with).

export interface Timeline {
  /** Every track, sorted by `order` (the order in which pictures stack them). */
  readonly tracks: readonly Track[];
  /** Sorted by track order, then startSeq, then depth (outer before inner). */
  readonly slices: readonly Slice[];
  /** Sorted by seq (ties in the order the builder saw them). */
  readonly instants: readonly Instant[];
  readonly counters: readonly CounterSeries[];
  readonly flows: readonly Flow[];
  /** The first and last seq the timeline covers (the window, clamped to the log). 0/0 for an empty log. */
  readonly firstSeq: number;
  readonly lastSeq: number;

  // ── additions to the agreed shape ─────────────────────────────────────────────────────────
  /** The number of simulated CPUs (one 'cpu' track each, ids `cpu/0` …). */
  readonly cpus: number;
  /** The scenario's name, the seed and the run id from the log header. */
  readonly scenario: string;
  readonly seed: number;
  readonly run: string;
  /** times[i] is the logical time t of the event with seq firstSeq + i. */
  readonly times: readonly number[];
  /** The log stops before log.end (an interrupted run): slices still open there end at lastSeq, `clippedEnd`. */
  readonly partial: boolean;
}

export type TrackKind = 'cpu' | 'sched' | 'mutex' | 'task' | 'async';

export interface Track {
  /** Stable ids: `cpu/N`, `sched`, `mutex`, `task/PID`, and for async tracks `<parent>~N`. */
  readonly id: string;
  /** What a picture labels it with: "CPU 0", "scheduler", "kprobe_mutex", "rmmod (pid 100)". */
  readonly name: string;
  readonly kind: TrackKind;
  /** Stacking order, 0 first; unique. */
  readonly order: number;
  /** A 'cpu' track's CPU number. */
  readonly cpu?: number;
  /** A 'task' track's pid. */
  readonly pid?: number;
  /** An 'async' track: the id of the track whose overlapping work it carries. */
  readonly parent?: string;
}

/**
 * Slice categories (`cat`), for legends and colours:
 * - `task`: a task running on a CPU (between the scheduler switching it in and out);
 * - `call`: a kernel function call of a task (`func.call` … `func.ret`), `args.ctx` task/handler;
 * - `kprobe`: the breakpoint path of one trap (`kprobe.trap` … `kprobe.done`), and the
 *   ftrace-based / optimized entries (no trap);
 * - `handler`: a probe's pre-, post- or return handler (`handler.enter` … `handler.exit`);
 * - `singlestep`: the out-of-line single-step (`kprobe.ss` … `kprobe.ss.done`);
 * - `kretprobe`: the kretprobe trampoline walking its instances;
 * - `irq`: a timer interrupt (`irq.enter` … `irq.exit`);
 * - `api`: a register/unregister/enable/disable/batch/module call, on the calling task's track;
 * - `mutex`: kprobe_mutex held (mutex track) or waited for (task track);
 * - `sync`: a text-patch sync waiting for CPUs' IPI acknowledgements;
 * - `gp`: an RCU grace period waiting for CPUs' quiescent states.
 */
export type SliceCat = 'task' | 'call' | 'kprobe' | 'handler' | 'singlestep' | 'kretprobe' | 'irq' | 'api' | 'mutex' | 'sync' | 'gp';

export interface Slice {
  readonly track: string;
  readonly name: string;
  /** One of SliceCat (string so that later categories do not break consumers). */
  readonly cat: string;
  /** Inclusive seqs of the log events that open and close the slice (clipped to the window). */
  readonly startSeq: number;
  readonly endSeq: number;
  /** How many slices of the same track contain this one (0: outermost). */
  readonly depth: number;
  readonly args: Readonly<Record<string, unknown>>;
  /** The slice began before the window (--from): startSeq is the window's first seq. */
  readonly clippedStart?: boolean;
  /** The slice ends after the window (--to) or was still open where the log ends: endSeq is the last seq. */
  readonly clippedEnd?: boolean;
}

export type Severity = 'info' | 'miss' | 'warn' | 'bug' | 'violation';

export interface Instant {
  readonly track: string;
  readonly name: string;
  /** `miss`, `bug`, `warn`, `violation`, `sched`, `fault`, … */
  readonly cat: string;
  readonly seq: number;
  readonly severity: Severity;
  readonly args: Readonly<Record<string, unknown>>;
}

export interface CounterSeries {
  /** `hits/<probe>`, `nmissed/<probe>`, `free/<kretprobe>`. */
  readonly id: string;
  /** "kp hits", "kp nmissed", "rp free instances". */
  readonly name: string;
  /** One point where the value changed (and one at the window's first seq), in seq order. */
  readonly points: readonly { readonly seq: number; readonly value: number }[];
  /** What is counted, and of which probe (additions to the agreed shape). */
  readonly kind?: 'hits' | 'nmissed' | 'free';
  readonly probe?: string;
}

export interface Flow {
  /** 1, 2, … in the order the flows start. */
  readonly id: number;
  readonly name: string;
  /**
   * Two kinds, told apart by `cat`:
   * - `wait`: from the waiting slice (a text-patch sync or a grace period, on the calling task's
   *   track) to a CPU it waits for, both at the seq the wait begins: the arrow lands in what that
   *   CPU is doing then (typically a handler of the probe being removed);
   * - `release`: from that CPU at the seq it acknowledges (`ipi.ack`, `rcu.qs`) to the waiting
   *   slice at the seq the wait ends. Missing when the CPU's acknowledgement is outside the window.
   */
  readonly from: { readonly track: string; readonly seq: number };
  readonly to: { readonly track: string; readonly seq: number };
  /** `wait` or `release` (an addition to the agreed shape). */
  readonly cat?: 'wait' | 'release';
  /** What is waited for: a text-patch sync or a grace period, and its generation (additions). */
  readonly what?: 'sync' | 'gp';
  readonly gen?: number;
}

/** A seq window: events outside [from, to] are folded (for counters and state) but not drawn. */
export interface TimelineOptions {
  readonly from?: number;
  readonly to?: number;
}

/** What buildTimeline reads: the log's header and its events in seq order (log.end included or not). */
export interface TimelineInput {
  readonly header: LogHeader;
  /** The header's scenario, validated; buildTimeline validates `header.scenario` when absent. */
  readonly scenario?: Scenario;
  readonly events: Iterable<LoggedEvent>;
}

/** The builder's signature (implemented in ./build.ts, exported from ./index.ts). */
export type BuildTimeline = (input: TimelineInput, options?: TimelineOptions) => Timeline;
