import { InvalidArgumentError } from 'commander';

// Parsers for option values; a bad value is a usage error (exit 2) naming the option.

export function parseSeed(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw new InvalidArgumentError('expected an integer from 0 to 4294967295');
  return Number(v);
}

export function parseCpus(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 64) throw new InvalidArgumentError('expected a number of CPUs from 1 to 64');
  return Number(v);
}

export function parseSeq(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected an event seq (0 for the state before the first event)');
  return Number(v);
}
