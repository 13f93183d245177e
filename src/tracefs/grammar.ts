// parseProbeCommand(): one line written to `kprobe_events` (spec §15), parsed in the kernel's order
// (§18 R150 steps 1–8) so that the error that wins, its caret column (R165/R166) and its errno are
// the kernel's. Steps 9–10 (appending to an existing event, name clashes, registration) need the
// set of defined events and the kernel; events-file.ts does them.
//
// Mirrors trace_kprobe_create_internal() (trace_kprobe.c) and traceprobe_parse_event_name(),
// argv_has_var_arg(), traceprobe_expand_meta_args(), traceprobe_expand_dentry_args() (trace_probe.c).

import { queryBtf, btfParamCount } from './btf.ts';
import { formatPointer } from './canonical.ts';
import { argvSplit, isDigit, isGoodName, isGoodSystemName, kstrtol, kstrtoul, kstrtouint, simpleStrtoul } from './ctype.ts';
import { Errno } from './errors.ts';
import { parseFetchArg } from './fetchargs.ts';
import {
  freshCode,
  MAX_BTF_ARGS_LEN,
  MAX_DENTRY_ARGS_LEN,
  MAX_EVENT_NAME_LEN,
  MAX_TRACE_ARGS,
  type ParserState,
} from './parse-state.ts';
import { ParseAbort, ProbeLog } from './probe-log.ts';
import type {
  ParseContext,
  ParseResult,
  ProbeArg,
  ProbeCommand,
  ProbeDefinition,
  ProbeLocation,
  SilentReason,
} from './types.ts';

export const KPROBE_EVENT_SYSTEM = 'kprobes';
export const KRETPROBE_MAXACTIVE_MAX = 4096;
const UINT_MAX = 0xffffffffn;
/** Defaults for the %pd/%pD rewrite (x86-64 v6.17 layout; build-specific, R124). */
export const DEFAULT_DENTRY_NAME_OFFSET = 0x28;
export const DEFAULT_FILE_DENTRY_OFFSET = 0x48;

function silent(reason: SilentReason, errno: number = Errno.EINVAL): ParseResult {
  return { ok: false, error: null, errno, reason };
}

/** The part of a line the kernel hands to the parser: up to any NUL, without the `#` comment (R102). */
export function stripComment(line: string): string {
  let raw = line;
  const nul = raw.indexOf('\0');
  if (nul >= 0) raw = raw.slice(0, nul);
  const hash = raw.indexOf('#');
  if (hash >= 0) raw = raw.slice(0, hash);
  return raw;
}

/**
 * Parse one line written to `kprobe_events`. Never throws for any input string.
 * The line should not contain '\n' (events-file.ts splits writes into lines); a '\n' inside would
 * just separate tokens.
 */
export function parseProbeCommand(line: string, ctx: ParseContext): ParseResult {
  const raw = stripComment(line);
  // R105: dispatch on the first character of the raw line.
  if (raw[0] === '-') return parseDelete(raw);
  const argv = argvSplit(raw);
  if (argv.length === 0) return { ok: true, command: { kind: 'noop' } };
  return parseCreate(argv, ctx);
}

/** R133: `-:[GROUP/]EVENT [match…]` (dyn_event_release's syntax checks). */
function parseDelete(raw: string): ParseResult {
  const argv = argvSplit(raw);
  const head = argv[0] ?? '';
  if (head[1] !== ':') return silent('bad-delete-syntax');
  let event = head.slice(2);
  let group: string | null = null;
  const slash = event.indexOf('/');
  if (slash >= 0) {
    group = event.slice(0, slash);
    event = event.slice(slash + 1);
  }
  if (group === null && event === '') return silent('bad-delete-syntax');
  const command: ProbeCommand = { kind: 'delete', group, event, match: argv.slice(1) };
  return { ok: true, command };
}

/** Generated event name (R109): `<p|r>_<symbol>_<offset>` or `<p|r>_0x<address>`, cut and sanitized. */
export function generateEventName(isReturn: boolean, location: ProbeLocation): string {
  const k = isReturn ? 'r' : 'p';
  const raw =
    location.kind === 'symbol'
      ? `${k}_${location.module !== null ? `${location.module}:` : ''}${location.symbol}_${location.offset}`
      : `${k}_0x${formatPointer(location.address)}`;
  const cut = raw.slice(0, MAX_EVENT_NAME_LEN - 1);
  // sanitize_event_name(): every ':' and '.' after the first character becomes '_'.
  return cut[0] + cut.slice(1).replace(/[:.]/g, '_');
}

function parseCreate(argv: readonly string[], ctx: ParseContext): ParseResult {
  const log = new ProbeLog(argv);
  try {
    const probe = createInternal(argv, ctx, log);
    if (log.entries.length > 0) {
      // Cannot happen: only the $arg* quirk logs without failing, and it always fails later.
      const first = log.entries[0];
      if (first) return { ok: false, error: first.error, logged: log.entries, command: first.command };
    }
    const command: ProbeCommand = { kind: 'define', probe, tokens: [...log.argv] };
    return { ok: true, command };
  } catch (e) {
    if (!(e instanceof ParseAbort)) throw e;
    if (e.silent !== null) return silent(e.silent as SilentReason, e.errno);
    const first = log.entries[0];
    if (!first) return silent('no-memory', e.errno);
    return {
      ok: false,
      error: { ...first.error, errno: e.errno },
      logged: log.entries,
      command: first.command,
    };
  }
}

function createInternal(argv: readonly string[], ctx: ParseContext, log: ProbeLog): ProbeDefinition {
  const head = argv[0] as string;
  // Step 1 (R105): dispatch and token count.
  let isReturn: boolean;
  if (head[0] === 'r') isReturn = true;
  else if (head[0] === 'p') isReturn = false;
  else throw new ParseAbort(Errno.EINVAL, 'not-a-probe-command');
  if (argv.length < 2) throw new ParseAbort(Errno.EINVAL, 'not-a-probe-command');

  const colon = head.indexOf(':', 1);
  const eventStart = colon >= 0 ? colon + 1 : -1;

  // Step 2 (R110): maxactive.
  let maxactive = 0;
  if (isDigit(head[1])) {
    if (!isReturn) log.fail(1, 'BAD_MAXACT_TYPE', Errno.EINVAL);
    const len = colon >= 0 ? colon - 1 : head.length - 1;
    if (len > MAX_EVENT_NAME_LEN - 1) log.fail(1, 'BAD_MAXACT', Errno.EINVAL);
    const v = kstrtouint(head.slice(1, 1 + len), 0);
    if (typeof v !== 'bigint' || v === 0n) log.fail(1, 'BAD_MAXACT', Errno.EINVAL);
    if (v > BigInt(ctx.maxactiveLimit ?? KRETPROBE_MAXACTIVE_MAX)) log.fail(1, 'MAXACT_TOO_BIG', Errno.EINVAL);
    maxactive = Number(v);
  }

  // Step 3 (R111, R112): the location.
  const locText = argv[1] as string;
  let location: ProbeLocation;
  let isReturnCtx = false;
  let isEntryCtx = false;
  let funcname: string | null = null;
  const addr = kstrtoul(locText, 0);
  if (typeof addr === 'bigint') {
    location = { kind: 'address', address: addr };
  } else {
    log.index = 1;
    if (locText.includes('/') && locText.includes(':')) throw new ParseAbort(Errno.EINVAL, 'uprobe-target');
    let symbol = locText;
    const pct = symbol.indexOf('%');
    if (pct >= 0) {
      if (symbol.slice(pct) === '%return') {
        symbol = symbol.slice(0, pct);
        isReturn = true;
      } else {
        log.fail(pct, 'BAD_ADDR_SUFFIX', Errno.EINVAL);
      }
    }
    let offset = 0n;
    const k = firstSignIndex(symbol);
    if (k >= 0) {
      const off = kstrtol(symbol.slice(k), 0);
      if (typeof off !== 'bigint') log.fail(0, 'BAD_PROBE_ADDR', Errno.EINVAL);
      offset = off;
      symbol = symbol.slice(0, k);
    }
    if (offset < 0n || offset > UINT_MAX) log.fail(0, 'BAD_PROBE_ADDR', Errno.EINVAL);
    funcname = symbol;
    const mc = symbol.indexOf(':');
    const module = mc >= 0 ? symbol.slice(0, mc) : null;
    const bare = mc >= 0 ? symbol.slice(mc + 1) : symbol;
    // validate_probe_symbol(): skipped when the named module is not loaded (R98).
    if (module === null || ctx.isModuleLoaded(module)) {
      const count = symbolCount(ctx, bare, module);
      if (count > 1) log.fail(0, 'NON_UNIQ_SYMBOL', Errno.EINVAL);
      if (count === 0) log.fail(0, 'BAD_PROBE_ADDR', Errno.EINVAL);
    }
    if (isReturn) isReturnCtx = true;
    const entry = functionEntry(ctx, bare, module, Number(offset));
    if (entry === true && !isReturn) isEntryCtx = true;
    if (entry === false && isReturn) log.fail(0, 'BAD_RETPROBE', Errno.EINVAL);
    location = { kind: 'symbol', symbol: bare, module, offset: Number(offset) };
  }

  // Step 4 (R107, R108, R109): group and event names.
  log.index = 0;
  let group = KPROBE_EVENT_SYSTEM;
  let event: string | null = null;
  if (eventStart >= 0) {
    const r = parseEventName(head.slice(eventStart), eventStart, log);
    if (r.group !== null) group = r.group;
    event = r.event;
  }
  if (event === null) event = generateEventName(isReturn, location);

  const st: ParserState = {
    ctx,
    log,
    isReturnCtx,
    isEntryCtx,
    funcname,
    paramMaxStack: Math.floor((ctx.threadSize ?? 16384) / 8),
    btfProto: null,
    offset: 0,
    code: freshCode(),
    lastType: null,
    lastBitoffs: 0,
    lastBitsize: 0,
    args: [],
  };

  // Step 5 (R128, R129): $arg screening and BTF expansion.
  const original = argv.slice(2);
  const expanded = st.ctx.metaArgs === false ? null : expandMetaArgs(st, original);
  let fetchArgs: string[] = expanded ?? [...original];

  // Step 6 (R126): argument count, after the expansion.
  if (fetchArgs.length > MAX_TRACE_ARGS) {
    log.index = 2;
    log.fail(0, 'TOO_MANY_ARGS', Errno.E2BIG);
  }

  // Step 7 (R124): %pd / %pD rewrite. Without an expansion the kernel edits the very tokens it
  // echoes in error_log.
  fetchArgs = expandDentryArgs(st, fetchArgs, expanded === null);

  // Step 8: each fetch argument, left to right. The log index counts the (expanded) list (R166).
  const args: ProbeArg[] = [];
  for (let i = 0; i < fetchArgs.length; i++) {
    log.index = i + 2;
    st.offset = 0;
    args.push(parseFetchArg(st, fetchArgs[i] as string, i));
  }

  return {
    kind: isReturn ? 'kretprobe' : 'kprobe',
    group,
    event,
    location,
    maxactive,
    args,
  };
}

function firstSignIndex(s: string): number {
  for (let i = 0; i < s.length; i++) if (s[i] === '+' || s[i] === '-') return i;
  return -1;
}

function symbolCount(ctx: ParseContext, name: string, module: string | null): number {
  const mod = module ?? undefined;
  if (ctx.symbolCount) return ctx.symbolCount(name, mod);
  return ctx.symbolExists(name, mod) ? 1 : 0;
}

function functionEntry(ctx: ParseContext, symbol: string, module: string | null, offset: number): boolean | undefined {
  if (ctx.isFunctionEntry) return ctx.isFunctionEntry(symbol, module, offset);
  if (module !== null && !ctx.isModuleLoaded(module)) return undefined;
  if (!ctx.symbolExists(symbol, module ?? undefined)) return undefined;
  return offset === 0;
}

/** traceprobe_parse_event_name(): `[GROUP/][EVENT]` or `GROUP.EVENT` (R107, R108). */
function parseEventName(text: string, offset: number, log: ProbeLog): { group: string | null; event: string | null } {
  let rest = text;
  let off = offset;
  let group: string | null = null;
  let slash = rest.indexOf('/');
  if (slash < 0) slash = rest.indexOf('.');
  if (slash >= 0) {
    if (slash === 0) log.fail(off, 'NO_GROUP_NAME', Errno.EINVAL);
    if (slash + 1 > MAX_EVENT_NAME_LEN) log.fail(off, 'GROUP_TOO_LONG', Errno.EINVAL);
    const g = rest.slice(0, slash);
    if (!isGoodSystemName(g)) log.fail(off, 'BAD_GROUP_NAME', Errno.EINVAL);
    group = g;
    rest = rest.slice(slash + 1);
    off += slash + 1;
  }
  if (rest.length === 0) {
    if (slash >= 0) return { group, event: null };
    log.fail(off, 'NO_EVENT_NAME', Errno.EINVAL);
  }
  if (rest.length >= MAX_EVENT_NAME_LEN) log.fail(off, 'EVENT_TOO_LONG', Errno.EINVAL);
  if (!isGoodName(rest)) log.fail(off, 'BAD_EVENT_NAME', Errno.EINVAL);
  return { group, event: rest };
}

/**
 * argv_has_var_arg() + traceprobe_expand_meta_args(): screen every unnamed `$arg…` token, then with
 * usable BTF replace `$arg*` by the parameter names and `$argN` by the N-th name. Returns the new
 * list, or null when nothing was expanded.
 *
 * Kernel quirk reproduced: when `$arg*` is present but BTF is not usable, NOSUP_BTFARG is logged
 * and then the original list is parsed anyway (the function returns NULL, not an error), so the
 * `$arg*` token fails again (BAD_VAR) — or an earlier argument fails first — and the write fails
 * with that later error's errno. Both entries reach error_log; ParseResult.error is the first.
 */
function expandMetaArgs(st: ParserState, args: readonly string[]): string[] | null {
  const log = st.log;
  let found = false;
  let argsIdx = -1;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('$arg')) continue;
    log.index = i + 2;
    if (!st.isEntryCtx && !st.isReturnCtx) log.fail(0, 'NOFENTRY_ARGS', Errno.EINVAL);
    if (isDigit(a[4])) {
      found = true;
      continue;
    }
    if (a[4] !== '*') log.fail(0, 'BAD_VAR', Errno.EINVAL);
    if (argsIdx >= 0 && argsIdx < args.length) log.fail(0, 'DOUBLE_ARGS', Errno.EINVAL);
    found = true;
    argsIdx = i;
  }
  if (!found) return null;

  const q = queryBtf(st);
  if (q < 0 || btfParamCount(st) === 0) {
    if (argsIdx !== -1) log.err(0, 'NOSUP_BTFARG', Errno.EOPNOTSUPP);
    return null;
  }
  const params = st.btfProto ? st.btfProto.params : [];
  const out: string[] = [];
  let used = 0;
  const sprint = (idx: number, type: string): string => {
    if (idx >= params.length) log.fail(0, 'NO_BTFARG', Errno.ENOENT);
    // A negative index reads params[-1] in the kernel (out of bounds); its name offset is the
    // prototype's info word, which is no valid string offset, hence NO_BTF_ENTRY.
    const p = params[idx];
    if (idx < 0 || !p) return log.fail(0, 'NO_BTF_ENTRY', Errno.ENOENT);
    const text = p.name + type;
    if (text.length >= MAX_BTF_ARGS_LEN - used) log.fail(0, 'ARGS_2LONG', Errno.E2BIG);
    used += text.length + 1;
    return text;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    log.index = i + 2;
    if (i === argsIdx) {
      for (let n = 0; n < params.length; n++) out.push(sprint(n, ''));
      continue;
    }
    if (a.startsWith('$arg')) {
      const r = simpleStrtoul(a, 4, 10);
      const rest = a.slice(r.end);
      if (!(rest[0] === ':' || rest === '')) log.fail(0, 'BAD_VAR', Errno.ENOENT);
      const n = Number(BigInt.asIntN(32, r.value));
      out.push(sprint(n - 1, rest));
    } else {
      out.push(a);
    }
  }
  return out;
}

/**
 * traceprobe_expand_dentry_args(): `BODY:%pd` → `+0x0(+0x<d_name.name>(BODY)):string`,
 * `BODY:%pD` → `+0x0(+0x<d_name.name>(+0x<f_path.dentry>(BODY))):string` (R124). All rewrites
 * share a 256-byte buffer; overflowing it fails with -ENOMEM and no error_log entry (R159).
 */
function expandDentryArgs(st: ParserState, args: string[], editLogTokens: boolean): string[] {
  const out = [...args];
  const dname = (st.ctx.dentryNameOffset ?? DEFAULT_DENTRY_NAME_OFFSET).toString(16);
  const fdentry = (st.ctx.fileDentryOffset ?? DEFAULT_FILE_DENTRY_OFFSET).toString(16);
  let used = 0;
  for (let i = 0; i < out.length; i++) {
    const a = out[i] as string;
    if (!(a.endsWith(':%pd') || a.endsWith(':%pD'))) continue;
    const stripped = a.slice(0, a.length - 4);
    const eq = stripped.indexOf('=');
    const name = eq >= 0 ? `${stripped.slice(0, eq)}=` : '';
    const body = eq >= 0 ? stripped.slice(eq + 1) : stripped;
    const text = a.endsWith('d')
      ? `${name}+0x0(+0x${dname}(${body})):string`
      : `${name}+0x0(+0x${dname}(+0x${fdentry}(${body}))):string`;
    if (text.length >= MAX_DENTRY_ARGS_LEN - used) throw new ParseAbort(Errno.ENOMEM, 'no-memory');
    used += text.length + 1;
    out[i] = text;
    if (editLogTokens) st.log.argv[i + 2] = text;
  }
  return out;
}
