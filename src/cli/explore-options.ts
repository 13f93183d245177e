import { InvalidArgumentError } from 'commander';

// Parsers for `kprobesim explore`'s own option values (loaded with the program, like options.ts:
// nothing of the model). A bad value is a usage error naming the option (exit 2).

/** Where explore writes failure logs when --out does not say. */
export const EXPLORE_DIR = 'kprobesim-explore';
export const DEFAULT_RUNS = 1000;

function integer(v: string, min: number, max: number, what: string): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new InvalidArgumentError(`expected ${what}`);
  return Number(v);
}

export const parseRuns = (v: string): number => integer(v, 1, 1e9, 'a number of runs from 1 to 1000000000');
export const parseDepth = (v: string): number => integer(v, 1, 1e6, 'a depth from 1 to 1000000');
export const parseBound = (v: string): number => integer(v, 0, 1000, 'a number of preemptions from 0 to 1000');
export const parseWorkers = (v: string): number => integer(v, 1, 256, 'a number of worker processes from 1 to 256');

/** `--shard I/N`: run the runs whose index is I mod N (0 ≤ I < N). */
export function parseShard(v: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (m === null) throw new InvalidArgumentError('expected I/N, shard I of N (0 ≤ I < N), e.g. 0/4');
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > 1e6 || index >= count) throw new InvalidArgumentError(`expected I/N with 0 ≤ I < N (N from 1 to 1000000), got ${v}`);
  return { index, count };
}
