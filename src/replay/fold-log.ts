import { InputError } from '../errors.ts';
import { FoldError } from '../model/evolve.ts';
import { initialState } from '../model/initial.ts';
import type { KernelState } from '../model/state.ts';
import type { Scenario } from '../scenario/types.ts';
import { Folder, type Projection } from '../views/folder.ts';
import type { LoggedEvent } from '../model/events.ts';
import { openLog, type OpenedLog } from './open-log.ts';

// Folds a log file, streaming, optionally stopping at a seq: what `state --at` and `trace` need.

export interface FoldedLog {
  readonly state: KernelState;
  readonly lastSeq: number;
  /** Set when the log ends with a line cut short by a crash. */
  readonly truncatedAt: number | null;
  readonly ended: boolean;
  readonly cpus: number;
}

/** How a log read to its end (or to a seq) ended: see FoldedLog. */
export interface LogEnd {
  readonly lastSeq: number;
  readonly truncatedAt: number | null;
  readonly ended: boolean;
}

/**
 * Gives each complete event of an opened log to `apply`, in order, up to seq `upTo` (all when
 * undefined), and says how the log ended. An event the fold refuses is an InputError at its line.
 */
export async function eachEvent(log: OpenedLog, path: string, upTo: number | undefined, apply: (e: LoggedEvent) => void): Promise<LogEnd> {
  let truncatedAt: number | null = null;
  let ended = false;
  let lastSeq = 0;
  outer: for await (const batch of log.batches) {
    for (const entry of batch) {
      if (entry.kind === 'truncated') {
        truncatedAt = entry.line;
        break outer;
      }
      if (entry.kind !== 'event') continue;
      if (upTo !== undefined && entry.event.seq > upTo) break outer;
      try {
        apply(entry.event);
      } catch (e) {
        if (e instanceof FoldError) throw new InputError(`${path}:${entry.line}`, `event seq ${entry.event.seq} does not fit the state: ${e.message}`);
        throw e;
      }
      lastSeq = entry.event.seq;
      if (entry.event.type === 'log.end') ended = true;
    }
  }
  return { truncatedAt, ended, lastSeq };
}

/** Projections, or a function making them once the log's scenario is known (its kernel, say). */
export type ProjectionsFor = readonly Projection[] | ((scenario: Scenario) => readonly Projection[]);

export async function foldLog(path: string, projections: ProjectionsFor = [], atSeq?: number): Promise<FoldedLog> {
  const log = await openLog(path);
  const folder = new Folder(initialState(log.scenario), typeof projections === 'function' ? projections(log.scenario) : projections);
  const { truncatedAt, ended, lastSeq } = await eachEvent(log, path, atSeq, (e) => folder.apply(e));
  const state = folder.state;
  if (atSeq !== undefined && lastSeq < atSeq) {
    throw new InputError('--at', `the log has events up to seq ${lastSeq}; there is no seq ${atSeq}`);
  }
  return { state, lastSeq, truncatedAt, ended, cpus: log.scenario.cpus };
}
