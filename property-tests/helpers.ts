import fc from 'fast-check';
import { Simulation } from '../src/actors/simulation.ts';
import type { Failure } from '../src/explore/detectors.ts';
import type { RunRecord } from '../src/explore/execute.ts';
import { exploreCommand, runStrategySchedule, strategyScheduleArbitrary, type StrategySchedule } from '../src/explore/strategy-schedule.ts';
import type { MutantName } from '../src/kprobes/mutants.ts';
import { MemoryLog } from '../src/log/writer.ts';
import { recordRun, type RunResult } from '../src/run/record.ts';
import { scenarioFileText } from '../src/scenario/format.ts';
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

// ---- Invariant properties over exploration schedules (issue 12) ----------------------------
// One definition of "an invariant holds on every schedule", used on the correct kernel
// (invariants.test.ts: must pass) and on each planted-bug kernel (mutants.test.ts: must fail,
// caught by the invariant the mutant names), so the mutants test these very properties.

/** Draws per invariant property on the correct kernel; CI may raise it with FC_SCHEDULES. */
export const SCHEDULE_RUNS = Number(process.env.FC_SCHEDULES ?? 30);

export interface InvariantCheck {
  /** The check the property is named after (`INV-…`, or `liveness` / `kernel.deadlock` for INV-progress). */
  readonly check: string;
  /** A failure the property's scenarios make on purpose (a sleeping handler's BUG, R61): not a failure of the property. */
  readonly expected?: (f: Failure) => boolean;
  readonly mutant?: MutantName;
}

/**
 * The run of `scenario` under `schedule` (every failure detector of explore, stopped at the first
 * failure) has no failure of `check`. A run stops at its first failure, so a failure of another
 * check (unless expected) fails the property too: it would hide `check` for the rest of the run.
 * Throws with the failure's message, which names the check and the rule.
 */
export function checkRun(scenario: Scenario, schedule: StrategySchedule, c: InvariantCheck): RunRecord {
  const run = runStrategySchedule(scenario, schedule, c.mutant === undefined ? {} : { mutant: c.mutant });
  const f = run.failure;
  if (f !== null && !(c.expected?.(f) ?? false)) {
    throw new Error(f.check === c.check ? `${f.message}` : `the run failed with ${f.check} before ${c.check} could be checked to its end: ${f.message}`);
  }
  return run;
}

/** The property: scenarios × schedules drawn through the exploration strategies. */
export function invariantProperty(scenarios: fc.Arbitrary<Scenario>, c: InvariantCheck, schedules = strategyScheduleArbitrary()): fc.IPropertyWithHooks<[Scenario, StrategySchedule]> {
  return fc.property(scenarios, schedules, (scenario, schedule) => {
    checkRun(scenario, schedule, c);
  });
}

/**
 * What a failed invariant property prints: fast-check's report, then the shrunk counterexample
 * as a scenario file and the command that replays its schedule (explore runs it, shrinks the
 * interleaving to its preemptions and writes a log), or the preemptions for runSchedule.
 */
export function scheduleReporter(mutant?: MutantName): (out: fc.RunDetails<[Scenario, StrategySchedule]>) => void {
  return (out) => {
    if (!out.failed) return;
    const [scenario, schedule] = out.counterexample ?? [];
    let note = '';
    if (scenario !== undefined && schedule !== undefined) {
      const how =
        schedule.strategy === 'preemptions'
          ? `runSchedule(scenario, ${JSON.stringify(schedule.preemptions)}, { seed: ${schedule.seed}${mutant === undefined ? '' : `, mutant: '${mutant}'`} })`
          : `\`${exploreCommand(schedule, 'counterexample.json', mutant)}\``;
      note = `\n\nTo reproduce: save the scenario as counterexample.json:\n${scenarioFileText(scenario)}\nand run ${how}`;
    }
    throw new Error(`${fc.defaultReportMessage(out) ?? 'Property failed'}${note}`, { cause: out.errorInstance });
  };
}
