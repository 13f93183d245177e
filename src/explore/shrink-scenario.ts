import type { MutantName } from '../kprobes/mutants.ts';
import type { ProbeSpec, Scenario, TaskOp, TaskSpec } from '../scenario/types.ts';
import { validateScenario } from '../scenario/validate.ts';
import type { Choice } from '../scheduler/choices.ts';
import { forcedStrategy } from '../scheduler/strategies.ts';
import type { Failure } from './detectors.ts';
import { executeRun, type RunRecord } from './execute.ts';
import { preemptionsOf, shrinkSchedule, type Preemption } from './shrink.ts';

// Shrinking a failing scenario (issue 12, "Shrinking and explaining" step 3), after its schedule
// was shrunk (./shrink.ts): fewer tasks, probes, operations, handler steps and CPUs, and smaller
// counts (call times, sleep ticks), while the same failure (same kind, same check)
// still shows. A candidate is one such cut of the current scenario; it is kept when the shrunk
// schedule, replayed leniently on it (a preemption no longer on the menu is skipped), fails the
// same way, or else the same schedule with one preemption left out, or with none (a small
// re-exploration), and no later and with no more preemptions than before (a smaller scenario
// with a longer or busier schedule is not simpler to read). Preemptions are replayed by decision
// index, so a cut that shifts the decisions before a preemption (an operation before the race)
// is kept only when the re-exploration still fails. Greedy passes over the candidates go on
// until a whole pass keeps none or the run budget is spent; the schedule is then shrunk again on
// the scenario kept. Every run is a function of the inputs, so the result is deterministic.
// Scenarios with C modules are not shrunk: their tasks run compiled code whose parts a cut of
// the scenario cannot see.

/** At most this many runs per scenario shrink (it counts runs, so it stays deterministic). */
export const SCENARIO_SHRINK_RUNS = 150;

/** What a scenario's size is counted in (the report's `scenario_before` / `scenario_after`). */
export interface ScenarioSize {
  readonly cpus: number;
  readonly tasks: number;
  readonly probes: number;
  /** Task operations, those of forked programs included. */
  readonly operations: number;
  /** Steps of every handler of every probe. */
  readonly handler_steps: number;
}

export interface ScenarioShrinkSpec {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly mutant?: MutantName;
}

export type ScenarioShrunk =
  | {
      readonly shrunk: true;
      readonly scenario: Scenario;
      readonly preemptions: readonly Preemption[];
      /** The shrunk scenario's run under `preemptions`, stopped at the failure. */
      readonly record: RunRecord;
      readonly before: ScenarioSize;
      readonly after: ScenarioSize;
      /** Runs spent, the final schedule shrink's included. */
      readonly runs: number;
    }
  | { readonly shrunk: false; readonly reason: string; readonly before: ScenarioSize };

const HANDLERS = ['pre', 'post', 'entry', 'handler'] as const;

function opsIn(program: readonly TaskOp[]): number {
  return program.reduce((n, op) => n + 1 + (op.op === 'fork' ? opsIn(op.program) : 0), 0);
}

export function scenarioSize(s: Scenario): ScenarioSize {
  return {
    cpus: s.cpus,
    tasks: s.tasks.length,
    probes: s.probes.length,
    operations: s.tasks.reduce((n, t) => n + opsIn(t.program), 0),
    handler_steps: s.probes.reduce((n, p) => n + HANDLERS.reduce((m, h) => m + (p[h]?.length ?? 0), 0), 0),
  };
}

/** Why a scenario is not shrunk, or null when it may be. */
export function notShrinkable(s: Scenario): string | null {
  const cModule = (s.modules ?? []).some((m) => m.source !== undefined || m.code !== undefined);
  const compiled = (ops: readonly TaskOp[]): boolean => ops.some((op) => op.op === 'c_load' || op.op === 'c_exit' || (op.op === 'call' && op.exec !== undefined) || (op.op === 'fork' && compiled(op.program)));
  if (cModule || s.tasks.some((t) => compiled(t.program))) return 'the scenario has C modules (their compiled code is not shrunk)';
  return null;
}

function withoutIndex<T>(xs: readonly T[], i: number): T[] {
  return xs.filter((_, j) => j !== i);
}

function withTask(s: Scenario, i: number, t: TaskSpec): Scenario {
  return { ...s, tasks: s.tasks.map((x, j) => (j === i ? t : x)) };
}

function withProbe(s: Scenario, i: number, p: ProbeSpec): Scenario {
  return { ...s, probes: s.probes.map((x, j) => (j === i ? p : x)) };
}

/** The ops of `program` with every use of probe `name` taken out. */
function withoutProbeUses(program: readonly TaskOp[], name: string): TaskOp[] {
  const out: TaskOp[] = [];
  for (const op of program) {
    if ('probe' in op && op.probe === name) continue;
    if (op.op === 'register_kprobes' || op.op === 'unregister_kprobes') {
      const probes = op.probes.filter((p) => p !== name);
      if (probes.length > 0) out.push({ ...op, probes });
    } else if (op.op === 'fork') out.push({ ...op, program: withoutProbeUses(op.program, name) });
    else out.push(op);
  }
  return out;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

/**
 * The cuts of `s`, coarse first: a task, a probe (with its uses), an operation, a handler step,
 * a CPU, then halved counts. Some are invalid scenarios; validation drops them before any run.
 */
export function* candidates(s: Scenario): Generator<Scenario> {
  if (s.tasks.length > 1) for (let i = 0; i < s.tasks.length; i++) yield { ...s, tasks: withoutIndex(s.tasks, i) };
  for (let i = 0; i < s.probes.length; i++) {
    const name = s.probes[i]!.name;
    yield { ...s, probes: withoutIndex(s.probes, i), tasks: s.tasks.map((t) => ({ ...t, program: withoutProbeUses(t.program, name) })) };
  }
  for (let i = 0; i < s.tasks.length; i++) {
    const t = s.tasks[i]!;
    for (let k = 0; k < t.program.length; k++) yield withTask(s, i, { ...t, program: withoutIndex(t.program, k) });
  }
  for (let i = 0; i < s.probes.length; i++) {
    const p = s.probes[i]!;
    for (const h of HANDLERS) {
      const steps = p[h];
      // A handler keeps its last step: an empty one is no handler at all, a different probe (and
      // the story could no longer say which handler the CPU was in).
      if (steps === undefined || steps.length < 2) continue;
      for (let k = 0; k < steps.length; k++) yield withProbe(s, i, { ...p, [h]: withoutIndex(steps, k) });
    }
  }
  if (s.cpus > 1) yield { ...s, cpus: s.cpus - 1 };
  // Counts: a call's times, a sleep's ticks, halved.
  for (let i = 0; i < s.tasks.length; i++) {
    const t = s.tasks[i]!;
    for (let k = 0; k < t.program.length; k++) {
      const op = t.program[k]!;
      let smaller: TaskOp | null = null;
      if (op.op === 'call' && (op.times ?? 1) > 1) {
        const times = half(op.times!);
        if (times > 1) smaller = { ...op, times };
        else {
          const { times: _, ...once } = op;
          smaller = once;
        }
      } else if (op.op === 'sleep' && op.ticks > 1) smaller = { ...op, ticks: half(op.ticks) };
      if (smaller !== null) yield withTask(s, i, { ...t, program: t.program.map((x, j) => (j === k ? smaller : x)) });
    }
  }
  // A handler's spin is not halved: it is the window the race needs, and a narrower one makes
  // the failure need a tighter schedule, not a simpler scenario.
}

function sameFailure(a: Failure | null, b: Failure): boolean {
  return a !== null && a.kind === b.kind && a.check === b.check;
}

function valid(s: Scenario): Scenario | null {
  try {
    return validateScenario(s);
  } catch {
    return null;
  }
}

/**
 * Shrinks `spec.scenario`, which fails with `failure` under the schedule `preemptions` (the
 * schedule shrink's result) at decision `failureAt`, to a smaller scenario that fails the same
 * way, no later.
 */
export function shrinkScenario(spec: ScenarioShrinkSpec, preemptions: readonly Preemption[], failure: Failure, failureAt: number): ScenarioShrunk {
  const before = scenarioSize(spec.scenario);
  const reason = notShrinkable(spec.scenario);
  if (reason !== null) return { shrunk: false, reason, before };
  const withMutant = <T extends object>(o: T): T => (spec.mutant === undefined ? o : { ...o, mutant: spec.mutant });
  let runs = 0;
  const attempt = (scenario: Scenario, strategy: Parameters<typeof executeRun>[0]['strategy']): RunRecord | null => {
    runs++;
    try {
      const r = executeRun(withMutant({ scenario, seed: spec.seed, strategy, menus: true, stopAtFailure: true }));
      return sameFailure(r.failure, failure) ? r : null;
    } catch {
      // A cut the model cannot run (an expectation naming a removed probe, say) does not reproduce.
      return null;
    }
  };
  const replayed = (scenario: Scenario, forced: readonly Preemption[]): RunRecord | null => {
    const byIndex = new Map(forced.map((p) => [p.at, p.choice]));
    return attempt(scenario, forcedStrategy('explore', (i) => byIndex.get(i)));
  };

  let current = spec.scenario;
  // Set by a kept cut (a holder, so the flow analysis sees the closure's writes).
  const kept: { decisions: readonly Choice[] | null } = { decisions: null };
  let currentPreemptions = preemptions;
  let currentAt = failureAt;
  const reproduces = (candidate: Scenario): boolean => {
    // A cut that needs more preemptions, or makes the failure come later, is no simpler to read.
    const simpler = (r: RunRecord | null): r is RunRecord => r !== null && r.failureAt <= currentAt && preemptionsOf(r).length <= currentPreemptions.length;
    let r = replayed(candidate, currentPreemptions);
    // The small re-exploration: the schedule with one preemption left out, then none.
    const around = currentPreemptions.map((_, k) => withoutIndex(currentPreemptions, k));
    if (currentPreemptions.length > 1) around.push([]);
    for (let k = 0; !simpler(r) && k < around.length && runs < SCENARIO_SHRINK_RUNS; k++) r = replayed(candidate, around[k]!);
    if (!simpler(r)) return false;
    current = candidate;
    currentAt = r.failureAt;
    kept.decisions = r.decisions.slice(0, r.failureAt);
    currentPreemptions = preemptionsOf(r);
    return true;
  };

  // Greedy passes: after a kept cut, go on from the same place in the new list; stop when a
  // whole pass from the start keeps nothing.
  let start = 0;
  while (runs < SCENARIO_SHRINK_RUNS) {
    const list = [...candidates(current)];
    let at = -1;
    for (let i = start; i < list.length && runs < SCENARIO_SHRINK_RUNS; i++) {
      const c = valid(list[i]!);
      if (c !== null && reproduces(c)) {
        at = i;
        break;
      }
    }
    if (at >= 0) start = at;
    else if (start > 0) start = 0;
    else break;
  }

  if (kept.decisions === null) {
    // Nothing was cut: the scenario and schedule stay as they were.
    const r = replayed(current, preemptions);
    if (r === null) throw new Error(`internal: the shrunk schedule did not fail again (${failure.check})`);
    return { shrunk: true, scenario: current, preemptions, record: r, before, after: before, runs };
  }
  // The schedule the last kept cut failed under, shrunk again on the smaller scenario.
  const s = shrinkSchedule(withMutant({ scenario: current, seed: spec.seed }), kept.decisions, failure);
  return { shrunk: true, scenario: current, preemptions: s.preemptions, record: s.record, before, after: scenarioSize(current), runs: runs + s.runs };
}
