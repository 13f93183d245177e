import { InputError } from '../errors.ts';
import type { LogHeader } from '../log/header.ts';
import { readLog, type LogEntry } from '../log/reader.ts';
import { fieldPath } from '../scenario/validate.ts';
import { validateScenario } from '../scenario/validate.ts';
import type { Scenario } from '../scenario/types.ts';
import type { LoggedEvent } from '../model/events.ts';

// Opening a log for replay, `state` and `trace`: the header's scenario is validated like a
// scenario file (a hand-edited header gets a field path, not a crash), then events stream.

export interface OpenedLog {
  readonly header: LogHeader;
  readonly scenario: Scenario;
  /** The remaining entries: events, possibly ending with a truncated line. */
  readonly entries: AsyncGenerator<LogEntry>;
}

export async function openLog(path: string): Promise<OpenedLog> {
  const entries = readLog(path);
  const first = await entries.next();
  if (first.done || first.value.kind !== 'header') throw new InputError(`${path}:1`, 'no log header (expected a kprobesim log)');
  const header = first.value.header;
  let scenario: Scenario;
  try {
    scenario = validateScenario(header.scenario);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${path}:1`, `header ${e.message}`);
    throw e;
  }
  if (header.cpus !== scenario.cpus) {
    throw new InputError(`${path}:1`, `header says ${header.cpus} CPUs but ${fieldPath(['cpus'])} is ${scenario.cpus}`);
  }
  return { header, scenario, entries };
}

export type { LoggedEvent };
