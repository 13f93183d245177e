import type { MutantName } from '../kprobes/mutants.ts';
import { readFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InputError } from '../errors.ts';
import { LogWriter } from '../log/writer.ts';
import { makeHeader } from '../run/record.ts';
import type { Scenario } from '../scenario/types.ts';
import { forcedStrategy } from '../scheduler/strategies.ts';
import { executeRun } from './execute.ts';
import type { Preemption } from './shrink.ts';

// A found failure as an ordinary kprobesim log: the shrunk schedule run to its end, every event
// as `run` writes it. The header names the strategy `explore` (replay takes each logged decision
// as it is, and checks none against a strategy) and records where the schedule came from.

export interface FailureLogSpec {
  readonly path: string;
  readonly scenario: Scenario;
  readonly seed: number;
  readonly mutant?: MutantName;
  readonly preemptions: readonly Preemption[];
  /** Where it was found: the strategy (or portfolio member) and run index. */
  readonly foundBy: string;
  readonly run: number;
}

/** The log's text: header line, then every event line. */
export function failureLogText(spec: FailureLogSpec): string {
  const header = {
    ...makeHeader(spec.scenario, spec.mutant === undefined ? { seed: spec.seed, strategy: 'random' } : { seed: spec.seed, strategy: 'random', mutant: spec.mutant }),
    strategy: {
      name: 'explore',
      found_by: spec.foundBy,
      run: spec.run,
      preemptions: spec.preemptions.map((p) => ({ at: p.at, cpu: p.choice.cpu, switch_to: p.choice.switch_to })),
    },
  };
  const lines = [LogWriter.serialize(header)];
  const byIndex = new Map(spec.preemptions.map((p) => [p.at, p.choice]));
  const run = { scenario: spec.scenario, seed: spec.seed, strategy: forcedStrategy('explore', (i) => byIndex.get(i)), stopAtFailure: false, onEvent: (e: object) => lines.push(LogWriter.serialize(e)) };
  executeRun(spec.mutant === undefined ? run : { ...run, mutant: spec.mutant });
  return `${lines.join('\n')}\n`;
}

/**
 * Writes the log (temp file and rename). A file already there is left alone when it holds these
 * very bytes (the same command again); one that differs is refused, never replaced.
 */
export async function writeFailureLog(spec: FailureLogSpec): Promise<void> {
  const text = failureLogText(spec);
  const existing = await readFile(spec.path, 'utf8').catch((e: unknown) => {
    if ((e as { code?: string }).code === 'ENOENT') return null;
    throw e;
  });
  if (existing === text) return;
  if (existing !== null) throw new InputError(spec.path, 'exists and differs from this failure\'s log (another scenario or kprobesim version?); remove it or give another --out');
  await mkdir(dirname(spec.path), { recursive: true });
  const writer = await LogWriter.create(spec.path, { force: false });
  for (const line of text.slice(0, -1).split('\n')) if (!writer.writeLine(line)) await writer.drain();
  await writer.commit();
}
