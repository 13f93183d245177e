import { Simulation } from '../src/actors/simulation.ts';
import { MemoryLog } from '../src/log/writer.ts';
import { recordRun, type RunResult } from '../src/run/record.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { randomStrategy } from '../src/scheduler/strategies.ts';

/** Runs a scenario in memory; returns the log lines (header first) and the run's result. */
export async function runInMemory(scenario: Scenario, seed: number): Promise<{ log: MemoryLog; result: RunResult }> {
  const log = new MemoryLog();
  const result = await recordRun(scenario, { seed, strategy: 'random' }, log);
  return { log, result };
}

/** A simulation stepped by hand, for checks between steps. */
export function simulation(scenario: Scenario, seed: number): Simulation {
  return new Simulation(scenario, { seed, strategy: randomStrategy(seed) });
}

/** Property runs per test; CI may raise it with FC_RUNS. */
export const RUNS = Number(process.env.FC_RUNS ?? 25);

export { counterexampleNote, counterexampleReporter } from '../src/scenario/counterexample.ts';
