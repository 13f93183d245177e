// Issue 10 §4 "Speed": replay against recording, and many short runs in one process. Each
// function returns its numbers; bench/run.ts prints them, and `npx tsx bench/run-speed.ts` runs
// this module alone. Wall time is performance.now(); every measured loop has a warm-up first.

import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Simulation } from '../src/actors/simulation.ts';
import { LogWriter } from '../src/log/writer.ts';
import { replayLog } from '../src/replay/replay.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { randomStrategy } from '../src/scheduler/strategies.ts';
import { benchScenario } from './scenario.ts';

export interface ReplayVsRun {
  readonly events: number;
  readonly recordEventsPerSecond: number;
  readonly replayEventsPerSecond: number;
  /** Replay's events/s over recording's: >= 1 means replay is no slower than the run. */
  readonly ratio: number;
}

async function recordToFile(scenario: Scenario, file: string, seed: number): Promise<{ events: number; seconds: number }> {
  const t0 = performance.now();
  const writer = await LogWriter.create(file, { force: false });
  const result = await recordRun(scenario, { seed, strategy: 'random' }, writer);
  await writer.commit();
  return { events: result.events, seconds: (performance.now() - t0) / 1000 };
}

async function replayFile(file: string): Promise<{ events: number; seconds: number }> {
  const t0 = performance.now();
  const result = await replayLog(file);
  const seconds = (performance.now() - t0) / 1000;
  if (result.kind !== 'identical') throw new Error(`replay of ${file} diverged at seq ${result.seq}: ${result.actual.slice(0, 200)}`);
  return { events: result.events, seconds };
}

/**
 * Records the bench scenario (bench/scenario.ts, `steps` scheduler steps) to a log file as
 * `kprobesim run` does (recordRun with its monitors and views, LogWriter, commit), then replays
 * that file with replayLog, in the same process. A smaller record and replay go first as warm-up.
 */
export async function replayVsRun(steps = 100_000, seed = 1): Promise<ReplayVsRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kprobesim-bench-speed-'));
  try {
    const warm = path.join(dir, 'warm.jsonl');
    await recordToFile(benchScenario(Math.max(1000, steps / 10)), warm, seed);
    await replayFile(warm);
    const file = path.join(dir, 'speed.jsonl');
    const rec = await recordToFile(benchScenario(steps), file, seed);
    const rep = await replayFile(file);
    if (rep.events !== rec.events) throw new Error(`replay saw ${rep.events} events, the run wrote ${rec.events}`);
    const recordEventsPerSecond = rec.events / rec.seconds;
    const replayEventsPerSecond = rep.events / rep.seconds;
    return { events: rec.events, recordEventsPerSecond, replayEventsPerSecond, ratio: replayEventsPerSecond / recordEventsPerSecond };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface RunsPerSecond {
  readonly runs: number;
  readonly runsPerSecond: number;
  /** Mean events (or scheduling decisions) per run, to say how long a run is. */
  readonly eventsPerRun: number;
}

/**
 * Complete runs of the built-in `unregister-race`, seeds 1..runs, as `kprobesim run --no-log`
 * makes them: recordRun with its invariant monitors and views, no log sink.
 */
export async function raceRunsPerSecond(runs = 300): Promise<RunsPerSecond> {
  const scenario = BUILTIN_SCENARIOS.get('unregister-race')!;
  for (let i = 0; i < Math.max(10, runs / 10); i++) await recordRun(scenario, { seed: 100_000 + i, strategy: 'random' }, null);
  let events = 0;
  const t0 = performance.now();
  for (let seed = 1; seed <= runs; seed++) {
    const r = await recordRun(scenario, { seed, strategy: 'random' }, null);
    events += r.events;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { runs, runsPerSecond: runs / seconds, eventsPerRun: events / runs };
}

/**
 * The smallest race worth exploring: two CPUs, one task registers a kprobe on a one-instruction
 * function while the other calls it (a hit if the registration wins). Both tasks are shells
 * that wait for input afterwards, so the run ends there, not in do_exit.
 */
export const SMALL_RACE: Scenario = validateScenario({
  name: 'small-race',
  description: 'two CPUs: one registers a kprobe on just_return_func while the other calls it',
  cpus: 2,
  probes: [{ name: 'kp', symbol: 'just_return_func' }],
  tasks: [
    { comm: 'insmod', cpu: 0, interactive: true, program: [{ op: 'register_kprobe', probe: 'kp' }] },
    { comm: 'cat', cpu: 1, interactive: true, program: [{ op: 'call', fn: 'just_return_func' }] },
  ],
});

/** `runs` runs of SMALL_RACE, seeds 1..runs: a Simulation with the seeded random strategy, run to the end. */
function smallRaces(runs: number, firstSeed: number): number {
  let decisions = 0;
  for (let seed = firstSeed; seed < firstSeed + runs; seed++) {
    const sim = new Simulation(SMALL_RACE, { seed, strategy: randomStrategy(seed) });
    sim.run();
    decisions += sim.world.sched.steps;
  }
  return decisions;
}

/** fast-check's scheduler on two tasks of three awaits each: `runs` runs of one property. */
async function fcScheduler(runs: number, seed: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), async (s) => {
      const task = async (id: number): Promise<void> => {
        for (let i = 0; i < 3; i++) await s.schedule(Promise.resolve(id * 10 + i));
      };
      const both = Promise.all([task(0), task(1)]);
      await s.waitAll();
      await both;
    }),
    { numRuns: runs, seed },
  );
}

export interface SmallRaceVsFastcheck {
  readonly runs: number;
  readonly kprobesimRunsPerSecond: number;
  readonly fastcheckRunsPerSecond: number;
  /** Mean scheduling decisions of a kprobesim run (fast-check's runs make 6). */
  readonly decisionsPerRun: number;
  readonly ratio: number;
}

/**
 * The same number of runs on each side, in the same process, each after a warm-up of a tenth
 * as many: kprobesim runs SMALL_RACE with a fresh Simulation per seed; fast-check runs
 * `fc.assert(fc.asyncProperty(fc.scheduler(), …))` with numRuns runs.
 */
export async function smallRaceVsFastcheck(runs = 3000): Promise<SmallRaceVsFastcheck> {
  const warm = Math.max(100, Math.floor(runs / 10));
  smallRaces(warm, 1_000_000);
  await fcScheduler(warm, 1);
  let t0 = performance.now();
  const decisions = smallRaces(runs, 1);
  const kSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  await fcScheduler(runs, 2);
  const fSeconds = (performance.now() - t0) / 1000;
  const kprobesimRunsPerSecond = runs / kSeconds;
  const fastcheckRunsPerSecond = runs / fSeconds;
  return { runs, kprobesimRunsPerSecond, fastcheckRunsPerSecond, decisionsPerRun: decisions / runs, ratio: kprobesimRunsPerSecond / fastcheckRunsPerSecond };
}

/** How each metric is measured, with the figures behind it: bench/run.ts prints these as `#` lines. */
export function speedNotes(r: ReplayVsRun, race: RunsPerSecond, small: SmallRaceVsFastcheck): string[] {
  return [
    `replay_vs_run: the bench scenario recorded to a log file (recordRun + LogWriter, as kprobesim run) then that file replayed (replayLog), ` +
      `same process, after a warm-up pair a tenth the size: ${r.events} events, record ${Math.round(r.recordEventsPerSecond)} events/s, replay ${Math.round(r.replayEventsPerSecond)} events/s (wall time)`,
    `race_runs: ${race.runs} complete runs of the built-in unregister-race, seeds 1..${race.runs}, recordRun with its monitors and views, no log ` +
      `(as kprobesim run --no-log), after a warm-up: ${Math.round(race.eventsPerRun)} events a run`,
    `small_race_vs_fastcheck: ${small.runs} runs each, same process, each side after a warm-up of a tenth as many: a 2-CPU kprobesim race ` +
      `(one task registers a kprobe on just_return_func, the other calls it; a fresh Simulation per seed, run to the end, ` +
      `${small.decisionsPerRun.toFixed(1)} scheduling decisions a run) at ${Math.round(small.kprobesimRunsPerSecond)} runs/s, ` +
      `over fc.assert(fc.asyncProperty(fc.scheduler(), …)) on two tasks of three awaits (6 decisions) at ${Math.round(small.fastcheckRunsPerSecond)} runs/s`,
  ];
}

async function main(): Promise<void> {
  const r = await replayVsRun();
  process.stdout.write(`replay_vs_run_ratio: ${r.ratio.toFixed(3)} x\n`);
  const race = await raceRunsPerSecond();
  process.stdout.write(`race_runs_per_s: ${race.runsPerSecond.toFixed(1)} runs/s\n`);
  const small = await smallRaceVsFastcheck();
  process.stdout.write(`small_race_vs_fastcheck_ratio: ${small.ratio.toFixed(3)} x\n`);
  for (const n of speedNotes(r, race, small)) process.stdout.write(`# ${n}\n`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
