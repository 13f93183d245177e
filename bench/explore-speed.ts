// Issue 12's exploration benchmarks: explore_runs_per_s (random strategy on unregister-race, one
// worker) and explore_speedup_2_workers (the same runs on two worker processes). Each function
// returns its numbers; `npx tsx bench/explore-speed.ts` prints them (bench/run.ts can call them).
// Wall time is performance.now(); a short exploration runs first as a warm-up.

import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { explore } from '../src/explore/explore.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';

export interface ExploreSpeed {
  readonly runs: number;
  /** One worker (this thread): runs/s over the longer exploration. */
  readonly runsPerSecond: number;
  /** Two workers: runs/s over the longer exploration, their start included. */
  readonly runsPerSecond2Workers: number;
  /**
   * Two workers' steady rate over one's: each rate is the marginal one, `runs` more runs over the
   * time they added (an exploration of 2·runs against one of runs), so the workers' start (their
   * own module load and JIT warm-up, paid once per exploration) is left out; it is reported apart.
   */
  readonly speedup2Workers: number;
  /** The same ratio over the whole longer exploration, start included. */
  readonly speedup2WorkersWhole: number;
  /** Seconds two workers spend before their first runs (2·t(runs) − t(2·runs)). */
  readonly startup2Workers: number;
}

export async function exploreSpeed(runs = 300): Promise<ExploreSpeed> {
  const scenario = BUILTIN_SCENARIOS.get('unregister-race')!;
  const opts = { strategy: 'random' as const, seed: 42, out: null };
  await explore(scenario, { ...opts, runs: 20 });
  const timed = async (n: number, workers: number) => {
    const t0 = performance.now();
    const r = await explore(scenario, { ...opts, runs: n, workers });
    if (r.runs !== n || r.failures.length > 0) throw new Error(`unexpected exploration: ${r.runs} runs, ${r.failures.length} failures`);
    return (performance.now() - t0) / 1000;
  };
  const measure = async (workers: number) => {
    const short = await timed(runs, workers);
    const long = await timed(2 * runs, workers);
    return { marginal: runs / (long - short), whole: (2 * runs) / long, startup: 2 * short - long };
  };
  const one = await measure(1);
  const two = await measure(2);
  return {
    runs: 2 * runs,
    runsPerSecond: one.whole,
    runsPerSecond2Workers: two.whole,
    speedup2Workers: two.marginal / one.marginal,
    speedup2WorkersWhole: two.whole / one.whole,
    startup2Workers: two.startup,
  };
}

export interface DfsReduction {
  /** Executions of the exhaustive dfs with the reduction over without (both exhausted). */
  readonly ratio: number;
  readonly withRuns: number;
  readonly withoutRuns: number;
  /** The failure kinds each found with --mutant disarm-without-sync (the same, or the reduction lost one). */
  readonly failuresWith: string;
  readonly failuresWithout: string;
}

/**
 * dfs_reduction_ratio (issue 12): bounded exhaustive search (dfs, preemption bound 2) of a small
 * removal race (test/explore-fixtures.ts's smallRace, inlined) with partial-order reduction over
 * without it, on the correct kernel where both search the whole bounded tree; then both with the
 * disarm-without-sync mutant and --keep-going, whose failure checks must be the same.
 */
export async function dfsReduction(): Promise<DfsReduction> {
  const scenario = {
    name: 'small-unregister-race',
    description: 'CPU 0 unregisters a probe that CPU 1 keeps hitting',
    cpus: 2,
    max_steps: 5000,
    probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'spin' as const, steps: 20 }] }],
    tasks: [
      { comm: 'rmmod', cpu: 0, program: [{ op: 'register_kprobe' as const, probe: 'kp' }, { op: 'sleep' as const, ticks: 30 }, { op: 'unregister_kprobe' as const, probe: 'kp' }] },
      { comm: 'reader', cpu: 1, program: [{ op: 'sleep' as const, ticks: 5 }, { op: 'call' as const, fn: 'vfs_read', times: 4 }] },
    ],
  };
  const opts = { strategy: 'dfs' as const, seed: 42, out: null, runs: 100_000, preemptionBound: 2 };
  const withR = await explore(scenario, { ...opts, reduce: true });
  const withoutR = await explore(scenario, { ...opts, reduce: false });
  if (!withR.dfs?.exhausted || !withoutR.dfs?.exhausted) throw new Error('dfs did not finish its bounded search');
  const checks = async (reduce: boolean) =>
    [...new Set((await explore(scenario, { ...opts, reduce, keepGoing: true, mutant: 'disarm-without-sync' })).failures.map((f) => f.check ?? f.kind))].sort().join(',');
  return { ratio: withR.runs / withoutR.runs, withRuns: withR.runs, withoutRuns: withoutR.runs, failuresWith: await checks(true), failuresWithout: await checks(false) };
}

/** What the figures above were measured on, in one line. */
export function exploreNote(r: ExploreSpeed): string {
  return (
    `explore: random runs of unregister-race (seed 42, state fingerprints and every detector); ${r.runs} runs: ${r.runsPerSecond.toFixed(1)} runs/s on one worker, ` +
    `${r.runsPerSecond2Workers.toFixed(1)} on two (${r.speedup2WorkersWhole.toFixed(2)} x with their ${r.startup2Workers.toFixed(1)} s start); the speedup is the steady one (${r.runs / 2} more runs over the time they add)`
  );
}

async function main(): Promise<void> {
  if (process.argv.includes('--reduction')) {
    const d = await dfsReduction();
    process.stdout.write(`dfs_reduction_ratio: ${d.ratio.toFixed(3)}\n`);
    process.stdout.write(`# exhaustive dfs (preemption bound 2) of a small removal race: ${d.withRuns} executions with partial-order reduction, ${d.withoutRuns} without; failures found with disarm-without-sync: ${d.failuresWith} with, ${d.failuresWithout} without\n`);
    return;
  }
  const r = await exploreSpeed();
  process.stdout.write(`explore_runs_per_s: ${r.runsPerSecond.toFixed(1)} runs/s\n`);
  process.stdout.write(`explore_speedup_2_workers: ${r.speedup2Workers.toFixed(2)} x\n`);
  process.stdout.write(`# ${exploreNote(r)}\n`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
