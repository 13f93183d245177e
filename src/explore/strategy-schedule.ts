import fc from 'fast-check';
import type { MutantName } from '../kprobes/mutants.ts';
import type { Scenario } from '../scenario/types.ts';
import { runSchedule, scheduleArbitrary, type Preempt } from './arbitrary.ts';
import { explorationRun, pctLength } from './batch.ts';
import type { RunRecord } from './execute.ts';

// Schedules for property tests drawn through the exploration strategies: a schedule is run `run`
// of `kprobesim explore --strategy S --seed SEED` (PCT with its `--depth`), or a short list of
// preemptions away from the default schedule (./arbitrary.ts). A property over
// scenarioArbitrary() × strategyScheduleArbitrary() thus searches the way explore does (PCT's
// priority change points, swarm's starved CPUs, the random walk) instead of only the uniform walk,
// and fast-check still shrinks both: the scenario, and the schedule towards fewer preemptions,
// run 0, seed 0, a shallower PCT. A counterexample names its own reproduction: the explore
// command below (which then shrinks the interleaving itself and writes a log), or the
// preemptions for runSchedule.

export type StrategySchedule =
  | { readonly strategy: 'preemptions'; readonly seed: number; readonly preemptions: readonly Preempt[] }
  | { readonly strategy: 'random' | 'swarm'; readonly seed: number; readonly run: number }
  | { readonly strategy: 'pct'; readonly seed: number; readonly run: number; readonly depth: number };

export type ScheduleStrategyName = StrategySchedule['strategy'];

export interface StrategyScheduleOptions {
  /** Preemption lists name CPUs 0 … cpus−1 (one the scenario lacks is skipped). Default 4. */
  readonly cpus?: number;
  /** Which strategies to draw from (default all four), in the order fast-check shrinks towards. */
  readonly strategies?: readonly ScheduleStrategyName[];
  /** PCT depths drawn (default 1 … 4; explore's default is 3). */
  readonly maxDepth?: number;
  /** Preemptions fall at decisions 0 … maxDecision (default 2000). */
  readonly maxDecision?: number;
  /** Exploration seeds 0 … maxSeed (default 2^32 − 1). */
  readonly maxSeed?: number;
  /** Run indexes 0 … maxRun (default 999, explore's default budget). */
  readonly maxRun?: number;
}

export const SCHEDULE_STRATEGIES: readonly ScheduleStrategyName[] = ['preemptions', 'random', 'pct', 'swarm'];

export function strategyScheduleArbitrary(opts: StrategyScheduleOptions = {}): fc.Arbitrary<StrategySchedule> {
  const seed = fc.integer({ min: 0, max: opts.maxSeed ?? 0xffffffff });
  const run = fc.integer({ min: 0, max: opts.maxRun ?? 999 });
  const of = (s: ScheduleStrategyName): fc.Arbitrary<StrategySchedule> => {
    switch (s) {
      case 'preemptions':
        return fc.record({
          strategy: fc.constant(s),
          seed,
          preemptions: scheduleArbitrary({ cpus: opts.cpus ?? 4, maxDecision: opts.maxDecision ?? 2000 }),
        });
      case 'random':
      case 'swarm':
        return fc.record({ strategy: fc.constant(s), seed, run });
      case 'pct':
        return fc.record({ strategy: fc.constant(s), seed, run, depth: fc.integer({ min: 1, max: opts.maxDepth ?? 4 }) });
    }
  };
  const arbs = (opts.strategies ?? SCHEDULE_STRATEGIES).map(of);
  // Cross-shrinking lets a failing schedule shrink into an earlier strategy's (a preemption list).
  return arbs.length === 1 ? arbs[0]! : fc.oneof({ withCrossShrink: true }, ...arbs);
}

/** PCT's k per scenario, seed and mutant, computed once (a property draws many runs of one scenario). */
const pctLengths = new WeakMap<Scenario, Map<string, number>>();
function cachedPctLength(scenario: Scenario, seed: number, mutant: MutantName | undefined): number {
  let bySeed = pctLengths.get(scenario);
  if (bySeed === undefined) pctLengths.set(scenario, (bySeed = new Map()));
  const key = `${seed}/${mutant ?? ''}`;
  let k = bySeed.get(key);
  if (k === undefined) bySeed.set(key, (k = pctLength(scenario, seed, mutant)));
  return k;
}

/**
 * Runs `scenario` under `schedule`, watched by every failure detector of explore (INV-*, kernel
 * BUG/oops/WARN, deadlock, liveness, …), stopped at the first failure: the same run as run
 * `schedule.run` of the explore command `exploreCommand` names.
 */
export function runStrategySchedule(scenario: Scenario, schedule: StrategySchedule, opts: { mutant?: MutantName } = {}): RunRecord {
  const { mutant } = opts;
  if (schedule.strategy === 'preemptions') return runSchedule(scenario, schedule.preemptions, mutant === undefined ? { seed: schedule.seed } : { seed: schedule.seed, mutant });
  const pct = schedule.strategy === 'pct' ? { depth: schedule.depth, length: cachedPctLength(scenario, schedule.seed, mutant) } : { depth: 1, length: 1 };
  const task = { scenario, seed: schedule.seed, strategy: schedule.strategy, pct };
  return explorationRun(mutant === undefined ? task : { ...task, mutant }, schedule.run).record;
}

/** The explore command that reproduces a strategy's run (for the scenario saved as `file`). */
export function exploreCommand(schedule: Exclude<StrategySchedule, { strategy: 'preemptions' }>, file: string, mutant?: MutantName): string {
  const depth = schedule.strategy === 'pct' ? ` --depth ${schedule.depth}` : '';
  const m = mutant === undefined ? '' : ` --mutant ${mutant}`;
  // Runs 0 … run: explore stops at the first failing one (this one, or an earlier run that fails too).
  return `kprobesim explore ${file} --strategy ${schedule.strategy}${depth} --seed ${schedule.seed} --runs ${schedule.run + 1}${m}`;
}
