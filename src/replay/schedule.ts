import type { Setup } from '../model/setup.ts';
import type { KernelState } from '../model/state.ts';
import type { Choice } from '../scheduler/choices.ts';
import { decisionLabel } from '../scheduler/label.ts';
import { describe } from '../scheduler/strategies.ts';

// Where a logged schedule stops applying to the model as it is now: a logged decision that is not
// among the enabled choices, or whose step would now do something else than its label says.
// Replay (exact, and --by-labels) reports it with the decision's index, seq and line, the logged
// label and every enabled choice with the label the model gives it now.

/** A decision as the log has it: the choice and, in logs written since decisions are labelled, its label. */
export interface LoggedDecision extends Choice {
  readonly label?: string;
}

export interface LabelledChoice {
  readonly choice: Choice;
  readonly label: string;
}

/** The schedule no longer applies at a decision (without where in the log: the replay adds that). */
export interface ScheduleMismatch {
  readonly logged: LoggedDecision;
  /** The label the model gives the logged choice now; null: the choice is not enabled now. */
  readonly now: string | null;
  readonly enabled: readonly LabelledChoice[];
  /** Nothing is enabled because the run has ended: how. */
  readonly ended?: string;
}

/** A ScheduleMismatch at its place: decision index (0: the log's first sched.pick), seq and line. */
export interface ScheduleReport extends ScheduleMismatch {
  readonly decision: number;
  readonly seq: number;
  readonly line: number;
}

/** Thrown from a replay strategy's choose(): the scheduler's step fails with it, and step() rethrows it. */
export class ScheduleMismatchError extends Error {
  constructor(readonly mismatch: ScheduleMismatch) {
    super(mismatchText(mismatch));
  }
}

/** Every enabled choice with the label the model gives it in `w`. */
export function labelled(setup: Setup, w: KernelState, choices: readonly Choice[]): LabelledChoice[] {
  return choices.map((choice) => ({ choice, label: decisionLabel(setup, w, choice) }));
}

function loggedText(d: LoggedDecision): string {
  return d.label !== undefined ? JSON.stringify(d.label) : `${describe(d)} (no label)`;
}

function mismatchText(m: ScheduleMismatch): string {
  const what = m.now === null ? `the log's ${loggedText(m.logged)} is not possible now` : `the log's ${loggedText(m.logged)} is now ${JSON.stringify(m.now)}`;
  const enabled = m.enabled.length > 0 ? `enabled: ${m.enabled.map((c) => JSON.stringify(c.label)).join(', ')}` : (m.ended ?? 'nothing is enabled');
  return `${what}; ${enabled}`;
}

/** "the schedule no longer applies at decision 212 (seq 640, line 641): the log's "cpu1: int3 kp" is now "…"; enabled: …" */
export function scheduleMessage(r: ScheduleReport): string {
  return `the schedule no longer applies at decision ${r.decision} (seq ${r.seq}, line ${r.line}): ${mismatchText(r)}`;
}
