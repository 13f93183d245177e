import type { MutantName } from '../kprobes/mutants.ts';
import type { FailureKind } from './detectors.ts';
import type { ScenarioSize } from './shrink-scenario.ts';

// The exploration report (`kprobesim explore --report FILE`, and what explore() returns): its
// first four fields are the contract of issue 12; the rest say how it was made, so that shard
// reports can be checked against each other and merged. Nothing in it depends on time or on
// the number of workers: the same command gives the same bytes.

export const EXPLORE_STRATEGIES = ['portfolio', 'random', 'pct', 'dfs', 'swarm'] as const;
export type ExploreStrategyName = (typeof EXPLORE_STRATEGIES)[number];

export interface FailureReport {
  readonly kind: FailureKind;
  readonly message: string;
  /** The shrunk failure's log (an ordinary kprobesim log), or null when no log was written. */
  readonly log: string | null;
  /** Decisions of the shrunk run up to the failure. */
  readonly decisions: number;
  /** Decisions of the run that found it, up to the failure. */
  readonly decisions_before_shrinking: number;
  /** Decisions of the shrunk run that differ from the default schedule. */
  readonly preemptions: number;
  readonly preemptions_before_shrinking: number;
  /**
   * How often the CPU that steps changes from one decision to the next, up to the failure, in
   * the shrunk run and in the run that found it (a preemption is one kind of switch; the default
   * schedule switches too, when the CPU that stepped last cannot go on).
   */
  readonly context_switches: number;
  readonly context_switches_before_shrinking: number;
  /** The seed of the run's schedule (derived from --seed and the run's index; dfs: --seed). */
  readonly seed: number;
  /** The invariant, event or check that failed (INV-unregister, kernel.oops, kernel.deadlock, liveness). */
  readonly check: string;
  /** The run's index in the exploration. */
  readonly run: number;
  /** The strategy that made the run (a portfolio's member). */
  readonly strategy: string;
  /**
   * The shrunk schedule: the decisions where it leaves the default schedule, each with its
   * decision's label (src/scheduler/label.ts: what the step does, `cpu0: rmmod wakes`), the same
   * words as that decision's sched.pick in the failure's log.
   */
  readonly schedule: readonly { readonly at: number; readonly cpu: number; readonly switch_to: number | null; readonly label?: string }[];
  /**
   * The shrunk run as a short story (./story.ts): each CPU's last visible step before each
   * preemption, the steps that followed it, the failing step and the violated check.
   */
  readonly story?: readonly string[];
  /** The scenario's size as given, and after shrinking it (./shrink-scenario.ts); the log holds the latter. */
  readonly scenario_before: ScenarioSize;
  /** Null when it was not shrunk (`scenario_not_shrunk` says why). */
  readonly scenario_after: ScenarioSize | null;
  readonly scenario_not_shrunk: string | null;
}

export interface ExploreReport {
  readonly runs: number;
  readonly strategy: ExploreStrategyName;
  /** Distinct fingerprints of the kernel states at scheduling decisions (a merged report: summed over shards). */
  readonly distinct_states: number;
  readonly failures: readonly FailureReport[];
  readonly scenario: string;
  readonly seed: number;
  /** --runs. */
  readonly budget: number;
  readonly keep_going: boolean;
  readonly mutant: MutantName | null;
  readonly shard: { readonly index: number; readonly count: number } | null;
  /** pct and portfolio: PCT's parameters and its per-run bound 1/(n·k^(d−1)). */
  readonly pct: { readonly d: number; readonly k: number; readonly n: number; readonly guarantee: number } | null;
  /** dfs: its bounds, and whether the tree was explored to the end within them. */
  readonly dfs: { readonly depth: number | null; readonly preemption_bound: number; readonly exhausted: boolean } | null;
  /** The decisions the fair liveness phase gives pending calls and grace periods. */
  readonly liveness_bound: number;
}

/** The report as the file holds it: two-space JSON and a final newline. */
export function reportText(r: ExploreReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
