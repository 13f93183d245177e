import { isInputEvent, Simulation, type EndReason } from '../actors/simulation.ts';
import { InputError } from '../errors.ts';
import { ExpectMonitor, type ExpectFailure } from '../expect/monitor.ts';
import { digestState } from '../model/digest.ts';
import { InvariantMonitor } from '../monitors/invariants.ts';
import type { Violation } from '../monitors/checker.ts';
import type { Strategy } from '../scheduler/strategies.ts';
import { openLog } from './open-log.ts';
import { inputFromLog, loggedCallbacks } from './replay.ts';
import { labelled, ScheduleMismatchError, type LabelledChoice, type ScheduleReport } from './schedule.ts';

// `kprobesim replay LOG --by-labels`: the lenient replay. The scenario runs again on the model as
// it is now, and at each decision takes the enabled choice whose label (what its step does,
// src/scheduler/label.ts) is the logged one, on the logged CPU first, else on another CPU (the
// same task doing the same thing after it moved). Events are not compared: the model may have
// changed what a step writes. Either every decision applies, and the run is checked as `run`
// checks it (invariants, the scenario's expectations, how it ended, its digest against the log's),
// or the first decision whose label no enabled choice has is reported where it is.

export type ByLabelsResult =
  | {
      readonly kind: 'applied';
      /** The log's decisions, every one applied. */
      readonly decisions: number;
      /** How many of them were taken on another CPU than the logged one. */
      readonly moved: number;
      /** Why the run ended, or null when it goes on past the log's last decision. */
      readonly endReason: EndReason | null;
      /** The digest of the state after the last decision (or at the end), and the log's (null: no log.end). */
      readonly digest: string;
      readonly loggedDigest: string | null;
      readonly violations: readonly Violation[];
      readonly expectFailures: readonly ExpectFailure[];
      /** The kernel BUG or oops that halted a CPU, if one did. */
      readonly halted: string | null;
    }
  | { readonly kind: 'stopped'; readonly applied: number; readonly schedule: ScheduleReport };

/** The run wants a decision after the log's last one: it goes on past the log. */
class PastTheLog extends Error {}

/** "cpu1: int3 kp" → "int3 kp": what the step does, whichever CPU does it. */
function body(label: string): string {
  const colon = label.indexOf(': ');
  return colon === -1 ? label : label.slice(colon + 2);
}

export async function replayByLabels(path: string): Promise<ByLabelsResult> {
  const log = await openLog(path);
  const { header, scenario } = log;
  let wanted: { cpu: number; switch_to: number | null; label: string } | null = null;
  let chosenLabel: string | undefined;
  let moved = 0;
  let sim: Simulation | undefined;
  const strategy: Strategy = {
    name: 'replay',
    choose(choices) {
      const want = wanted;
      if (want === null) throw new PastTheLog('the run goes on past the log\'s last decision');
      wanted = null;
      const options: readonly LabelledChoice[] = labelled(sim!.setup, sim!.world, choices);
      let found = options.find((o) => o.choice.cpu === want.cpu && o.label === want.label);
      if (found === undefined) {
        const what = body(want.label);
        found = options.find((o) => body(o.label) === what);
        if (found !== undefined) moved++;
      }
      if (found === undefined) {
        const same = options.find((o) => o.choice.cpu === want.cpu && o.choice.switch_to === want.switch_to);
        throw new ScheduleMismatchError({ logged: want, now: same?.label ?? null, enabled: options });
      }
      chosenLabel = found.label;
      return found.choice;
    },
  };
  const monitor = new InvariantMonitor();
  const expectations = ExpectMonitor.of(scenario);
  sim = new Simulation(scenario, {
    seed: header.seed,
    strategy,
    labels: () => chosenLabel,
    projections: [monitor, ...(expectations === null ? [] : [expectations])],
    ...(await loggedCallbacks(path, scenario)),
    ...(header.mutant !== undefined ? { mutant: header.mutant } : {}),
  });
  let decisions = 0;
  let loggedDigest: string | null = null;
  for await (const batch of log.batches) {
    for (const entry of batch) {
      if (entry.kind !== 'event') continue;
      const e = entry.event;
      if (e.type === 'log.end') loggedDigest = e.digest;
      if (isInputEvent(e)) {
        inputFromLog(sim, e, `${path}:${entry.line}`);
        continue;
      }
      if (e.type !== 'sched.pick') continue;
      if (e.label === undefined) {
        throw new InputError(`${path}:${entry.line}`, 'this sched.pick has no label (the log was written before decisions were labelled): replay it without --by-labels');
      }
      wanted = { cpu: e.cpu, switch_to: e.switch_to, label: e.label };
      const where = { decision: decisions, seq: e.seq, line: entry.line };
      try {
        // A step may be the optimizer's deferred work or an idle jump of the clock: step on until
        // this decision is taken, or the run ends without it.
        while (wanted !== null && sim.step());
      } catch (err) {
        if (err instanceof ScheduleMismatchError) return { kind: 'stopped', applied: decisions, schedule: { ...err.mismatch, ...where } };
        throw err;
      }
      if (wanted !== null) {
        // The run ended (or only waits for a session's input) before this decision.
        const ended = `the run has ended (${sim.endReason ?? 'waiting for input'})`;
        return { kind: 'stopped', applied: decisions, schedule: { logged: wanted, now: null, enabled: [], ended, ...where } };
      }
      decisions++;
    }
  }
  // What the logged run did after its last decision (the optimizer's work, the clock's jumps, the
  // end), unless the model now wants more decisions there.
  try {
    while (sim.step());
  } catch (err) {
    if (!(err instanceof PastTheLog)) throw err;
  }
  return {
    kind: 'applied',
    decisions,
    moved,
    endReason: sim.endReason,
    digest: digestState(sim.world),
    loggedDigest,
    violations: monitor.violations,
    expectFailures: expectations?.failures ?? [],
    halted: sim.world.halted === null ? null : `cpu ${sim.world.halted.cpu}: ${sim.world.halted.message}`,
  };
}
