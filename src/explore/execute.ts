import type { MutantName } from '../kprobes/mutants.ts';
import { Simulation, type EndReason, type SimulationOptions } from '../actors/simulation.ts';
import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import type { Scenario } from '../scenario/types.ts';
import type { Choice } from '../scheduler/choices.ts';
import { decisionLabel } from '../scheduler/label.ts';
import { roundRobinStrategy, type Strategy } from '../scheduler/strategies.ts';
import { DETECTORS, type Failure, type FailureDetector } from './detectors.ts';
import { LIVENESS_BOUND, LivenessDetector } from './liveness.ts';
import { stateHash } from './state-hash.ts';
import { isBranchPoint, visibilityOf } from './visibility.ts';

// One exploration run: the scenario under a strategy, watched by every failure detector, with a
// fair liveness phase at the end of its step budget. It records what a search needs: each
// decision, the state's fingerprint before it and, for systematic search, the menu it was
// chosen from.

export interface RunSpec {
  readonly scenario: Scenario;
  /** The simulation's seed (ids, pointer hashing): the same for every run of one exploration. */
  readonly seed: number;
  readonly strategy: Strategy;
  /** A planted-bug kernel (`--mutant`), passed to the simulation. */
  readonly mutant?: MutantName;
  /** Keep each decision's menu (systematic search expands them). */
  readonly menus?: boolean;
  /** Stop stepping once a failure is seen (the rest of the run cannot undo it). */
  readonly stopAtFailure: boolean;
  /** Every event of the run, as it is published (writing a log). */
  readonly onEvent?: (e: LoggedEvent) => void;
  /**
   * Partial-order reduction (./visibility.ts): the strategy is asked only at branch points;
   * between them the run takes the default decision itself (and tells the strategy, `follow`).
   */
  readonly reduce?: boolean;
  /**
   * Handed, once the simulation exists, a function labelling a choice in the state the run
   * decides in now (src/scheduler/label.ts): a strategy replaying by labels calls it from choose().
   */
  readonly labelChoices?: (labelOf: (choice: Choice) => string) => void;
}

export interface RunRecord {
  readonly decisions: readonly Choice[];
  /** menus[i]: the enabled choices decision i was made from (when asked for). */
  readonly menus: readonly (readonly Choice[])[] | null;
  /** hashes[i]: the state's fingerprint when decision i was made. */
  readonly hashes: readonly number[];
  /** branch[i]: decision i could leave the default schedule (always true without reduction). */
  readonly branch: readonly boolean[];
  /**
   * yields[i]: decision i's step only spun (a `c.spin` of its CPU: a spinlock another CPU holds).
   * A spin is a yield: the default schedule and the strategies move on from that CPU
   * (src/scheduler/strategies/strategy.ts, `yielded`). All false in runs without C modules.
   */
  readonly yields: readonly boolean[];
  readonly failure: Failure | null;
  /** Decisions made when the failure showed (its step's own decision included). */
  readonly failureAt: number;
  /** Why the run ended, or null when it was stopped at its failure. */
  readonly endReason: EndReason | null;
  /** The folded state when the run ended or was stopped. */
  readonly world: KernelState;
}

/** The fair phase's bound for a scenario: LIVENESS_BOUND, or half its step limit when that is less. */
export function livenessBound(scenario: Scenario): number {
  return Math.max(1, Math.min(LIVENESS_BOUND, Math.floor(scenario.max_steps / 2)));
}

function firstFailure(detectors: readonly FailureDetector[]): Failure | null {
  let best: Failure | null = null;
  for (const d of detectors) if (d.found !== null && (best === null || d.found.seq < best.seq)) best = d.found;
  return best;
}

export function executeRun(spec: RunSpec): RunRecord {
  const { scenario } = spec;
  const bound = livenessBound(scenario);
  const safetySteps = scenario.max_steps - bound;
  const liveness = new LivenessDetector(bound);
  const detectors: FailureDetector[] = [];
  for (const make of DETECTORS) {
    const d = make(scenario);
    if (d !== null) detectors.push(d);
  }
  detectors.push(liveness);

  const decisions: Choice[] = [];
  const menus: (readonly Choice[])[] | null = spec.menus ? [] : null;
  const hashes: number[] = [];
  const branch: boolean[] = [];
  const yields: boolean[] = [];
  const fair = roundRobinStrategy();
  let sim: Simulation | undefined;
  // Whether the step since the last decision emitted a visible event (the reduction's input;
  // without reduction every step counts as visible, so every decision is a branch point).
  const reduce = spec.reduce === true;
  let stepVisible = true;
  let prevMenu: readonly Choice[] = [];
  const recording: Strategy = {
    name: spec.strategy.name,
    choose(choices, t) {
      const world = sim!.world;
      hashes.push(stateHash(world));
      menus?.push(choices);
      const last = decisions.at(-1);
      // The step since the last decision only spun: the strategy hears of it before it chooses.
      if (last !== undefined && yields.at(-1) === true) spec.strategy.yielded?.(last.cpu);
      const free = last === undefined || isBranchPoint(choices, { menu: prevMenu, cpu: last.cpu, visible: stepVisible });
      branch.push(free);
      prevMenu = choices;
      stepVisible = !reduce;
      if (decisions.length === safetySteps) liveness.startFairPhase(world);
      let chosen: Choice;
      if (decisions.length >= safetySteps) chosen = fair.choose(choices, t);
      else if (free) chosen = spec.strategy.choose(choices, t);
      else {
        // Not a branch point: the CPU that stepped last steps on (isBranchPoint checked it can).
        chosen = choices.find((c) => c.cpu === last!.cpu && c.switch_to === null)!;
        spec.strategy.follow?.(chosen);
      }
      decisions.push(chosen);
      yields.push(false);
      return chosen;
    },
  };
  // A run whose events are written (a failure's log) labels its decisions, as every log does.
  const options: SimulationOptions = { seed: spec.seed, strategy: recording, projections: detectors, labels: spec.onEvent !== undefined };
  sim = new Simulation(scenario, spec.mutant === undefined ? options : { ...options, mutant: spec.mutant });
  spec.labelChoices?.((choice) => decisionLabel(sim!.setup, sim!.world, choice));
  if (spec.onEvent !== undefined) sim.events$.subscribe(spec.onEvent);
  if (reduce) {
    const v = visibilityOf(sim.setup);
    // sched.pick opens a step (the pick itself is not an observation); every later event of it,
    // and anything between decisions (the optimizer, time.advance), can make it visible.
    // The visibility sees every event (it tracks the modules going LIVE and the probes' addresses)
    // and, at each sched.pick, the state the step starts from.
    sim.events$.subscribe((e) => {
      if (e.type === 'sched.pick') v.begin(sim!.world);
      else if (v.visible(e)) stepVisible = true;
    });
  }

  if (sim.setup.c !== undefined) {
    // Only C modules spin (src/cexec/natives.ts, spinLock); other runs subscribe to nothing more.
    sim.events$.subscribe((e) => {
      if (e.type === 'c.spin' && e.cpu === decisions.at(-1)?.cpu) yields[yields.length - 1] = true;
    });
  }

  let failure: Failure | null = null;
  let failureAt = 0;
  while (sim.step()) {
    if (failure === null) {
      failure = firstFailure(detectors);
      if (failure !== null) {
        failureAt = decisions.length;
        if (spec.stopAtFailure) return { decisions, menus, hashes, branch, yields, failure, failureAt, endReason: null, world: sim.world };
      }
    }
  }
  const endReason = sim.endReason!;
  if (failure === null) {
    for (const d of detectors) d.end?.(endReason, sim.world);
    failure = firstFailure(detectors);
    failureAt = decisions.length;
  }
  return { decisions, menus, hashes, branch, yields, failure, failureAt, endReason, world: sim.world };
}
