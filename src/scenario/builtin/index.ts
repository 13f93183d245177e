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

/** Built-in scenarios by name, in the order `kprobesim scenarios` lists them. */
export const BUILTIN_SCENARIOS: ReadonlyMap<string, Scenario> = new Map(
  [
    defaultScenario,
    printkRecursionScenario,
    unregisterRaceScenario,
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
