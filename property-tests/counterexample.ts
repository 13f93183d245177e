import fc from 'fast-check';
import { formatCounterexample } from '../src/scenario/format.ts';
import type { Scenario } from '../src/scenario/types.ts';

// What a failed property prints (setup.ts installs the reporter for every fc.assert): fast-check's
// report, then the counterexample as a scenario file with the command that reproduces it.

const isScenario = (v: unknown): v is Scenario =>
  typeof v === 'object' && v !== null && Array.isArray((v as Scenario).tasks) && Array.isArray((v as Scenario).probes) && typeof (v as Scenario).cpus === 'number';

/**
 * The counterexample of a failed run as a scenario file and the command that reproduces it, when
 * it is a scenario followed by a run seed (as in `fc.asyncProperty(scenarioArbitrary(),
 * seedArbitrary, …)`); null otherwise.
 */
export function counterexampleNote(counterexample: readonly unknown[] | null): string | null {
  if (counterexample === null) return null;
  const at = counterexample.findIndex(isScenario);
  const seed = counterexample.slice(at + 1).find((v): v is number => typeof v === 'number');
  if (at < 0 || seed === undefined) return null;
  return formatCounterexample(counterexample[at] as Scenario, seed);
}

/**
 * fast-check's report of a failed property, followed by the counterexample as a scenario file
 * and the `kprobesim run FILE --seed S` that reproduces it (installed for every property by
 * setup.ts). fc.check's results are left alone: a reporter only runs for fc.assert.
 */
export function counterexampleReporter(out: fc.RunDetails<unknown[]>): void {
  if (!out.failed) return;
  const note = counterexampleNote(out.counterexample);
  const message = `${fc.defaultReportMessage(out) ?? 'Property failed'}${note === null ? '' : `\n\nThe counterexample as a scenario file: ${note}`}`;
  throw new Error(message, { cause: out.errorInstance });
}
