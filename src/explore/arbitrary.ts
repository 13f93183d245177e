import fc from 'fast-check';
import type { MutantName } from '../kprobes/mutants.ts';
import type { Scenario } from '../scenario/types.ts';
import { forcedStrategy } from '../scheduler/strategies.ts';
import { executeRun, type RunRecord } from './execute.ts';

// Schedules for property tests (vitest + fast-check): a schedule is a few preemptions away from
// the default schedule, each "at decision `at`, CPU `cpu` steps" (or switches `switch_to` in),
// read leniently: one that is not possible where it falls is skipped. Every list is a valid
// schedule, so fast-check shrinks a failing one freely (fewer preemptions, earlier, lower CPUs)
// and the counterexample is a short list a reader can follow. Combined with scenarioArbitrary()
// a property shrinks the scenario and the interleaving together.

export interface Preempt {
  readonly at: number;
  readonly cpu: number;
  readonly switch_to: number | null;
}

export interface ScheduleArbitraryOptions {
  readonly cpus: number;
  /** Preemptions fall at decisions 0 … maxDecision (default 2000). */
  readonly maxDecision?: number;
  /** At most this many (default 4). */
  readonly maxPreemptions?: number;
}

export function scheduleArbitrary(opts: ScheduleArbitraryOptions): fc.Arbitrary<Preempt[]> {
  const one = fc.record({
    at: fc.integer({ min: 0, max: opts.maxDecision ?? 2000 }),
    cpu: fc.integer({ min: 0, max: Math.max(0, opts.cpus - 1) }),
    switch_to: fc.constant(null),
  });
  return fc.uniqueArray(one, { maxLength: opts.maxPreemptions ?? 4, selector: (p) => p.at }).map((ps) => [...ps].sort((a, b) => a.at - b.at));
}

/** Runs `scenario` under `schedule` (the default schedule elsewhere), watched by every failure detector. */
export function runSchedule(scenario: Scenario, schedule: readonly Preempt[], opts: { seed?: number; mutant?: MutantName } = {}): RunRecord {
  const byIndex = new Map(schedule.map((p) => [p.at, { cpu: p.cpu, switch_to: p.switch_to }]));
  const spec = { scenario, seed: opts.seed ?? 42, strategy: forcedStrategy('explore', (i) => byIndex.get(i)), stopAtFailure: true };
  return executeRun(opts.mutant === undefined ? spec : { ...spec, mutant: opts.mutant });
}
