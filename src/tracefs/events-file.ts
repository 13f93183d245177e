// The set of defined kprobe events behind `kprobe_events`, with the file's write semantics
// (spec §15.1, §15.11, §15.12, R150 steps 9–10, R151). Pure and immutable: every operation
// returns a new store plus what changed, so the simulator can register/unregister kprobes and
// create/remove event directories, and the error_log entries to append.
//
// Mirrors trace_parse_run_command() (line splitting), probes_open()/dyn_events_release_all()
// (truncation), dyn_event_release() (deletion), register_trace_kprobe()/append_trace_kprobe()
// (name clashes and multi-probe events).

import { locationText, renderListing, symbolText } from './canonical.ts';
import { utf8Length } from './ctype.ts';
import { Errno, probeError, type ErrorKey, type LoggedError } from './errors.ts';
import { MAX_ARGSTR_LEN } from './parse-state.ts';
import { parseProbeCommand } from './grammar.ts';
import { errorColumn } from './probe-log.ts';
import {
  arrayLengthOf,
  fetchTypeNameOf,
  type ParseContext,
  type ProbeCommand,
  type ProbeDefinition,
} from './types.ts';

/** One probe of the store (one line of the listing, one dyn_event in the kernel). */
export interface StoredProbe {
  /** Creation sequence number, unique within a store. */
  readonly id: number;
  readonly probe: ProbeDefinition;
  /**
   * false when registration returned -ENOENT and the event was kept anyway (R151: the `MOD:` is not
   * loaded, or an address probe whose `@SYM` did not resolve): the kprobe is not registered.
   */
  readonly registered: boolean;
  /** maxactive as the listing shows it (a kretprobe's default after registration, R71/R136). */
  readonly maxactive: number;
}

export interface EventsFile {
  /** Creation order (the kernel's dyn_event list order). */
  readonly probes: readonly StoredProbe[];
  readonly nextId: number;
}

export const EMPTY_EVENTS_FILE: EventsFile = { probes: [], nextId: 1 };

/** What the store needs from the simulated kernel. */
export interface EventsEnv {
  readonly parse: ParseContext;
  /** Is the event enabled (ftrace, perf or BPF; the kernel's TP_FLAG_TRACE|TP_FLAG_PROFILE)? */
  isEnabled(group: string, event: string): boolean;
  /** Any other reference that makes removal fail with -EBUSY (open perf events, …). Default: none. */
  isBusy?(group: string, event: string): boolean;
  /** Does a non-kprobe trace event of that name exist (e.g. sched/sched_switch)? (R132) */
  eventExists?(group: string, event: string): boolean;
  /**
   * Register the probe's kprobe/kretprobe (R150 step 10: lockdown, notrace check, `@SYM`
   * resolution, register_k(ret)probe). Returns 0 or a negative errno. Default: always 0.
   */
  register?(probe: ProbeDefinition): number;
  /** The maxactive a kretprobe registered with 0 gets (R71: max(10, 2 × possible CPUs)). */
  readonly defaultMaxactive?: number;
}

export interface ChangeSet {
  readonly added: readonly StoredProbe[];
  readonly removed: readonly StoredProbe[];
}

export interface WriteResult extends ChangeSet {
  readonly state: EventsFile;
  /** 0 when every line succeeded, else the positive errno write(2) fails with. */
  readonly errno: number;
  /** What write(2) returns on success: the byte count (UTF-8). */
  readonly bytes: number;
  /** error_log entries to append, in order (R159). */
  readonly logged: readonly LoggedError[];
  /** 0-based index of the failing line (lines before it stayed in effect), or null. */
  readonly failedLine: number | null;
}

export interface OpenResult extends ChangeSet {
  readonly state: EventsFile;
  /** 0, or the positive errno open(2) fails with (R103). */
  readonly errno: number;
}

/** WRITE_BUFSIZE: lines are read in chunks of 4095 bytes (R102). */
export const WRITE_BUFSIZE = 4096;

// ── reading ──────────────────────────────────────────────────────────────────────────────────

/** The file's contents (R136). */
export function readEventsFile(state: EventsFile): string {
  return renderListing(state.probes);
}

export interface EventView {
  readonly group: string;
  readonly event: string;
  /** The event's probes in creation order; the first is the primary one. */
  readonly probes: readonly StoredProbe[];
}

/** The events (one per group/event name) in order of first creation. */
export function listEvents(state: EventsFile): EventView[] {
  const out: { group: string; event: string; probes: StoredProbe[] }[] = [];
  for (const p of state.probes) {
    const e = out.find((x) => x.group === p.probe.group && x.event === p.probe.event);
    if (e) e.probes.push(p);
    else out.push({ group: p.probe.group, event: p.probe.event, probes: [p] });
  }
  return out;
}

export function findEvent(state: EventsFile, group: string, event: string): StoredProbe[] {
  return state.probes.filter((p) => p.probe.group === group && p.probe.event === event);
}

// ── opening ──────────────────────────────────────────────────────────────────────────────────

/**
 * open(2) for writing. With truncation (shell `>`) every kprobe event is deleted first: if any is
 * enabled nothing is deleted and the open fails with EBUSY; otherwise probes are released in
 * order and the first failure stops it (R103). Appending (`>>`) changes nothing.
 */
export function openEventsFile(state: EventsFile, options: { readonly truncate: boolean }, env: EventsEnv): OpenResult {
  if (!options.truncate) return { state, errno: 0, added: [], removed: [] };
  if (state.probes.some((p) => env.isEnabled(p.probe.group, p.probe.event))) {
    return { state, errno: Errno.EBUSY, added: [], removed: [] };
  }
  let cur = state;
  const removed: StoredProbe[] = [];
  for (const p of state.probes) {
    const r = releaseProbe(cur, p, env);
    if (r.errno !== 0) return { state: cur, errno: r.errno, added: [], removed };
    cur = r.state;
    removed.push(p);
  }
  return { state: cur, errno: 0, added: [], removed };
}

/** trace_kprobe_release(): a probe with siblings goes without checks; the last one needs a free event. */
function releaseProbe(state: EventsFile, p: StoredProbe, env: EventsEnv): { state: EventsFile; errno: number } {
  const siblings = state.probes.filter((x) => x.id !== p.id && x.probe.group === p.probe.group && x.probe.event === p.probe.event);
  if (siblings.length === 0) {
    if (env.isEnabled(p.probe.group, p.probe.event)) return { state, errno: Errno.EBUSY };
    if (env.isBusy?.(p.probe.group, p.probe.event)) return { state, errno: Errno.EBUSY };
  }
  return { state: { ...state, probes: state.probes.filter((x) => x.id !== p.id) }, errno: 0 };
}

// ── writing ──────────────────────────────────────────────────────────────────────────────────

/**
 * One write(2) of `data` (R102): split at '\n', each line executed in order (comments dropped);
 * the first failing line stops processing, lines before it stay in effect. A line longer than
 * 4094 bytes (4095 for an unterminated last line) or containing a NUL fails with EINVAL and no
 * error_log entry.
 */
export function writeEventsFile(state: EventsFile, data: string, env: EventsEnv): WriteResult {
  let cur = state;
  const added: StoredProbe[] = [];
  const removed: StoredProbe[] = [];
  const logged: LoggedError[] = [];
  const bytes = utf8Length(data);
  let pos = 0;
  let lineNo = 0;
  const fail = (errno: number): WriteResult => ({ state: cur, errno, bytes, added, removed, logged, failedLine: lineNo });
  while (pos < data.length) {
    const nl = data.indexOf('\n', pos);
    const line = nl >= 0 ? data.slice(pos, nl) : data.slice(pos);
    const len = utf8Length(line);
    if (line.includes('\0') || (nl >= 0 ? len + 1 > WRITE_BUFSIZE - 1 : len > WRITE_BUFSIZE - 1)) {
      return fail(Errno.EINVAL);
    }
    const r = executeLine(cur, line, env);
    logged.push(...r.logged);
    if (r.errno !== 0) {
      // Removals done before a failing deletion stay done (R133).
      removed.push(...r.removed);
      cur = r.state;
      return fail(r.errno);
    }
    cur = r.state;
    added.push(...r.added);
    removed.push(...r.removed);
    pos = nl >= 0 ? nl + 1 : data.length;
    lineNo++;
  }
  return { state: cur, errno: 0, bytes, added, removed, logged, failedLine: null };
}

interface LineResult extends ChangeSet {
  readonly state: EventsFile;
  readonly errno: number;
  readonly logged: readonly LoggedError[];
}

/** One line (create_or_delete_trace_kprobe()). */
export function executeLine(state: EventsFile, line: string, env: EventsEnv): LineResult {
  const r = parseProbeCommand(line, env.parse);
  if (!r.ok) {
    if (r.error === null) return { state, errno: r.errno, logged: [], added: [], removed: [] };
    return { state, errno: r.error.errno, logged: r.logged, added: [], removed: [] };
  }
  return executeCommand(state, r.command, env);
}

/** Apply an already parsed command (R150 steps 9–10 for a definition, R133 for a deletion). */
export function executeCommand(state: EventsFile, cmd: ProbeCommand, env: EventsEnv): LineResult {
  switch (cmd.kind) {
    case 'noop':
      return { state, errno: 0, logged: [], added: [], removed: [] };
    case 'delete':
      return executeDelete(state, cmd, env);
    case 'define':
      return executeDefine(state, cmd.probe, cmd.tokens, env);
  }
}

function logAt(tokens: readonly string[], index: number, key: ErrorKey, errno: number): LoggedError {
  return { error: probeError(key, errorColumn(tokens, index, 0), errno), command: tokens.join(' ') };
}

/**
 * trace_probe_compare_arg_type(): 0 when argument count, fetch types, array lengths and names all
 * match, else the 1-based position of the first difference (count+1 when the counts differ).
 */
export function compareArgTypes(a: ProbeDefinition, b: ProbeDefinition): number {
  if (a.args.length < b.args.length) return a.args.length + 1;
  if (a.args.length > b.args.length) return b.args.length + 1;
  for (let i = 0; i < a.args.length; i++) {
    const x = a.args[i];
    const y = b.args[i];
    if (!x || !y) return i + 1;
    if (
      fetchTypeNameOf(x.type) !== fetchTypeNameOf(y.type) ||
      arrayLengthOf(x.type) !== arrayLengthOf(y.type) ||
      x.name !== y.name
    ) {
      return i + 1;
    }
  }
  return 0;
}

/** trace_kprobe_has_same_kprobe(): same symbol text ("unknown" for addresses), offset and argument texts. */
function hasSameKprobe(existing: readonly StoredProbe[], p: ProbeDefinition): boolean {
  const off = (d: ProbeDefinition): number => (d.location.kind === 'symbol' ? d.location.offset : 0);
  return existing.some(
    (e) =>
      symbolText(e.probe.location) === symbolText(p.location) &&
      off(e.probe) === off(p) &&
      e.probe.args.every((a, i) => a.text === p.args[i]?.text),
  );
}

/** trace_kprobe_module_exist(): false for an address, true for a plain symbol, else "is MOD loaded". */
function moduleExists(p: ProbeDefinition, ctx: ParseContext): boolean {
  if (p.location.kind === 'address') return false;
  if (p.location.module === null) return true;
  return ctx.isModuleLoaded(p.location.module);
}

function executeDefine(state: EventsFile, probe: ProbeDefinition, tokens: readonly string[], env: EventsEnv): LineResult {
  const failWith = (e: LoggedError): LineResult => ({ state, errno: e.error.errno, logged: [e], added: [], removed: [] });
  const existing = findEvent(state, probe.group, probe.event);
  const old = existing[0];
  if (old) {
    if (old.probe.kind !== probe.kind) return failWith(logAt(tokens, 0, 'DIFF_PROBE_TYPE', Errno.EEXIST));
    const diff = compareArgTypes(probe, old.probe);
    // "argument starts index = 2": the kernel logs at token index diff + 1 (R131, R165).
    if (diff !== 0) return failWith(logAt(tokens, diff + 1, 'DIFF_ARG_TYPE', Errno.EEXIST));
    if (hasSameKprobe(existing, probe)) return failWith(logAt(tokens, 0, 'SAME_PROBE', Errno.EEXIST));
  } else if (env.eventExists?.(probe.group, probe.event)) {
    return failWith(logAt(tokens, 0, 'EVENT_EXIST', Errno.EEXIST));
  }

  let ret = env.register ? env.register(probe) : 0;
  let registered = true;
  if (ret === -Errno.ENOENT && !moduleExists(probe, env.parse)) {
    ret = 0;
    registered = false;
  }
  if (ret < 0) {
    const errno = -ret;
    if (errno === Errno.ENOMEM || errno === Errno.EEXIST) return { state, errno, logged: [], added: [], removed: [] };
    const key: ErrorKey = errno === Errno.EILSEQ ? 'BAD_INSN_BNDRY' : errno === Errno.ENOENT ? 'BAD_PROBE_ADDR' : 'FAIL_REG_PROBE';
    return failWith(logAt(tokens, 1, key, errno));
  }
  const maxactive =
    probe.kind === 'kretprobe' && registered && probe.maxactive === 0 ? (env.defaultMaxactive ?? 0) : probe.maxactive;
  const stored: StoredProbe = { id: state.nextId, probe, registered, maxactive };
  return {
    state: { probes: [...state.probes, stored], nextId: state.nextId + 1 },
    errno: 0,
    logged: [],
    added: [stored],
    removed: [],
  };
}

/** snprintf into a MAX_ARGSTR_LEN + 1 buffer: the kernel compares at most 63 characters. */
function clip(s: string): string {
  return s.slice(0, MAX_ARGSTR_LEN);
}

/** trace_kprobe_match(): name (or '' wildcard), group (or any), then the optional head tokens. */
export function probeMatches(p: ProbeDefinition, group: string | null, event: string, match: readonly string[]): boolean {
  if (event !== '' && p.event !== event) return false;
  if (group !== null && p.group !== group) return false;
  if (match.length === 0) return true;
  if (clip(locationText(p.location)) !== match[0]) return false;
  const args = match.slice(1);
  if (p.args.length < args.length) return false;
  return args.every((m, i) => {
    const a = p.args[i];
    return a !== undefined && clip(`${a.name}=${a.text}`) === m;
  });
}

function executeDelete(
  state: EventsFile,
  cmd: { readonly group: string | null; readonly event: string; readonly match: readonly string[] },
  env: EventsEnv,
): LineResult {
  let cur = state;
  const removed: StoredProbe[] = [];
  let errno: number = Errno.ENOENT;
  for (const p of state.probes) {
    if (!probeMatches(p.probe, cmd.group, cmd.event, cmd.match)) continue;
    const r = releaseProbe(cur, p, env);
    errno = r.errno;
    if (r.errno !== 0) break;
    cur = r.state;
    removed.push(p);
  }
  return { state: cur, errno, logged: [], added: [], removed };
}

/** Mark a kept-but-unregistered probe as registered (e.g. its module arrived, R98). */
export function markRegistered(state: EventsFile, id: number, maxactive?: number): EventsFile {
  return {
    ...state,
    probes: state.probes.map((p) =>
      p.id === id ? { ...p, registered: true, maxactive: maxactive ?? p.maxactive } : p,
    ),
  };
}
