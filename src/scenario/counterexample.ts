import fc from 'fast-check';
import { formatCounterexample } from './format.ts';
import type { Scenario } from './types.ts';

// What a failed property over scenarioArbitrary() prints: fast-check's report, then the
// counterexample as a scenario file with the command that reproduces it. Exported for users'
// property tests (`fc.configureGlobal({ reporter: counterexampleReporter })`); this project's
// own property tests install it in property-tests/setup.ts.

const isScenario = (v: unknown): v is Scenario =>
  typeof v === 'object' && v !== null && Array.isArray((v as Scenario).tasks) && Array.isArray((v as Scenario).probes) && typeof (v as Scenario).cpus === 'number';

/**
 * The counterexample of a failed run as a scenario file and the command that reproduces it, when
 * it is a scenario followed by a run seed (as in `fc.asyncProperty(scenarioArbitrary(),
 * seedArbitrary, …)`); null otherwise.
 */
export function counterexampleNote(counterexample: unknown): string | null {
  if (!Array.isArray(counterexample)) return null;
  const at = counterexample.findIndex(isScenario);
  const seed = counterexample.slice(at + 1).find((v): v is number => typeof v === 'number');
  if (at < 0 || seed === undefined) return null;
  return formatCounterexample(counterexample[at] as Scenario, seed);
}

/**
 * fast-check's report of a failed property, followed by the counterexample as a scenario file
 * and the `kprobesim run FILE --seed S` that reproduces it. fc.check's results are left alone: a
 * reporter only runs for fc.assert.
 */
export function counterexampleReporter(out: fc.RunDetails<unknown>): void {
  if (!out.failed) return;
  const note = counterexampleNote(out.counterexample);
  const message = `${fc.defaultReportMessage(out) ?? 'Property failed'}${note === null ? '' : `\n\nThe counterexample as a scenario file: ${note}`}`;
  throw new Error(message, { cause: out.errorInstance });
}
