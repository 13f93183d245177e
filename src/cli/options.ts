import { InvalidArgumentError, Option } from 'commander';
import { MUTANTS } from '../kprobes/mutants.ts';
import { InputError } from '../errors.ts';
import { ARCHES, type Arch, type BuildConfig } from '../kernel/image.ts';

// Parsers for option values; a bad value is a usage error (exit 2) naming the option. This file
// is loaded for every command, `--help` included: it imports nothing of the model.

export const DEFAULT_SEED = 42;
/** Where `run` puts a log when --log does not say. */
export const RUNS_DIR = 'kprobesim-runs';
export const DEBUGFS_FILES = ['list', 'blacklist', 'enabled'] as const;
export type DebugfsFile = (typeof DEBUGFS_FILES)[number];

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

export function parseArch(v: string): Arch {
  const arch = ARCHES.find((a) => a === v);
  if (arch === undefined) throw new InvalidArgumentError(`expected ${ARCHES.join(' or ')}`);
  return arch;
}

/** The `--config` names, and the build option each sets. */
const BUILD_OPTIONS: Readonly<Record<string, BuildConfig>> = {
  ftrace: { ftrace: true },
  ibt: { ibt: true },
  optprobes: { optprobes: true },
  nopreempt: { preempt: false },
};

/**
 * `--config ftrace,ibt,…`: kernel build options (x86_64 only), out of `allowed`. A bad name is
 * bad input naming the option.
 */
export function buildConfig(text: string | undefined, arch: Arch, allowed: readonly string[]): BuildConfig {
  if (text === undefined) return {};
  const names = text.split(',').map((n) => n.trim()).filter((n) => n !== '');
  for (const n of names) {
    if (!allowed.includes(n)) throw new InputError('--config', `"${n}" is not a build option (expected a comma-separated list of ${allowed.join(', ')})`);
  }
  if (names.length > 0 && arch !== 'x86_64') throw new InputError('--config', `build options are modelled on x86_64 only (--arch is ${arch})`);
  return Object.assign({}, ...names.map((n) => BUILD_OPTIONS[n]!)) as BuildConfig;
}

/** What `run --config` accepts: every build option a scenario's `config` has. */
export const RUN_BUILD_OPTIONS = Object.keys(BUILD_OPTIONS);

/** `--mutant NAME` (run, explore): a planted-bug kernel; an unknown name is a usage error listing the valid ones. */
export function mutantOption(): Option {
  return new Option('--mutant <NAME>', 'boot a kernel with a planted bug (kprobesim mutants lists them)').choices([...MUTANTS]);
}
