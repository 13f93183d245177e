import type { MutantName } from '../kprobes/mutants.ts';
import type { Scenario } from '../scenario/types.ts';
import type { Choice } from '../scheduler/choices.ts';
import { forcedStrategy, pctStrategy, portfolioMember, portfolioStrategy, randomStrategy, swarmStrategy, type PctOptions, type Strategy } from '../scheduler/strategies.ts';
import type { Failure } from './detectors.ts';
import { executeRun, type RunRecord } from './execute.ts';

// Runs of the strategies whose runs are independent of each other (all but dfs): run i is a
// function of the exploration's seed and i alone, so any subset of them can be run anywhere (a
// worker process, another shard) and merged by index into what one process would have found.

export type IndependentStrategy = 'random' | 'pct' | 'swarm' | 'portfolio';

export interface BatchTask {
  readonly scenario: Scenario;
  /** --seed: the simulation's seed, and the root of every run's schedule seed. */
  readonly seed: number;
  readonly strategy: IndependentStrategy;
  readonly pct: PctOptions;
  readonly mutant?: MutantName;
  readonly indices: readonly number[];
  /** PCT's runs preempt only at branch points (partial-order reduction, ./visibility.ts). Default: on. */
  readonly reduce?: boolean;
}

export interface RunResult {
  readonly index: number;
  /** The seed of this run's schedule. */
  readonly seed: number;
  /** The strategy that made it (a portfolio's member). */
  readonly strategy: string;
  readonly failure: Failure | null;
  readonly failureAt: number;
  /** The run's decisions when it failed (to shrink), else null. */
  readonly decisions: readonly Choice[] | null;
  /** The distinct state fingerprints the run visited. */
  readonly hashes: readonly number[];
}

/** Run i's schedule seed: --seed and i mixed (a 32-bit finalizer, so neighbouring runs differ in every bit). */
export function runSeed(seed: number, index: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

export function strategyFor(name: IndependentStrategy, index: number, seed: number, pct: PctOptions): { strategy: Strategy; member: string } {
  switch (name) {
    case 'random':
      return { strategy: randomStrategy(seed), member: name };
    case 'pct':
      return { strategy: pctStrategy(seed, pct), member: name };
    case 'swarm':
      return { strategy: swarmStrategy(seed), member: name };
    case 'portfolio':
      return { strategy: portfolioStrategy(index, seed, pct), member: portfolioMember(index) };
  }
}

/**
 * PCT's k for an exploration: the branch points of the default schedule's run, stopped at its
 * failure if it fails (runs near it fail as early). With the reduction PCT is asked only at
 * branch points, so k counts those; without it, every decision is one.
 */
export function pctLength(scenario: Scenario, seed: number, mutant: MutantName | undefined, reduce = true): number {
  const spec = { scenario, seed, strategy: forcedStrategy('dfs', () => undefined), stopAtFailure: true, reduce };
  return executeRun(mutant === undefined ? spec : { ...spec, mutant }).branch.filter((b) => b).length;
}

/** Run `index` of an exploration: its schedule's seed, the strategy (a portfolio's member) and the run. */
export function explorationRun(task: Omit<BatchTask, 'indices'>, index: number): { seed: number; member: string; record: RunRecord } {
  const seed = runSeed(task.seed, index);
  const { strategy, member } = strategyFor(task.strategy, index, seed, task.pct);
  // PCT's change points fall among the branch points only (its k counts them): a priority
  // change between invisible steps could not change what the run reaches. The random walk and
  // swarm keep every decision theirs (their breadth is the point of them).
  const reduce = member === 'pct' && task.reduce !== false;
  const spec = { scenario: task.scenario, seed: task.seed, strategy, stopAtFailure: true, reduce };
  return { seed, member, record: executeRun(task.mutant === undefined ? spec : { ...spec, mutant: task.mutant }) };
}

export function runBatch(task: BatchTask): RunResult[] {
  return task.indices.map((index) => {
    const { seed, member, record: r } = explorationRun(task, index);
    return {
      index,
      seed,
      strategy: member,
      failure: r.failure,
      failureAt: r.failureAt,
      decisions: r.failure === null ? null : r.decisions.slice(0, r.failureAt),
      hashes: [...new Set(r.hashes)],
    };
  });
}
