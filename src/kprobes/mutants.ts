import { InputError } from '../errors.ts';

// Planted-bug kernels (`--mutant NAME` on `kprobesim run` and `explore`; `kprobesim mutants`
// lists them). Each one breaks one kernel rule at one step of the model, behind a flag check
// marked `MUTANT <name>` at that step, and names the invariant that must catch it. They exist to
// test the checkers and the exploration strategies (a mutant nobody catches is a blind spot), and
// to show what each rule protects. The correct kernel is the one with no mutant: a run without
// `--mutant` never reads this flag, and its log carries no `mutant` field.

export const MUTANTS = ['no-grace-period', 'arm-before-insert', 'no-reenter-check', 'disarm-without-sync', 'int3-sync-gap'] as const;
export type MutantName = (typeof MUTANTS)[number];

export interface MutantInfo {
  /** The kernel rule the mutant breaks, in a few words. */
  readonly breaks: string;
  /** The rules of docs/rules.md (the spec's R numbers) it breaks. */
  readonly rules: readonly string[];
  /** The kernel step the flag check sits at (a kernel function name of the model). */
  readonly at: string;
  /** The invariant that catches it (design.md's INV-* ids). */
  readonly caughtBy: string;
  /** A built-in scenario whose runs can show it. */
  readonly scenario: string;
}

export const MUTANT_INFO: Readonly<Record<MutantName, MutantInfo>> = {
  'no-grace-period': {
    breaks: 'unregister_kprobe returns without waiting for the CPUs still in its handlers (no synchronize_rcu)',
    rules: ['R65', 'R67'],
    at: 'synchronize_rcu',
    caughtBy: 'INV-unregister',
    scenario: 'unregister-shared-point',
  },
  'arm-before-insert': {
    breaks: 'register_kprobe writes the breakpoint before the probe is in kprobe_table',
    rules: ['R18', 'R27'],
    at: 'hlist_add_head_rcu',
    caughtBy: 'INV-text',
    scenario: 'default',
  },
  'no-reenter-check': {
    breaks: 'a hit on a CPU already running a kprobe is handled as a new hit (no kprobe_running() check): the handlers run again',
    rules: ['R50', 'R52'],
    at: 'kprobe_int3_handler',
    caughtBy: 'INV-status',
    scenario: 'printk-recursion',
  },
  'disarm-without-sync': {
    breaks: 'unregister_kprobe restores the original byte and unlinks the probe without the text-patch sync in between',
    rules: ['R18', 'R55'],
    at: '__disable_kprobe',
    caughtBy: 'INV-removed-race',
    scenario: 'unregister-busy',
  },
  'int3-sync-gap': {
    breaks:
      'v6.3\'s fix undone ("x86/kprobes: Fix ordering while text-patching", 5c02ece81848): text_poke_sync() does not wait for a CPU between its int3 and get_kprobe(), yet the pre-v6.3 removed-int3 recovery is gone (on kernels before 6.3 this is their own, correct, behaviour)',
    rules: ['R54', 'R55', 'R56'],
    at: 'text_poke_sync',
    caughtBy: 'INV-removed-race',
    scenario: 'unregister-busy',
  },
};

export function isMutant(name: unknown): name is MutantName {
  return typeof name === 'string' && (MUTANTS as readonly string[]).includes(name);
}

/** `--mutant NAME`: the mutant, or bad input listing the valid names. */
export function parseMutant(name: string, place = '--mutant'): MutantName {
  if (isMutant(name)) return name;
  throw new InputError(place, `no mutant named "${name}" (expected one of ${MUTANTS.join(', ')}; kprobesim mutants lists them)`);
}

/** `kprobesim mutants`: one line each: name, what rule it breaks, which invariant catches it. */
export function mutantLines(): string[] {
  const width = Math.max(...MUTANTS.map((m) => m.length));
  return MUTANTS.map((m) => {
    const i = MUTANT_INFO[m];
    return `${m.padEnd(width)}  ${i.breaks} (breaks ${i.rules.join(', ')}; caught by ${i.caughtBy})`;
  });
}
