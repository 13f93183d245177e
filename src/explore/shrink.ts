import type { MutantName } from '../kprobes/mutants.ts';
import type { LoggedEvent } from '../model/events.ts';
import { createSetup } from '../model/setup.ts';
import type { Scenario } from '../scenario/types.ts';
import type { Choice } from '../scheduler/choices.ts';
import { defaultIndex, forcedStrategy, type Strategy } from '../scheduler/strategies.ts';
import type { Failure } from './detectors.ts';
import { executeRun, livenessBound, type RunRecord } from './execute.ts';
import { advanceTargets, contextSwitches, mergeMoves, reordered, shifted, type StepInfo } from './shrink-reorder.ts';
import { labelReplay, type LabelledPreemption } from './shrink-replay.ts';
import { visibilityOf, type Visibility } from './visibility.ts';

// Shrinking a failing schedule to its essential orderings. A schedule is read as the default
// schedule (the CPU that stepped last goes on while it can, else the lowest CPU) plus the
// decisions where it leaves it: its preemptions. Three passes take turns until a whole round
// gains nothing (or the run budget is spent):
// - ddmin (Zeller and Hildebrandt's delta debugging) removes preemptions while the run still
//   fails the same way (same kind, same check), replaying leniently (./shrink-replay.ts): a
//   kept preemption is applied at its decision index when its choice is on the menu there, else
//   at the first decision a few later where the step it made happen (its label) is, else skipped;
// - reordering (./shrink-reorder.ts) moves a block of one CPU's steps past a neighbouring block
//   so that two blocks of another CPU merge: one context switch fewer, no more preemptions, the
//   same failure no later;
// - advancing (./shrink-reorder.ts) moves the race window earlier: the preemptions shifted back
//   to where the preempted CPU had made the same kind of step before (an earlier iteration of
//   its loop), the same failure earlier, with no more preemptions or context switches.
// Every gain makes (preemptions, context switches, decisions) smaller in that order, so the
// rounds end. The last round's ddmin gained nothing, so the result is 1-minimal: dropping any
// one of its preemptions loses the failure. Everything here is a function of its inputs and
// counts runs, never time, so shrinking is as deterministic as the runs.

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
  /** The shrunk schedule: its preemptions, by decision index, each with its decision's label. */
  readonly preemptions: readonly LabelledPreemption[];
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

export interface ShrinkOptions {
  /** The run budget (default SHRINK_RUNS). */
  readonly runs?: number;
  /** Which passes take turns with ddmin (default both: the tests turn them off to compare). */
  readonly reorder?: boolean;
  readonly advance?: boolean;
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
    // After a yield (the last step only spun) the default moves on: switching away is free.
    const dflt: Choice = menu[defaultIndex(menu, last, i > 0 && record.yields[i - 1] === true)]!;
    if (dflt.cpu !== chosen.cpu || dflt.switch_to !== chosen.switch_to) out.push({ at: i, choice: chosen });
    last = chosen.cpu;
  }
  return out;
}

/** Context switches of `record` up to its failure (./shrink-reorder.ts). */
export function contextSwitchesOf(record: RunRecord): number {
  return contextSwitches(record.decisions.slice(0, record.failureAt));
}

/** A run with what the reordering passes read: each decision's step, and its label. */
interface Traced {
  readonly record: RunRecord;
  readonly steps: readonly StepInfo[];
  /** labels[i]: decision i's label, as its sched.pick carries it. */
  readonly labels: readonly string[];
}

/** A candidate's schedule, and how it labels choices when it replays by labels. */
interface Candidate {
  readonly strategy: Strategy;
  readonly labelChoices?: (labelOf: (choice: Choice) => string) => void;
}

/** Every decision as `forced` says (the default where it says nothing or is not on the menu). */
const byIndex = (forced: (i: number) => Choice | undefined): Candidate => ({ strategy: forcedStrategy('explore', forced) });

function runTraced(spec: ShrinkSpec, visibility: Visibility, candidate: Candidate): Traced {
  const steps: { visible: boolean; what: string[] }[] = [];
  const labels: string[] = [];
  // executeRun labels every decision of a run whose events are taken, as a log's sched.pick lines.
  const onEvent = (e: LoggedEvent) => {
    if (e.type === 'sched.pick') {
      steps.push({ visible: false, what: [] });
      labels.push(e.label!);
      return;
    }
    const s = steps.at(-1);
    if (s === undefined) return;
    s.what.push(e.type);
    if (visibility.visible(e)) s.visible = true;
  };
  const opts = { scenario: spec.scenario, seed: spec.seed, ...candidate, menus: true, stopAtFailure: true, onEvent };
  const record = executeRun(spec.mutant === undefined ? opts : { ...opts, mutant: spec.mutant });
  return { record, steps: steps.map((s) => ({ visible: s.visible, what: s.what.join(' ') })), labels };
}

/** Shrinks the failing run whose decisions are `decisions` (it failed with `failure`). */
export function shrinkSchedule(spec: ShrinkSpec, decisions: readonly Choice[], failure: Failure, options: ShrinkOptions = {}): Shrunk {
  const budget = options.runs ?? SHRINK_RUNS;
  const safetySteps = spec.scenario.max_steps - livenessBound(spec.scenario);
  let runs = 0;
  const visibility = visibilityOf(createSetup(spec.scenario, spec.seed));
  // The original, re-run with every decision forced, gives the menus its preemptions are read
  // from, and their labels.
  const original = runTraced(spec, visibility, byIndex((i) => decisions[i]));
  runs++;
  if (!sameFailure(original.record.failure, failure)) throw new Error(`internal: a failing schedule did not fail again when forced (${failure.check})`);
  interface Best extends Traced {
    readonly preemptions: LabelledPreemption[];
    readonly switches: number;
  }
  const measure = (t: Traced): Best => ({ ...t, preemptions: preemptionsOf(t.record).map((p) => ({ ...p, label: t.labels[p.at]! })), switches: contextSwitchesOf(t.record) });
  let best = measure(original);
  const preemptionsBefore = best.preemptions.length;

  /** Runs a candidate; keeps it (as what the run actually did) when it fails the same way and `better` says so. */
  const attempt = (candidate: Candidate, better: (c: Best) => boolean): boolean => {
    if (runs >= budget) return false;
    const t = runTraced(spec, visibility, candidate);
    runs++;
    if (!sameFailure(t.record.failure, failure)) return false;
    // What the run actually did: skipped preemptions drop out, and a forced decision that
    // became the default is no longer one.
    const c = measure(t);
    if (!better(c)) return false;
    best = c;
    return true;
  };

  // ddmin over the preemptions (in decision order); any run failing the same way counts.
  const ddmin = (): void => {
    const test = (candidate: readonly LabelledPreemption[]) => attempt(labelReplay(candidate), () => true);
    if (best.preemptions.length === 0 || test([])) return;
    let n = 2;
    while (best.preemptions.length >= 2 && runs < budget) {
      const c = best.preemptions;
      const size = Math.ceil(c.length / n);
      const chunks: LabelledPreemption[][] = [];
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
  };

  // Merging blocks: greedy, the first candidate kept starts a new list from the new schedule.
  const reorder = (): void => {
    for (;;) {
      const current = best;
      // Up to the failure, and not into the fair liveness phase (no strategy decides there).
      const decided = current.record.decisions.slice(0, Math.min(current.record.failureAt, safetySteps));
      const kept = mergeMoves(decided, current.steps).some((m) => {
        const forced = reordered(decided, m);
        return attempt(byIndex((i) => forced[i]), (c) => c.record.failureAt <= current.record.failureAt && c.switches < current.switches && c.preemptions.length <= current.preemptions.length);
      });
      if (!kept || runs >= budget) return;
    }
  };

  // Advancing the window: for each preemption in turn, the earliest earlier place that still
  // fails, by bisection over the places of the same kind (a window, once open, mostly stays open
  // for later iterations: where it does not, bisection settles for a later place, never a wrong one).
  const advance = (): void => {
    for (let k = 0; k < best.preemptions.length && runs < budget; k++) {
      const current = best;
      const p = current.preemptions[k]!.at;
      const targets = advanceTargets(current.record.decisions, current.steps, current.preemptions, k);
      const better = (c: Best) => c.record.failureAt < current.record.failureAt && c.preemptions.length <= current.preemptions.length && c.switches <= current.switches;
      let lo = 0;
      let hi = targets.length; // targets[hi] (p itself when hi = length) is known to fail
      let found: Best | null = null;
      while (lo < hi && runs < budget) {
        const mid = (lo + hi) >> 1;
        best = current;
        if (attempt(labelReplay(shifted(current.preemptions, k, p - targets[mid]!)), better)) {
          found = best;
          hi = mid;
        } else lo = mid + 1;
      }
      best = found ?? current;
    }
  };

  const key = (b: Best) => [b.preemptions.length, b.switches, b.record.failureAt] as const;
  const smaller = (a: readonly number[], b: readonly number[]) => a[0]! < b[0]! || (a[0] === b[0] && (a[1]! < b[1]! || (a[1] === b[1] && a[2]! < b[2]!)));
  for (;;) {
    const before = key(best);
    ddmin();
    if (options.reorder !== false) reorder();
    if (options.advance !== false) advance();
    if (runs >= budget || !smaller(key(best), before)) break;
  }
  return { preemptions: best.preemptions, record: best.record, preemptionsBefore, runs };
}
