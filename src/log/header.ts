import { isMutant, MUTANTS, type MutantName } from '../kprobes/mutants.ts';
import { STRATEGY_NAMES, type StrategyName } from '../scheduler/strategies/strategy.ts';

// Line 1 of every log: everything needed to re-execute the run (log contract v1, design.md).
// The reader refuses a file whose header is wrong before looking at any event, so a user who
// passes the wrong file gets one precise message instead of a cascade of event errors.

export const LOG_FORMAT = 'kprobesim-log';
export const LOG_VERSION = 1;

// The names are the scheduler's (one list: a strategy that exists is one a header may name).
export { STRATEGY_NAMES, type StrategyName };

export interface LogHeader {
  format: typeof LOG_FORMAT;
  version: typeof LOG_VERSION;
  seed: number;
  /** The whole scenario object (not a file name); its shape is validated by src/scenario. */
  scenario: unknown;
  cpus: number;
  strategy: { name: StrategyName };
  /** A run id. It is part of the bytes, so it must be derived deterministically. */
  run: string;
  /**
   * The planted bug the kernel of this run has (`--mutant`, src/kprobes/mutants.ts); absent for
   * the correct kernel. An addition within version 1: logs without it read as before.
   */
  mutant?: MutantName;
}

/** A short JSON rendering of a found value for messages; a log line can be very long. */
export function show(v: unknown): string {
  let s: string;
  try {
    s = v === undefined ? 'undefined' : JSON.stringify(v);
  } catch {
    // Nested too deep for JSON.stringify (callers bound depth first; this is the backstop).
    s = Array.isArray(v) ? '[…]' : '{…}';
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fieldMsg(name: string, found: unknown, expected: string): string {
  return found === undefined
    ? `log header lacks field "${name}" (expected ${expected})`
    : `log header field "${name}" is ${show(found)} (expected ${expected})`;
}

/**
 * Validates a parsed line 1. Returns null when it is a v1 header, else one message. The
 * format is checked first: for a file that is not a log at all, field complaints would mislead.
 * Extra fields are allowed (they cost nothing and leave room for additions within v1).
 */
export function checkHeader(obj: unknown): string | null {
  if (!isObject(obj)) return `not a kprobesim log (line 1 is ${show(obj)}, not a JSON object)`;
  if (obj.format !== LOG_FORMAT) {
    return 'format' in obj
      ? `not a kprobesim log (line 1 has "format": ${show(obj.format)})`
      : `not a kprobesim log (line 1 has no "format" field)`;
  }
  if (obj.version !== LOG_VERSION) {
    return Number.isSafeInteger(obj.version)
      ? `log version ${String(obj.version)} is not supported (this kprobesim reads version ${LOG_VERSION})`
      : fieldMsg('version', obj.version, `the integer ${LOG_VERSION}`);
  }
  const seed = obj.seed;
  if (!Number.isSafeInteger(seed) || (seed as number) < 0) {
    return fieldMsg('seed', seed, 'a non-negative integer');
  }
  if (!isObject(obj.scenario)) return fieldMsg('scenario', obj.scenario, 'the scenario object');
  const cpus = obj.cpus;
  if (!Number.isSafeInteger(cpus) || (cpus as number) < 1) {
    return fieldMsg('cpus', cpus, 'a positive integer');
  }
  const strategy = obj.strategy;
  const names = STRATEGY_NAMES.map((n) => `"${n}"`).join(', ');
  if (!isObject(strategy)) return fieldMsg('strategy', strategy, `an object like {"name":"random"}`);
  if (typeof strategy.name !== 'string' || !(STRATEGY_NAMES as readonly string[]).includes(strategy.name)) {
    return fieldMsg('strategy.name', strategy.name, `one of ${names}`);
  }
  if (typeof obj.run !== 'string' || obj.run === '') return fieldMsg('run', obj.run, 'a non-empty run id string');
  if ('mutant' in obj && !isMutant(obj.mutant)) return fieldMsg('mutant', obj.mutant, `one of ${MUTANTS.map((m) => `"${m}"`).join(', ')}`);
  return null;
}
