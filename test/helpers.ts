import { Simulation } from '../src/actors/simulation.ts';
import type { LoggedEvent } from '../src/model/events.ts';
import type { KernelState } from '../src/model/state.ts';
import { InvariantMonitor, type Violation } from '../src/monitors/invariants.ts';
import type { ProbeSpec, Scenario, TaskSpec } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { randomStrategy, roundRobinStrategy } from '../src/scheduler/strategies.ts';

/** A small valid scenario; every field can be overridden. */
export function scenario(p: { cpus?: number; probes?: ProbeSpec[]; tasks: TaskSpec[]; max_steps?: number }): Scenario {
  return validateScenario({ name: 'test', description: 'a test scenario', cpus: p.cpus ?? 1, max_steps: p.max_steps ?? 20_000, probes: p.probes ?? [], tasks: p.tasks });
}

export interface Traced {
  readonly events: LoggedEvent[];
  /** states[i] is the state after events[i]. */
  readonly states: KernelState[];
  readonly final: KernelState;
  readonly violations: readonly Violation[];
  readonly sim: Simulation;
}

/** Runs a scenario to its end, keeping every event and the state after it. */
export function trace(s: Scenario, opts: { seed?: number; strategy?: 'random' | 'round-robin' } = {}): Traced {
  const seed = opts.seed ?? 1;
  const monitor = new InvariantMonitor();
  const states: KernelState[] = [];
  const sim = new Simulation(s, {
    seed,
    strategy: opts.strategy === 'round-robin' ? roundRobinStrategy() : randomStrategy(seed),
    projections: [monitor, { observe: (_b, _e, after) => states.push(after) }],
  });
  const events: LoggedEvent[] = [];
  sim.events$.subscribe((e) => events.push(e));
  sim.run();
  return { events, states, final: sim.world, violations: monitor.violations, sim };
}

export function ofType<T extends LoggedEvent['type']>(events: readonly LoggedEvent[], type: T): Extract<LoggedEvent, { type: T }>[] {
  return events.filter((e): e is Extract<LoggedEvent, { type: T }> => e.type === type);
}

export function indexOf(events: readonly LoggedEvent[], pred: (e: LoggedEvent) => boolean, from = 0): number {
  for (let i = from; i < events.length; i++) if (pred(events[i]!)) return i;
  return -1;
}

/** An event before the bus stamps seq and t (distributes over the union, unlike Omit). */
export type Unstamped = LoggedEvent extends infer E ? (E extends LoggedEvent ? Omit<E, 'seq' | 't'> : never) : never;
