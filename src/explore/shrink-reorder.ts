import type { Choice } from '../scheduler/choices.ts';
import type { Preemption } from './shrink.ts';

// Reordering a failing schedule's steps (issue 12, "Shrinking and explaining" step 1: "reorder
// adjacent independent steps to remove context switches"), and moving its race window earlier.
// Both only propose candidates; ./shrink.ts runs each one (forced, lenient replay) and keeps it
// only when the run still fails with the same kind and check, and no later. Whether two steps
// commute is decided by that re-run, not assumed: visibility (./visibility.ts) only orders the
// candidates, the likeliest to commute first.
//
// A schedule's decisions, read as BLOCKS of consecutive decisions of one CPU: each boundary
// between two blocks is a context switch (the CPU that steps changes). In A1 B A2, where A1 and
// A2 are blocks of CPU a and B a block of another CPU, moving B past A2 (A1 A2 B) or before A1
// (B A1 A2) merges A1 and A2 and removes at least one switch; when B's steps commute with the
// steps they are moved past, the run reaches the same states and fails the same way.

/** What a decision's step did, as a shrink candidate's ordering and matching need it. */
export interface StepInfo {
  /** Whether another CPU could observe the step (./visibility.ts); unknown steps are visible. */
  readonly visible: boolean;
  /** The types of the events the step emitted, in order (sched.pick left out): its kind. */
  readonly what: string;
}

/** How often the stepping CPU changes between consecutive decisions of `decisions`. */
export function contextSwitches(decisions: readonly Choice[]): number {
  let n = 0;
  for (let i = 1; i < decisions.length; i++) if (decisions[i]!.cpu !== decisions[i - 1]!.cpu) n++;
  return n;
}

export interface Block {
  readonly cpu: number;
  /** Its decisions are start..end-1. */
  readonly start: number;
  readonly end: number;
}

export function blocksOf(decisions: readonly Choice[]): Block[] {
  const out: Block[] = [];
  let start = 0;
  for (let i = 1; i <= decisions.length; i++) {
    if (i === decisions.length || decisions[i]!.cpu !== decisions[start]!.cpu) {
      out.push({ cpu: decisions[start]!.cpu, start, end: i });
      start = i;
    }
  }
  return out;
}

/** A merge of A1 B A2: B moved after A2 (`later`), or before A1. */
export interface Merge {
  readonly a1: Block;
  readonly b: Block;
  readonly a2: Block;
  readonly later: boolean;
}

/**
 * The merges of `decisions` (a failing run's decisions up to its failure), likeliest to commute
 * first: fewest visible steps jumped over, then fewest steps jumped over, then nearest the
 * failure (where the race is). Each merges two blocks of one CPU by moving the block between
 * them past one of them. Only described here (a long run has thousands); `reordered` builds one.
 */
export function mergeMoves(decisions: readonly Choice[], steps: readonly StepInfo[]): Merge[] {
  const blocks = blocksOf(decisions);
  const visibleIn = (b: Block) => {
    let n = 0;
    for (let i = b.start; i < b.end; i++) if (steps[i]?.visible ?? true) n++;
    return n;
  };
  const moves: { m: Merge; visible: number; jumped: number }[] = [];
  for (let k = 1; k + 1 < blocks.length; k++) {
    const a1 = blocks[k - 1]!;
    const b = blocks[k]!;
    const a2 = blocks[k + 1]!;
    if (a1.cpu !== a2.cpu) continue;
    moves.push({ m: { a1, b, a2, later: true }, visible: visibleIn(a2), jumped: a2.end - a2.start });
    moves.push({ m: { a1, b, a2, later: false }, visible: visibleIn(a1), jumped: a1.end - a1.start });
  }
  // Array.prototype.sort is stable: ties keep B-later before B-earlier.
  moves.sort((x, y) => x.visible - y.visible || x.jumped - y.jumped || y.m.b.start - x.m.b.start);
  return moves.map((x) => x.m);
}

/** `decisions` with merge `m` made: A1 A2 B or B A1 A2, everything else in place. */
export function reordered(decisions: readonly Choice[], m: Merge): Choice[] {
  const part = (x: Block) => decisions.slice(x.start, x.end);
  const middle = m.later ? [...part(m.a1), ...part(m.a2), ...part(m.b)] : [...part(m.b), ...part(m.a1), ...part(m.a2)];
  return [...decisions.slice(0, m.a1.start), ...middle, ...decisions.slice(m.a2.end)];
}

/**
 * Moving the window earlier: preemption k and every later one shifted back together, to an
 * earlier decision where the CPU that ran before preemption k had just made a step of the same
 * kind (the same event types) as the one before preemption k, say an earlier trap of the same
 * loop. The steps in between then run after the failure, which the shrunk run never reaches: a
 * workload's iterations before the window are cut from the schedule. Earliest first. A shift
 * keeps the preemptions before k, so candidates stay after preemption k-1.
 */
export function advanceTargets(decisions: readonly Choice[], steps: readonly StepInfo[], preemptions: readonly Preemption[], k: number): number[] {
  const p = preemptions[k]!.at;
  if (p < 1) return [];
  const prev = decisions[p - 1]!;
  const what = steps[p - 1]?.what;
  if (what === undefined) return [];
  const lower = k === 0 ? 1 : preemptions[k - 1]!.at + 1;
  const out: number[] = [];
  for (let q = lower; q < p; q++) {
    if (decisions[q - 1]!.cpu === prev.cpu && steps[q - 1]?.what === what && decisions[q]!.cpu === prev.cpu) out.push(q);
  }
  return out;
}

/** `preemptions` with preemption k and every later one moved `by` decisions earlier. */
export function shifted<P extends Preemption>(preemptions: readonly P[], k: number, by: number): P[] {
  return preemptions.map((p, j) => (j < k ? p : { ...p, at: p.at - by }));
}
