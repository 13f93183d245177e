import { InputError } from '../errors.ts';
import type { LogHeader } from '../log/header.ts';
import { readLogBatches, type LogEntry } from '../log/reader.ts';
import { fieldPath } from '../scenario/validate.ts';
import { validateScenario } from '../scenario/validate.ts';
import type { Scenario } from '../scenario/types.ts';
import type { LoggedEvent } from '../model/events.ts';

// Opening a log for replay, `state` and `trace`: the header's scenario is validated like a
// scenario file (a hand-edited header gets a field path, not a crash), then events stream.

export interface OpenedLog {
  readonly header: LogHeader;
  readonly scenario: Scenario;
  /** The remaining entries in batches: events, possibly ending with a truncated line. */
  readonly batches: AsyncGenerator<LogEntry[]>;
  /** Stops reading (closes the file) when the batches are not wanted after all. */
  close(): Promise<void>;
}

export async function openLog(path: string): Promise<OpenedLog> {
  const batches = readLogBatches(path);
  const first = await batches.next();
  const head = first.done ? undefined : first.value[0];
  if (head?.kind !== 'header') throw new InputError(`${path}:1`, 'no log header (expected a kprobesim log)');
  const header = head.header;
  const rest = first.value!.slice(1);
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
  async function* all(): AsyncGenerator<LogEntry[]> {
    if (rest.length > 0) yield rest;
    yield* batches;
  }
  return {
    header,
    scenario,
    batches: all(),
    close: async () => {
      await batches.return(undefined);
    },
  };
}

export type { LoggedEvent };
