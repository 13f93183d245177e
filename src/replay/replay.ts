import { isInputEvent, Simulation, type InputEvent } from '../actors/simulation.ts';
import { canonicalJson } from '../model/digest.ts';
import type { LoggedEvent } from '../model/events.ts';
import type { Choice } from '../scheduler/choices.ts';
import { describe, ScheduleDivergence, strategyByName, type Strategy } from '../scheduler/strategies.ts';
import { decisionLabel } from '../scheduler/label.ts';
import { labelled, ScheduleMismatchError, type LoggedDecision, type ScheduleReport } from './schedule.ts';
import { openLog, type OpenedLog } from './open-log.ts';
import type { LogHeader } from '../log/header.ts';
import { logChunks, MAX_LINE_CHARS } from '../log/source.ts';
import { readLogBatches } from '../log/reader.ts';
import { LogWriter } from '../log/writer.ts';
import type { HandlerCallback } from '../kprobes/callbacks.ts';
import { callbackNames } from '../scenario/callbacks.ts';
import type { HandlerStep, Scenario } from '../scenario/types.ts';
import { InputError } from '../errors.ts';
import { checkInputEvent, inputErrorAt } from '../session/input.ts';

// Replay re-executes a run from its log header, taking each scheduling decision from the log,
// and compares every event it produces with the logged one. A log written by the seeded random
// or round-robin strategy is also checked against that strategy: a hand-edited decision shows
// up at its own seq, not one event later. A logged decision carries the label of what its step
// did (src/scheduler/label.ts; logs written before labels have none): the model labels the same
// choice again, and a decision that is no longer enabled, or whose step would now do something
// else, is reported as the place where the schedule no longer applies (./schedule.ts).

/** A session's input as the log holds it, checked like a scenario and fed to the replayed run; bad input names `place`. */
export function inputFromLog(sim: Simulation, e: InputEvent, place: string): void {
  try {
    sim.input(checkInputEvent(sim.setup, e));
  } catch (err) {
    if (err instanceof InputError) throw inputErrorAt(place, err);
    throw err;
  }
}

export type ReplayResult =
  | {
      readonly kind: 'identical';
      readonly events: number;
      /** The digest of log.end, or null when the log stops before it (an interrupted run). */
      readonly digest: string | null;
      readonly truncatedAt: number | null;
    }
  | {
      readonly kind: 'diverged';
      readonly seq: number;
      readonly line: number;
      readonly expected: string;
      readonly actual: string;
      /** The divergence is the schedule's: a logged decision not enabled now, or labelled otherwise now. */
      readonly schedule?: ScheduleReport;
    };

export async function replayLog(path: string): Promise<ReplayResult> {
  const log = await openLog(path);
  // A log that re-executes line for line needs no line parsed but the decisions (replayLines);
  // anything else (a difference, a cut, a bad line, a session's input, TypeScript handlers) is
  // replayed again with every line read, checked and compared, which says what and where.
  if (callbackNames(log.scenario).length === 0) {
    await log.close();
    const fast = await replayLines(path, log.header, log.scenario).catch(() => null);
    if (fast !== null) return fast;
    return replayChecked(path, await openLog(path));
  }
  return replayChecked(path, log);
}

/**
 * A decision of the log being replayed: `labelled` says the logged line has a label, so the
 * re-created sched.pick gets one too; `label` is the logged label when replay compares it here
 * (the fast path compares the whole line instead).
 */
interface ReplayDecision extends LoggedDecision {
  readonly labelled: boolean;
}

/** A Simulation that takes each decision from `decisions` (and checks it against its label and the log's strategy). */
function replaySimulation(header: LogHeader, scenario: Scenario, decisions: () => ReplayDecision, extra: { callbacks?: Record<string, HandlerCallback> } = {}): Simulation {
  const reference: Strategy | null =
    header.strategy.name === 'random' || header.strategy.name === 'round-robin' ? strategyByName(header.strategy.name, header.seed) : null;
  // The label of the decision being made, for its sched.pick (undefined: the logged line has none).
  let label: string | undefined;
  const strategy: Strategy = {
    name: 'replay',
    choose(choices, t) {
      const wanted = decisions();
      const chosen = choices.find((c) => c.cpu === wanted.cpu && c.switch_to === wanted.switch_to);
      const { setup, world } = sim;
      if (chosen === undefined) throw new ScheduleMismatchError({ logged: wanted, now: null, enabled: labelled(setup, world, choices) });
      label = wanted.labelled ? decisionLabel(setup, world, chosen) : undefined;
      if (wanted.label !== undefined && label !== wanted.label) throw new ScheduleMismatchError({ logged: wanted, now: label ?? null, enabled: labelled(setup, world, choices) });
      if (reference !== null) {
        const ref = reference.choose(choices, t);
        if (ref.cpu !== chosen.cpu || ref.switch_to !== chosen.switch_to) {
          throw new Error(`the ${reference.name} schedule (seed ${header.seed}) makes ${describe(ref)} here, not ${describe(chosen)}`);
        }
      }
      return chosen;
    },
  };
  // The same kernel as the logged run: a mutant's too.
  const sim = new Simulation(scenario, { seed: header.seed, strategy, labels: () => label, ...extra, ...(header.mutant !== undefined ? { mutant: header.mutant } : {}) });
  return sim;
}

/**
 * A sched.pick line as the writer writes it (most first lines of a step): its decision without a
 * parse. Only the start of a labelled line is matched: the label is checked with the rest of the
 * line, which must equal the re-created event's byte for byte.
 */
const PICK_LINE = /^\{"seq":\d+,"t":\d+,"src":"sched","type":"sched\.pick","cpu":(\d+),"switch_to":(null|\d+)(\}$|,"label":")/;

/**
 * Replay of a complete log whose every event line is, byte for byte, the line the writer writes
 * for the re-created event. Such a line needs no parsing or checking: the run made it. Only the
 * first line of each step is parsed, for its scheduling decision. Returns null at the first line
 * that is anything else, so that replayChecked says what it is; a log cut short is answered here
 * as the checked replay answers it.
 */
async function replayLines(path: string, header: LogHeader, scenario: Scenario): Promise<ReplayResult | null> {
  let decision: ReplayDecision | null = null;
  const sim = replaySimulation(header, scenario, () => {
    if (decision === null) throw new Error('the log has no scheduling decision here');
    const d = decision;
    decision = null;
    return d;
  });
  const produced: LoggedEvent[] = [];
  sim.events$.subscribe((e) => produced.push(e));
  let lineNo = 0;
  let count = 0;
  let digest: string | null = null;
  /** False when the line is not what the run writes next. */
  const take = (raw: string): boolean => {
    lineNo++;
    if (lineNo === 1) return true; // the header, which openLog has read and checked
    if (digest !== null) return false; // a line after log.end
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (produced.length === 0) {
      const pick = PICK_LINE.exec(line);
      if (pick !== null) {
        decision = { cpu: Number(pick[1]), switch_to: pick[2] === 'null' ? null : Number(pick[2]), labelled: pick[3] !== '}' };
      } else {
        let want: { type?: unknown; cpu?: unknown; switch_to?: unknown; label?: unknown };
        try {
          want = JSON.parse(line) as typeof want;
        } catch {
          return false;
        }
        if (typeof want !== 'object' || want === null || typeof want.type !== 'string' || want.type.startsWith('input.')) return false;
        decision = want.type === 'sched.pick' ? { cpu: want.cpu as number, switch_to: want.switch_to as number | null, labelled: 'label' in want } : null;
      }
      try {
        sim.step();
      } catch {
        return false;
      }
    }
    const got = produced.shift();
    if (got === undefined || LogWriter.serialize(got) !== line) return false;
    count++;
    if (got.type === 'log.end') digest = got.digest;
    return true;
  };
  let pending: string[] = [];
  let pendingChars = 0;
  for await (const chunk of logChunks(path)) {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      const piece = chunk.slice(start, nl);
      const line = pending.length === 0 ? piece : pending.join('') + piece;
      pending = [];
      pendingChars = 0;
      start = nl + 1;
      if (!take(line)) return null;
    }
    if (start < chunk.length) {
      pending.push(chunk.slice(start));
      pendingChars += chunk.length - start;
      if (pendingChars > MAX_LINE_CHARS) return null;
    }
  }
  if (digest === null) {
    // A log cut before log.end (a crash): identical for the events it has. A last line without
    // its newline that does not parse is the line the crash cut; one that does is an event, for
    // the checked replay to compare.
    if (pending.length === 0) return { kind: 'identical', events: count, digest: null, truncatedAt: null };
    try {
      JSON.parse(pending.join(''));
    } catch {
      return { kind: 'identical', events: count, digest: null, truncatedAt: lineNo + 1 };
    }
    return null;
  }
  // Anything after log.end, or events the log lacks: the checked replay says what.
  if (pending.length > 0 || produced.length > 0) return null;
  return { kind: 'identical', events: count, digest, truncatedAt: null };
}

/** Replay with every line read through the log reader, checked and compared (what replayLog falls back to). */
export async function replayLogChecked(path: string): Promise<ReplayResult> {
  return replayChecked(path, await openLog(path));
}

/** Replay reading every line through the log reader: each event checked, then compared. */
async function replayChecked(path: string, log: OpenedLog): Promise<ReplayResult> {
  const { header, scenario } = log;
  let decision: ReplayDecision | null = null;
  const decisions = (): ReplayDecision => {
    if (decision === null) throw new Error('the log has no scheduling decision here');
    const d = decision;
    decision = null;
    return d;
  };
  const sim = replaySimulation(header, scenario, decisions, await loggedCallbacks(path, scenario));
  const produced: LoggedEvent[] = [];
  sim.events$.subscribe((e) => produced.push(e));

  let count = 0;
  let digest: string | null = null;
  /** The index of the log's next decision (0: its first sched.pick). */
  let decisionIndex = 0;
  for await (const batch of log.batches) {
    for (const entry of batch) {
      if (entry.kind === 'truncated') return { kind: 'identical', events: count, digest, truncatedAt: entry.line };
      if (entry.kind !== 'event') continue;
      const want = entry.event;
      if (produced.length === 0 && isInputEvent(want)) {
        inputFromLog(sim, want, `${path}:${entry.line}`);
      } else if (produced.length === 0) {
        decision = want.type === 'sched.pick' ? { cpu: want.cpu, switch_to: want.switch_to, labelled: want.label !== undefined, ...(want.label !== undefined ? { label: want.label } : {}) } : null;
        if (want.type === 'sched.pick') decisionIndex++;
        try {
          sim.step();
        } catch (e) {
          if (e instanceof ScheduleMismatchError) {
            const schedule: ScheduleReport = { ...e.mismatch, decision: decisionIndex - 1, seq: want.seq, line: entry.line };
            // What the model writes now for this decision: the same choice with its label now, or none.
            const actual = e.mismatch.now === null ? `(no such decision now: ${e.message})` : LogWriter.serialize({ ...want, label: e.mismatch.now });
            return { kind: 'diverged', seq: want.seq, line: entry.line, expected: entry.raw, actual, schedule };
          }
          const msg = e instanceof ScheduleDivergence || e instanceof Error ? e.message : String(e);
          return { kind: 'diverged', seq: want.seq, line: entry.line, expected: entry.raw, actual: `(no such event: ${msg})` };
        }
      }
      const got = produced.shift();
      if (got === undefined) {
        return { kind: 'diverged', seq: want.seq, line: entry.line, expected: entry.raw, actual: '(the replayed run had already ended)' };
      }
      // The writer's own line for the re-created event: equal to the logged line (as the reader
      // left it, "\r" chomped) exactly when the log holds what the run wrote. Only a line that
      // differs in its text is compared as data, so an edit that keeps the event (keys reordered,
      // spaces) still replays as identical.
      const line = LogWriter.serialize(got);
      if (line !== entry.raw && canonicalJson(got) !== canonicalJson(want)) {
        return { kind: 'diverged', seq: want.seq, line: entry.line, expected: entry.raw, actual: line };
      }
      count++;
      if (want.type === 'log.end') digest = want.digest;
    }
  }
  // A log that stops before log.end is what a crash leaves (the writer flushes whole lines):
  // the events re-execution produced past its last line are simply not logged. Only a complete
  // log must account for every event.
  if (produced.length > 0 && digest !== null) {
    const next = produced[0]!;
    return { kind: 'diverged', seq: next.seq, line: next.seq + 1, expected: '(the log ends here)', actual: JSON.stringify(next) };
  }
  return { kind: 'identical', events: count, digest, truncatedAt: null };
}

/**
 * A log of a run with TypeScript handlers carries what each call returned (`handler.callback`):
 * replay answers the callbacks from there, in order, so it needs no code.
 */
export async function loggedCallbacks(path: string, scenario: Scenario): Promise<{ callbacks?: Record<string, HandlerCallback> }> {
  const names = callbackNames(scenario);
  if (names.length === 0) return {};
  const queue: { name: string; steps: readonly HandlerStep[] }[] = [];
  for await (const batch of readLogBatches(path)) {
    for (const entry of batch) {
      if (entry.kind === 'event' && entry.event.type === 'handler.callback') queue.push({ name: entry.event.name, steps: entry.event.steps as unknown as HandlerStep[] });
    }
  }
  const answer = (name: string): HandlerCallback => () => {
    const next = queue.shift();
    if (next === undefined) throw new Error(`callback "${name}" is called here, but the log has no more of its results`);
    if (next.name !== name) throw new Error(`callback "${name}" is called here, but the log's next result is from "${next.name}"`);
    return next.steps;
  };
  return { callbacks: Object.fromEntries(names.map((n) => [n, answer(n)])) };
}
