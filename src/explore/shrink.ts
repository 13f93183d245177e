import type { MutantName } from '../kprobes/mutants.ts';
import type { Scenario } from '../scenario/types.ts';
import type { Choice } from '../scheduler/choices.ts';
import { defaultIndex, forcedStrategy } from '../scheduler/strategies.ts';
import type { Failure } from './detectors.ts';
import { executeRun, type RunRecord } from './execute.ts';

// Shrinking a failing schedule to its essential orderings. A schedule is read as the default
// schedule (the CPU that stepped last goes on while it can, else the lowest CPU) plus the
// decisions where it leaves it: its preemptions. Delta debugging (Zeller and Hildebrandt's ddmin)
// removes preemptions while the run still fails the same way (same kind, same check), replaying
// leniently: a kept preemption that is no longer on the menu at its decision is skipped. The
// result is 1-minimal: dropping any one of its preemptions loses the failure. Everything here is
// a function of its inputs, so shrinking is as deterministic as the runs.

/** At most this many runs per shrink (a bound on time, deterministic since it counts runs). */
export const SHRINK_RUNS = 400;

export interface Preemption {
  readonly at: number;
  readonly choice: Choice;
}

/** A failing run, to shrink and report. */
export interface Found {
  readonly run: number;
  /** The seed of its schedule. */
  readonly seed: number;
  /** The strategy that made it (a portfolio's member). */
  readonly strategy: string;
  readonly failure: Failure;
  readonly failureAt: number;
  /** Its decisions up to the failure. */
  readonly decisions: readonly Choice[];
}

export interface Shrunk {
  /** The shrunk schedule: its preemptions, by decision index. */
  readonly preemptions: readonly Preemption[];
  /** Its run, stopped at the failure. */
  readonly record: RunRecord;
  /** Preemptions of the schedule before shrinking. */
  readonly preemptionsBefore: number;
  /** Runs spent shrinking. */
  readonly runs: number;
}

export interface ShrinkSpec {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly mutant?: MutantName;
}

function sameFailure(a: Failure | null, b: Failure): boolean {
  return a !== null && a.kind === b.kind && a.check === b.check;
}

/** The decisions of `record` up to its failure that differ from the default schedule. */
export function preemptionsOf(record: RunRecord): Preemption[] {
  const out: Preemption[] = [];
  let last: number | null = null;
  for (let i = 0; i < record.failureAt; i++) {
    const chosen = record.decisions[i]!;
    const menu: readonly Choice[] = record.menus![i]!;
    const dflt: Choice = menu[defaultIndex(menu, last)]!;
    if (dflt.cpu !== chosen.cpu || dflt.switch_to !== chosen.switch_to) out.push({ at: i, choice: chosen });
    last = chosen.cpu;
  }
  return out;
}

function runWith(spec: ShrinkSpec, forced: readonly Preemption[]): RunRecord {
  const byIndex = new Map(forced.map((p) => [p.at, p.choice]));
  const opts = { scenario: spec.scenario, seed: spec.seed, strategy: forcedStrategy('explore', (i) => byIndex.get(i)), menus: true, stopAtFailure: true };
  return executeRun(spec.mutant === undefined ? opts : { ...opts, mutant: spec.mutant });
}

/** Shrinks the failing run whose decisions are `decisions` (it failed with `failure`). */
export function shrinkSchedule(spec: ShrinkSpec, decisions: readonly Choice[], failure: Failure): Shrunk {
  let runs = 0;
  // The original, re-run with every decision forced, gives the menus its preemptions are read from.
  const original = runWith(spec, decisions.map((choice, at) => ({ at, choice })));
  runs++;
  if (!sameFailure(original.failure, failure)) throw new Error(`internal: a failing schedule did not fail again when forced (${failure.check})`);
  let best = { preemptions: preemptionsOf(original), record: original };
  const preemptionsBefore = best.preemptions.length;
  const test = (candidate: readonly Preemption[]): boolean => {
    if (runs >= SHRINK_RUNS) return false;
    const r = runWith(spec, candidate);
    runs++;
    if (!sameFailure(r.failure, failure)) return false;
    // What the run actually did: skipped preemptions drop out, and a forced decision that
    // became the default is no longer one.
    best = { preemptions: preemptionsOf(r), record: r };
    return true;
  };
  if (best.preemptions.length > 0 && !test([])) {
    // ddmin over the preemptions (in decision order).
    let n = 2;
    while (best.preemptions.length >= 2 && runs < SHRINK_RUNS) {
      const c = best.preemptions;
      const size = Math.ceil(c.length / n);
      const chunks: Preemption[][] = [];
      for (let i = 0; i < c.length; i += size) chunks.push(c.slice(i, i + size));
      let reduced = false;
      for (const chunk of chunks) {
        if (test(chunk)) {
          n = 2;
          reduced = true;
          break;
        }
      }
      if (!reduced) {
        for (let k = 0; k < chunks.length && !reduced; k++) {
          if (chunks.length > 2 && test(chunks.filter((_, j) => j !== k).flat())) {
            n = Math.max(n - 1, 2);
            reduced = true;
          }
        }
      }
      if (!reduced) {
        if (n >= c.length) break;
        n = Math.min(c.length, n * 2);
      }
    }
  }
  return { preemptions: best.preemptions, record: best.record, preemptionsBefore, runs };
}
