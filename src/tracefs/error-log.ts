// The tracing `error_log` file (spec §21): the 8 most recent errors, each shown as
//   [<sec %5llu>.<usec %06u>] <loc>: error: <message>
//     Command: <command>
//   <11 + pos spaces>^
// Immutable values; the caller supplies the (logical) timestamp in nanoseconds.

import type { LoggedError } from './errors.ts';

/** TRACING_LOG_ERRS_MAX (R164). */
export const ERROR_LOG_MAX_ENTRIES = 8;
/** CMD_PREFIX: what precedes the command on the second line (R160). */
export const CMD_PREFIX = '  Command: ';
/** The `loc` the kprobe parser logs under (trace_probe_log_init("trace_kprobe", …)). */
export const KPROBE_LOG_LOC = 'trace_kprobe';
/** The `loc` of event-filter parse errors (R163). */
export const FILTER_LOG_LOC = 'event filter parse error';

export interface ErrorLogEntry {
  /** local_clock() nanoseconds at the time of the error. */
  readonly timestampNs: bigint;
  /** Subsystem, e.g. "trace_kprobe". */
  readonly loc: string;
  readonly message: string;
  readonly command: string;
  /** Caret column (0-based from the command's first character), stored as u16 (R164). */
  readonly pos: number;
}

export interface ErrorLog {
  /** Oldest first. */
  readonly entries: readonly ErrorLogEntry[];
}

export const EMPTY_ERROR_LOG: ErrorLog = { entries: [] };

export function toNs(t: bigint | number): bigint {
  return typeof t === 'bigint' ? t : BigInt(Math.trunc(t));
}

/** Add one entry; when 8 are kept the oldest is dropped (R164). */
export function appendErrorLog(log: ErrorLog, entry: ErrorLogEntry): ErrorLog {
  const e: ErrorLogEntry = { ...entry, pos: entry.pos & 0xffff };
  const kept = log.entries.length >= ERROR_LOG_MAX_ENTRIES ? log.entries.slice(log.entries.length - ERROR_LOG_MAX_ENTRIES + 1) : log.entries;
  return { entries: [...kept, e] };
}

/** Entries for what the probe parser logged (ParseResult.logged / WriteResult.logged). */
export function kprobeLogEntries(logged: readonly LoggedError[], timestampNs: bigint | number): ErrorLogEntry[] {
  const ts = toNs(timestampNs);
  return logged.map((l) => ({
    timestampNs: ts,
    loc: KPROBE_LOG_LOC,
    message: l.error.message,
    command: l.command,
    pos: l.error.offset,
  }));
}

export function appendLogged(log: ErrorLog, logged: readonly LoggedError[], timestampNs: bigint | number): ErrorLog {
  let out = log;
  for (const e of kprobeLogEntries(logged, timestampNs)) out = appendErrorLog(out, e);
  return out;
}

/** Opening `error_log` for writing with truncation (`echo > error_log`) clears it (R162). */
export function openErrorLog(log: ErrorLog, options: { readonly truncate: boolean }): ErrorLog {
  return options.truncate ? EMPTY_ERROR_LOG : log;
}

/** `[%5llu.%06u]`: seconds right-aligned in 5 columns, microseconds zero-padded to 6 digits. */
export function formatErrorTimestamp(timestampNs: bigint | number): string {
  const ns = toNs(timestampNs);
  const sec = ns / 1_000_000_000n;
  const usec = (ns % 1_000_000_000n) / 1000n;
  return `[${sec.toString().padStart(5, ' ')}.${usec.toString().padStart(6, '0')}]`;
}

export function renderErrorLogEntry(e: ErrorLogEntry): string {
  return (
    `${formatErrorTimestamp(e.timestampNs)} ${e.loc}: error: ${e.message}\n` +
    `${CMD_PREFIX}${e.command}\n` +
    `${' '.repeat(CMD_PREFIX.length + e.pos)}^\n`
  );
}

/** The file's contents. */
export function renderErrorLog(log: ErrorLog): string {
  return log.entries.map(renderErrorLogEntry).join('');
}
