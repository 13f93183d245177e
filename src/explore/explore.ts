import type { MutantName } from '../kprobes/mutants.ts';
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import type { Scenario } from '../scenario/types.ts';
import type { Choice } from '../scheduler/choices.ts';
import { pctGuarantee, type PctOptions } from '../scheduler/strategies.ts';
import { exploreDfs } from './dfs.ts';
import { pctLength, runBatch, type BatchTask, type IndependentStrategy, type RunResult } from './batch.ts';
import { livenessBound } from './execute.ts';
import { BatchPool } from './pool.ts';
import type { ExploreReport, ExploreStrategyName, FailureReport } from './report.ts';
import { contextSwitchesOf, shrinkSchedule, type Found } from './shrink.ts';
import { contextSwitches } from './shrink-reorder.ts';
import { storyOf } from './story.ts';
import { shrinkScenario } from './shrink-scenario.ts';
import { writeFailureLog } from './write-log.ts';

// kprobesim explore: many runs of one scenario under an exploration strategy, each watched for
// failures; a failure is shrunk to its essential preemptions and written as an ordinary log.
// Runs are numbered; the report lists them in that order whatever ran them (one thread, W
// workers, N shards), so the same command gives the same report.

export interface ExploreOptions {
  readonly strategy: ExploreStrategyName;
  readonly runs: number;
  readonly seed: number;
  /** pct: the bug depth d (default 3); dfs: branch only at the first D decisions (default: all). */
  readonly depth?: number;
  /** dfs: at most B preemptions per schedule (default 2). */
  readonly preemptionBound?: number;
  /** Worker threads for independent runs (default 1: this thread). */
  readonly workers?: number;
  /** Run only the runs whose index is `index` mod `count`. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Go on after a failure (default: stop at the first). */
  readonly keepGoing?: boolean;
  readonly mutant?: MutantName;
  /** Where failure logs go (null: none written). */
  readonly out?: string | null;
  /**
   * Partial-order reduction for dfs and pct (./visibility.ts): preempt only where the running
   * CPU's last step was visible to the others. Default: on.
   */
  readonly reduce?: boolean;
  /** Called after each batch of runs (a progress display). */
  readonly onProgress?: (p: Progress) => void;
}

export interface Progress {
  readonly runs: number;
  readonly of: number;
  readonly states: number;
  readonly failures: number;
}

/** PCT's default bug depth. */
export const DEFAULT_PCT_DEPTH = 3;
export const DEFAULT_PREEMPTION_BOUND = 2;
/** Runs per batch handed to a worker (and the unit of progress). */
const CHUNK = 16;

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_');
}

export async function explore(scenario: Scenario, opts: ExploreOptions): Promise<ExploreReport> {
  if (!Number.isSafeInteger(opts.runs) || opts.runs < 1) throw new InputError('--runs', `expected a positive number of runs, got ${opts.runs}`);
  const shard = opts.shard ?? null;
  if (shard !== null && opts.strategy === 'dfs') throw new InputError('--shard', 'dfs explores one tree, each run depending on the ones before it, and cannot be split into shards (use random, pct, swarm or portfolio)');
  const keepGoing = opts.keepGoing ?? false;
  const mutant = opts.mutant;
  const out = opts.out ?? null;
  const depth = opts.depth ?? (opts.strategy === 'dfs' ? null : DEFAULT_PCT_DEPTH);
  const withMutant = <T extends object>(o: T): T => (mutant === undefined ? o : { ...o, mutant });

  // PCT draws its change points over k, the default schedule's branch points (pctLength).
  const usesPct = opts.strategy === 'pct' || opts.strategy === 'portfolio';
  const reduce = opts.reduce ?? true;
  const k = usesPct ? pctLength(scenario, opts.seed, mutant, reduce) : 0;
  const pct: PctOptions = { depth: depth ?? DEFAULT_PCT_DEPTH, length: k };
  const n = scenario.cpus + scenario.tasks.length;

  const states = new Set<number>();
  const failures: FailureReport[] = [];
  let runs = 0;
  let exhausted = false;

  const report = async (f: Found): Promise<void> => {
    const spec = withMutant({ scenario, seed: opts.seed });
    const shrunk = shrinkSchedule(spec, f.decisions, f.failure);
    // Then the scenario (./shrink-scenario.ts); the log and the figures below are the smaller one's.
    const small = shrinkScenario(spec, shrunk.preemptions, shrunk.record.failure!, shrunk.record.failureAt);
    const final = small.shrunk ? { scenario: small.scenario, preemptions: small.preemptions, record: small.record } : { scenario, preemptions: shrunk.preemptions, record: shrunk.record };
    const failure = final.record.failure!;
    const story = storyOf(withMutant({ scenario: final.scenario, seed: opts.seed }), final.preemptions, failure);
    let log: string | null = null;
    if (out !== null) {
      log = join(out, `${slug(scenario.name)}-${opts.strategy}${mutant === undefined ? '' : `-${slug(mutant)}`}-seed${opts.seed}-run${f.run}.jsonl`);
      await writeFailureLog(withMutant({ path: log, scenario: final.scenario, seed: opts.seed, preemptions: final.preemptions, foundBy: f.strategy, run: f.run }));
    }
    failures.push({
      kind: failure.kind,
      message: failure.message,
      log,
      decisions: final.record.failureAt,
      decisions_before_shrinking: f.failureAt,
      preemptions: final.preemptions.length,
      preemptions_before_shrinking: shrunk.preemptionsBefore,
      context_switches: contextSwitchesOf(final.record),
      context_switches_before_shrinking: contextSwitches(f.decisions.slice(0, f.failureAt)),
      seed: f.seed,
      check: failure.check,
      run: f.run,
      strategy: f.strategy,
      schedule: final.preemptions.map((p, i) => ({ at: p.at, cpu: p.choice.cpu, switch_to: p.choice.switch_to, label: story.labels[i]! })),
      story: story.lines,
      scenario_before: small.before,
      scenario_after: small.shrunk ? small.after : null,
      scenario_not_shrunk: small.shrunk ? null : small.reason,
    });
  };

  if (opts.strategy === 'dfs') {
    const onRuns = (n: number) => opts.onProgress?.({ runs: n, of: opts.runs, states: states.size, failures: failures.length });
    const dfs = { scenario, seed: opts.seed, runs: opts.runs, depth, preemptionBound: opts.preemptionBound ?? DEFAULT_PREEMPTION_BOUND, onRuns, reduce };
    const r = await exploreDfs(withMutant(dfs), states, async (f) => {
      await report(f);
      return keepGoing;
    });
    runs = r.runs;
    exhausted = r.exhausted;
  } else {
    const indices: number[] = [];
    for (let i = 0; i < opts.runs; i++) if (shard === null || i % shard.count === shard.index) indices.push(i);
    const task = (chunk: number[]): BatchTask => withMutant({ scenario, seed: opts.seed, strategy: opts.strategy as IndependentStrategy, pct, indices: chunk, reduce });
    const chunks: number[][] = [];
    for (let i = 0; i < indices.length; i += CHUNK) chunks.push(indices.slice(i, i + CHUNK));
    const workers = Math.max(1, opts.workers ?? 1);
    const pool = workers > 1 ? new BatchPool(workers) : null;
    try {
      // Batches run ahead on the workers (two per worker in flight); results are taken in run order.
      const inFlight: Promise<RunResult[]>[] = [];
      let next = 0;
      const launch = () => {
        while (next < chunks.length && inFlight.length < workers * 2) inFlight.push(pool!.run(task(chunks[next++]!)));
      };
      let stop = false;
      for (let c = 0; c < chunks.length && !stop; c++) {
        let results: RunResult[];
        if (pool === null) results = runBatch(task(chunks[c]!));
        else {
          launch();
          results = await inFlight.shift()!;
        }
        for (const r of results) {
          runs++;
          for (const h of r.hashes) states.add(h);
          if (r.failure !== null) {
            await report({ run: r.index, seed: r.seed, strategy: r.strategy, failure: r.failure, failureAt: r.failureAt, decisions: r.decisions! });
            if (!keepGoing) {
              stop = true;
              break;
            }
          }
        }
        opts.onProgress?.({ runs, of: indices.length, states: states.size, failures: failures.length });
      }
      if (pool !== null) await Promise.allSettled(inFlight);
    } finally {
      await pool?.destroy();
    }
  }

  return {
    runs,
    strategy: opts.strategy,
    distinct_states: states.size,
    failures,
    scenario: scenario.name,
    seed: opts.seed,
    budget: opts.runs,
    keep_going: keepGoing,
    mutant: mutant ?? null,
    shard,
    pct: usesPct ? { d: pct.depth, k: pct.length, n, guarantee: pctGuarantee(n, pct.length, pct.depth) } : null,
    dfs: opts.strategy === 'dfs' ? { depth, preemption_bound: opts.preemptionBound ?? DEFAULT_PREEMPTION_BOUND, exhausted } : null,
    liveness_bound: livenessBound(scenario),
  };
}
