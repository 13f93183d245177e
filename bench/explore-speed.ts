// Issue 12's exploration benchmarks: explore_runs_per_s (random strategy on unregister-race, one
// worker) and explore_speedup_2_workers (the same runs on two worker threads). Each function
// returns its numbers; `npx tsx bench/explore-speed.ts` prints them (bench/run.ts can call them).
// Wall time is performance.now(); a short exploration runs first as a warm-up.

import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { explore } from '../src/explore/explore.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';

export interface ExploreSpeed {
  readonly runs: number;
  readonly runsPerSecond: number;
  readonly runsPerSecond2Workers: number;
  /** Two workers' runs/s over one's (the machine has two cores). */
  readonly speedup2Workers: number;
}

export async function exploreSpeed(runs = 300): Promise<ExploreSpeed> {
  const scenario = BUILTIN_SCENARIOS.get('unregister-race')!;
  const opts = { strategy: 'random' as const, seed: 42, out: null };
  await explore(scenario, { ...opts, runs: 20 });
  const timed = async (workers: number) => {
    const t0 = performance.now();
    const r = await explore(scenario, { ...opts, runs, workers });
    if (r.runs !== runs || r.failures.length > 0) throw new Error(`unexpected exploration: ${r.runs} runs, ${r.failures.length} failures`);
    return runs / ((performance.now() - t0) / 1000);
  };
  const one = await timed(1);
  const two = await timed(2);
  return { runs, runsPerSecond: one, runsPerSecond2Workers: two, speedup2Workers: two / one };
}

async function main(): Promise<void> {
  const r = await exploreSpeed();
  process.stdout.write(`explore_runs_per_s: ${r.runsPerSecond.toFixed(1)} runs/s\n`);
  process.stdout.write(`explore_speedup_2_workers: ${r.speedup2Workers.toFixed(2)} x\n`);
  process.stdout.write(`# ${r.runs} random runs of unregister-race (seed 42, with state fingerprints and every detector), one worker then two (${r.runsPerSecond2Workers.toFixed(1)} runs/s)\n`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
