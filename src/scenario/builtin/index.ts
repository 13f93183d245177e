import { distance } from 'fastest-levenshtein';
import type { Scenario } from '../types.ts';
import { defaultScenario } from './default.ts';
import { doFork414Scenario } from './do-fork-4-14.ts';
import { kretprobePoolScenario } from './kretprobe-pool.ts';
import { printkRecursionScenario } from './printk-recursion.ts';
import {
  aggregateScenario,
  enableDisableScenario,
  globalSwitchScenario,
  kunitMissedScenario,
  moduleInitScenario,
  moduleUnloadScenario,
  mutexScenario,
  registrationErrorsScenario,
  sleepInHandlerScenario,
  ssFaultScenario,
  ftraceScenario,
  timerTickScenario,
  optprobesScenario,
  optprobesTeardownScenario,
  jprobeScenario,
} from './spec-sections.ts';
import { unregisterRaceScenario } from './unregister-race.ts';
import { unregisterSharedPointScenario } from './unregister-shared-point.ts';
import { unregisterBusyScenario } from './unregister-busy.ts';

/** Built-in scenarios by name, in the order `kprobesim scenarios` lists them. */
export const BUILTIN_SCENARIOS: ReadonlyMap<string, Scenario> = new Map(
  [
    defaultScenario,
    printkRecursionScenario,
    unregisterRaceScenario,
    unregisterSharedPointScenario,
    unregisterBusyScenario,
    kretprobePoolScenario,
    doFork414Scenario,
    aggregateScenario,
    mutexScenario,
    registrationErrorsScenario,
    enableDisableScenario,
    globalSwitchScenario,
    kunitMissedScenario,
    sleepInHandlerScenario,
    moduleUnloadScenario,
    moduleInitScenario,
    ssFaultScenario,
    ftraceScenario,
    jprobeScenario,
    optprobesScenario,
    optprobesTeardownScenario,
    timerTickScenario,
  ].map((s) => [s.name, s]),
);

/**
 * The built-in name closest to `name` for a "did you mean", or undefined when none is close
 * (within max(2, floor(len/3)) edits, as symbol suggestions are).
 */
export function suggestBuiltin(name: string): string | undefined {
  const limit = Math.max(2, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDist = limit + 1;
  for (const candidate of BUILTIN_SCENARIOS.keys()) {
    const d = distance(name, candidate);
    if (d < bestDist) {
      best = candidate;
      bestDist = d;
    }
  }
  return best;
}

/** `no built-in scenario "defualt"; did you mean "default"?` (or the list of names). */
export function unknownBuiltin(name: string, orWhat = ' (or give a scenario file path)'): string {
  const hint = suggestBuiltin(name);
  return hint !== undefined
    ? `no built-in scenario "${name}"; did you mean "${hint}"?${orWhat}`
    : `no built-in scenario "${name}" (built-in: ${[...BUILTIN_SCENARIOS.keys()].join(', ')})${orWhat}`;
}
