import { InputError } from '../errors.ts';
import type { JsonObject } from '../model/events.ts';
import type { RunStep, Setup } from '../model/setup.ts';
import type { HandlerRun } from '../model/state.ts';
import type { HandlerStep, ProbeSpec } from '../scenario/types.ts';
import { validateScenario } from '../scenario/validate.ts';

// TypeScript handlers for library users (design.md "Handlers"): a scenario step
// `{"do":"callback","name":…}` calls `SimulationOptions.callbacks[name]` with a read-only view of
// the handler's context; the steps it returns are checked with the scenario rules, logged
// (`handler.callback`) and run in its place. Nothing is eval'ed, and the fold, the views and
// replay only ever see the logged steps.

/** What a TypeScript handler may look at: a snapshot, not the kernel. */
export interface HandlerContext {
  readonly cpu: number;
  readonly pid: number;
  readonly comm: string;
  readonly probe: string;
  /** `pre`/`post` for kprobes, `entry`/`return` for kretprobes. */
  readonly phase: 'pre' | 'post' | 'entry' | 'return';
  /** Logical time (ticks of a microsecond). */
  readonly t: number;
  /** The probe's counters so far. */
  readonly hits: number;
  readonly nmissed: number;
  /** In a kretprobe return handler: the call's return value (R76). */
  readonly retval?: number;
}

/** Returns the steps to run in place of the callback step (no further callbacks among them). */
export type HandlerCallback = (ctx: HandlerContext) => readonly HandlerStep[];

/** The scenario field a handler phase is written in. */
function phaseField(p: ProbeSpec, phase: HandlerRun['phase']): 'pre' | 'post' | 'entry' | 'handler' {
  if (p.kind === 'kretprobe') return phase === 'ret' ? 'handler' : 'entry';
  if (p.kind === 'jprobe') return 'handler';
  return phase === 'post' ? 'post' : 'pre';
}

export function contextPhase(p: ProbeSpec | undefined, phase: HandlerRun['phase']): HandlerContext['phase'] {
  if (p?.kind === 'kretprobe') return phase === 'ret' ? 'return' : 'entry';
  return phase === 'post' ? 'post' : 'pre';
}

/**
 * The steps a callback returned, checked as if they were written in the scenario where the
 * callback step is; an InputError names the callback and the step.
 */
export function checkCallbackSteps(setup: Setup, probe: string, phase: HandlerRun['phase'], name: string, steps: unknown): HandlerStep[] {
  const spec = setup.probes.get(probe)!;
  const field = phaseField(spec, phase);
  if (!Array.isArray(steps)) throw new InputError(`callbacks.${name}`, 'must return an array of handler steps');
  if (steps.some((s) => typeof s === 'object' && s !== null && (s as { do?: unknown }).do === 'callback')) {
    throw new InputError(`callbacks.${name}`, 'may not return another callback step');
  }
  try {
    const s = validateScenario({ ...setup.scenario, name: 'callback', probes: [...setup.probes.values()].map((p) => (p.name === probe ? { ...p, [field]: steps } : p)), tasks: [] }, setup.symbols);
    return [...(s.probes.find((p) => p.name === probe)![field] ?? [])];
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`callbacks.${name}`, `returned ${e.place.replace(/^scenario\.probes\[\d+\]\./, '')}: ${e.what}`);
    throw e;
  }
}

/** The steps of a handler run as they stand, callbacks' expansions spliced in. */
export function effectiveSteps(base: readonly RunStep[], run: HandlerRun): readonly RunStep[] {
  let steps = base;
  for (const x of run.expansions ?? []) steps = [...steps.slice(0, x.at), ...(x.steps as unknown as RunStep[]), ...steps.slice(x.at + 1)];
  return steps;
}

export function asJson(steps: readonly HandlerStep[]): JsonObject[] {
  return steps as unknown as JsonObject[];
}
