// Reads a log line by line and validates every line against the v1 contract (design.md) and
// the event catalog (src/model/events.ts). Files are streamed: a long run's log may not fit in
// memory, and replay only ever needs the next event. The same LineChecker serves files and
// in-memory text, so the two can never accept different logs.

import { checkPayload, expectedSource, type LoggedEvent } from '../model/events.ts';
import { payloadOk, sourceOk, typeCheck } from './payload-check.ts';
import { describeJsonError, LogError } from './errors.ts';
import { checkHeader, show, type LogHeader } from './header.ts';
import { tooDeep } from '../json-depth.ts';
import { lineTooLong, logChunks, MAX_LINE_CHARS } from './source.ts';
import { MAX_SCENARIO_DEPTH } from '../scenario/nesting.ts';

export type LogEntry =
  | { kind: 'header'; header: LogHeader; line: 1 }
  | { kind: 'event'; event: LoggedEvent; line: number; raw: string }
  /** The last line was cut off mid-write (a crash); every complete event before it was yielded. */
  | { kind: 'truncated'; line: number; raw: string };

/**
 * The deepest an event line may nest: the deepest events carry what a session's user typed
 * (input.ops: task operations, as deep as a scenario's), a few levels below the line itself.
 */
export const MAX_LINE_DEPTH = MAX_SCENARIO_DEPTH + 4;

/** The shortest line that can nest more than MAX_LINE_DEPTH levels: two brackets per level. */
const TOO_DEEP_CHARS = 2 * (MAX_LINE_DEPTH + 1);

const SRC_RE = /^(?:cpu\/(?:0|[1-9][0-9]*)|sched|kprobes|input|log)$/;

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** Where the previous event left the log: the next seq must be seq + 1, time may not go back. */
export interface Cursor {
  seq: number;
  t: number;
}

/**
 * Validates one parsed event line given the previous event. Returns null when valid, else a
 * message `<what is wrong> (<what was expected>)`. Envelope fields are checked in the order
 * they appear on the line, then the payload against the catalog.
 */
export function checkEventLine(value: unknown, prev: Cursor, chars = Infinity): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `line is ${describeValue(value)} (expected an event object with seq, t, src and type)`;
  }
  // Before anything walks it recursively (messages, canonical JSON in replay). Every level
  // takes an opening and a closing bracket, so a line shorter than TOO_DEEP_CHARS cannot fail.
  if (chars >= TOO_DEEP_CHARS && tooDeep(value, MAX_LINE_DEPTH) !== null) return `line nests arrays and objects more than ${MAX_LINE_DEPTH} levels deep (no event does)`;
  const obj = value as Record<string, unknown>;
  const { seq, t, src, type } = obj;
  if (!Number.isSafeInteger(seq)) {
    return seq === undefined ? 'event lacks field "seq" (expected an integer)' : `field "seq" is ${show(seq)} (expected an integer)`;
  }
  if (seq !== prev.seq + 1) return `seq gap: expected seq ${prev.seq + 1}, found ${String(seq)}`;
  if (!Number.isSafeInteger(t) || (t as number) < 0) {
    return t === undefined
      ? 'event lacks field "t" (expected an integer >= 0)'
      : `field "t" is ${show(t)} (expected an integer >= 0)`;
  }
  if ((t as number) < prev.t) return `time goes backwards: t ${String(t)} after t ${prev.t} (expected t >= ${prev.t})`;
  if (typeof src !== 'string' || !SRC_RE.test(src)) {
    const expected = '(expected "cpu/N", "sched", "kprobes", "input" or "log")';
    return src === undefined ? `event lacks field "src" ${expected}` : `field "src" is ${show(src)} ${expected}`;
  }
  const check = typeCheck(type);
  if (check === undefined) {
    if (typeof type === 'string') return `unknown event type ${show(type)} (expected a type listed in docs/events.md)`;
    return type === undefined
      ? 'event lacks field "type" (expected an event type string)'
      : `field "type" is ${show(type)} (expected an event type string)`;
  }
  // The compiled tests answer for a valid line; a failing one gets the catalog's own message.
  if (payloadOk(check, obj) && sourceOk(check, obj, src)) return null;
  const bad = checkPayload(check.type, obj);
  if (bad !== null) return bad;
  // Ownership (INV-fold): a CPU's events come from that CPU, the manager's from "kprobes"…
  const want = expectedSource(check.type, obj);
  return src === want ? null : `event "${check.type}" has src ${show(src)} (expected "${want}")`;
}

/**
 * The per-line state machine shared by readLog and parseLogText. Feed it lines in order with
 * whether each ended in "\n"; it returns the entry to yield or throws a LogError.
 */
class LineChecker {
  private lineNo = 0;
  private readonly cursor: Cursor = { seq: 0, t: 0 };
  /** Line number of log.end once seen: nothing may follow it. */
  private endedAt: number | undefined;

  constructor(private readonly file: string) {}

  private fail(what: string, column?: number): never {
    throw new LogError(this.file, this.lineNo, column, what);
  }

  next(raw: string, terminated: boolean): LogEntry {
    this.lineNo += 1;
    if (this.lineNo === 1) return this.header(raw, terminated);
    if (this.endedAt !== undefined) this.fail(`event after log.end (the log ended at line ${this.endedAt})`);
    // An unterminated blank tail (say a lone "\r") falls through to truncation below.
    if (terminated && isBlank(raw)) this.fail('empty line (expected one JSON event object per line)');
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      // A crash can cut only the last line, and only that line lacks its "\n". Anything
      // malformed with more lines after it is damage, not truncation.
      if (!terminated) return { kind: 'truncated', line: this.lineNo, raw };
      const { what, column } = describeJsonError(err);
      this.fail(what, column);
    }
    const problem = checkEventLine(value, this.cursor, raw.length);
    if (problem !== null) this.fail(problem);
    const event = value as LoggedEvent;
    this.cursor.seq = event.seq;
    this.cursor.t = event.t;
    if (event.type === 'log.end') this.endedAt = this.lineNo;
    return { kind: 'event', event, line: this.lineNo, raw };
  }

  private header(raw: string, terminated: boolean): LogEntry {
    // An editor may have added a byte-order mark; it is not part of the JSON.
    const text = raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
    if (text.trim() === '') this.fail('not a kprobesim log (line 1 is empty)');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      const { what, column } = describeJsonError(err);
      if (!terminated) this.fail('log header is truncated (the run stopped while writing line 1)');
      this.fail(`not a kprobesim log: ${what}`, column);
    }
    // The header holds a whole scenario (validated later, with its field paths); deeper than
    // that, even the messages about its other fields could not be built.
    if (tooDeep(value, MAX_SCENARIO_DEPTH + 1) !== null) this.fail(`log header nests arrays and objects more than ${MAX_SCENARIO_DEPTH + 1} levels deep (a scenario may nest at most ${MAX_SCENARIO_DEPTH})`);
    const problem = checkHeader(value);
    if (problem !== null) this.fail(problem);
    return { kind: 'header', header: value as LogHeader, line: 1 };
  }

  /** The next line is longer than MAX_LINE_CHARS: refused at its number. */
  tooLong(): never {
    throw lineTooLong(this.file, this.lineNo + 1);
  }

  /** Called when input is exhausted. */
  end(): void {
    if (this.lineNo === 0) {
      this.lineNo = 1;
      this.fail('empty file: not a kprobesim log');
    }
  }
}

/** raw.trim() === '', without the trim for a line that starts with "{" (every event line). */
function isBlank(raw: string): boolean {
  return raw.charCodeAt(0) !== 0x7b && raw.trim() === '';
}

/** Drops the "\r" of a CRLF line ending, as readline would; JSON never ends in a raw "\r". */
function chomp(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * Streams a log file in batches: the entries of each chunk read (header, events, possibly one
 * truncated entry at the very end). Batching keeps the per-line cost to the parse and the checks;
 * one async step per line would cost more than the parse. Memory stays bounded by the chunk size
 * and MAX_LINE_CHARS. `path` is a regular file or "-" (standard input); anything else is refused
 * (src/log/source.ts). Throws LogError on the first bad line; I/O errors (ENOENT, EIO…) propagate
 * as Node errors with their `code` and the path given.
 */
export async function* readLogBatches(path: string): AsyncGenerator<LogEntry[]> {
  const checker = new LineChecker(path);
  // We split ourselves rather than use readline: readline hides whether the last line ended in
  // "\n", which is exactly what tells a crash-truncated line from a complete one.
  let pending: string[] = []; // pieces of a line that spans chunks, joined once when it ends
  let pendingChars = 0;
  for await (const chunk of logChunks(path)) {
    const batch: LogEntry[] = [];
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      const piece = chunk.slice(start, nl);
      if (pendingChars + piece.length > MAX_LINE_CHARS) checker.tooLong();
      const line = pending.length === 0 ? piece : pending.join('') + piece;
      pending = [];
      pendingChars = 0;
      start = nl + 1;
      try {
        batch.push(checker.next(chomp(line), true));
      } catch (e) {
        // The lines before a bad one go out first: an edited event breaks the order check of
        // the line after it, and replay must get to compare the edited event itself.
        if (batch.length > 0) yield batch;
        throw e;
      }
    }
    if (start < chunk.length) {
      pending.push(chunk.slice(start));
      pendingChars += chunk.length - start;
      // One endless line (/dev/zero through a pipe, say) must not take all memory.
      if (pendingChars > MAX_LINE_CHARS) {
        if (batch.length > 0) yield batch;
        checker.tooLong();
      }
    }
    if (batch.length > 0) yield batch;
  }
  if (pending.length > 0) yield [checker.next(pending.join(''), false)];
  checker.end();
}

/** Streams a log file entry by entry (see readLogBatches). */
export async function* readLog(path: string): AsyncGenerator<LogEntry> {
  for await (const batch of readLogBatches(path)) yield* batch;
}

/** The same rules over an in-memory log (e.g. MemoryLog.text()); `file` names it in errors. */
export function* parseLogText(text: string, file = '<memory>'): Generator<LogEntry> {
  const checker = new LineChecker(file);
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    const line = text.slice(start, nl);
    start = nl + 1;
    yield checker.next(chomp(line), true);
  }
  if (start < text.length) yield checker.next(text.slice(start), false);
  checker.end();
}

/** Collects a whole log. For tests and small logs only: it defeats the streaming. */
export async function readLogToArray(path: string): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const entry of readLog(path)) out.push(entry);
  return out;
}
