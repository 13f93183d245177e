// One fetch argument `[NAME=]BODY[:TYPE]` (spec §15.6–§15.9): a step-by-step mirror of
// traceprobe_parse_probe_arg() → traceprobe_parse_probe_arg_body() → parse_probe_arg_type() →
// parse_probe_arg() → finalize_fetch_insn() in kernel/trace/trace_probe.c (v6.17), including the
// 16-slot fetch program whose overflow is TOO_MANY_OPS and the error columns the kernel reports.
// Internal to the tracefs parser (grammar.ts drives it).

import { checkPrepareBtfStringFetch, fetchTypeFromBtf, parseBtfArg, parseBtfBitfield } from './btf.ts';
import { isAlpha, isDigit, isGoodName, kstrtol, kstrtoul, kstrtouint, simpleStrtoul, U64_MASK } from './ctype.ts';
import { Errno } from './errors.ts';
import {
  FETCH_INSN_MAX,
  freshCode,
  MAX_ARG_NAME_LEN,
  MAX_ARGSTR_LEN,
  MAX_ARRAY_LEN,
  opAt,
  type Box,
  type Op,
  type ParserState,
} from './parse-state.ts';
import { isRegisterName } from './registers.ts';
import {
  FETCH_TYPES,
  fetchTypeInfo,
  type ArgType,
  type ElementType,
  type FetchNode,
  type FetchTypeName,
  type ProbeArg,
} from './types.ts';

/** Field names an argument may not take (R127): the common fields and the probe's own fields. */
export const RESERVED_FIELD_NAMES: readonly string[] = [
  'common_type',
  'common_flags',
  'common_preempt_count',
  'common_pid',
  'common_tgid',
  '__probe_ip',
  '__probe_ret_ip',
  '__probe_func',
];

const END = FETCH_INSN_MAX - 1;

function btfEnabled(st: ParserState): boolean {
  return st.ctx.btf !== undefined;
}

/** find_fetch_type(): a table name, or a bitfield `b…/<8|16|32|64>` mapped to its container. */
export function findFetchType(type: string | null): FetchTypeName | null {
  if (type === null) return 'x64';
  if (type[0] === 'b') {
    const slash = type.indexOf('/');
    if (slash < 0) return null;
    const bs = kstrtoul(type.slice(slash + 1), 0);
    if (typeof bs !== 'bigint') return null;
    switch (bs) {
      case 8n: return 'u8';
      case 16n: return 'u16';
      case 32n: return 'u32';
      case 64n: return 'u64';
      default: return null;
    }
  }
  const f = FETCH_TYPES.find((x) => x.name === type);
  return f ? f.name : null;
}

// ── $-variables ──────────────────────────────────────────────────────────────────────────────

/** parse_probe_vars(): `$retval`, `$stack`, `$stackN`, `$comm`, `$COMM`, `$argN`. */
function parseProbeVars(st: ParserState, origArg: string, pcode: Box): FetchNode {
  const arg = origArg.slice(1);
  const c = pcode.i;
  const inval = (key: 'BAD_VAR' | 'RETVAL_ON_PROBE' | 'BAD_STACK_NUM' | 'BAD_ARG_NUM' | 'NOFENTRY_ARGS'): never =>
    st.log.fail(st.offset, key, Errno.EINVAL);

  if (arg.startsWith('retval')) {
    if (!st.isReturnCtx) return inval('RETVAL_ON_PROBE');
    if (!btfEnabled(st)) {
      st.code[c] = 'RETVAL';
      return { kind: 'retval' };
    }
    return parseBtfArg(st, origArg, pcode);
  }

  if (arg.startsWith('stack')) {
    const rest = arg.slice(5);
    if (rest === '') {
      st.code[c] = 'STACKP';
      return { kind: 'stack-pointer' };
    }
    if (isDigit(rest[0])) {
      const v = kstrtoul(rest, 10);
      if (typeof v !== 'bigint') return inval('BAD_VAR');
      if (v > BigInt(st.paramMaxStack)) return inval('BAD_STACK_NUM');
      st.code[c] = 'STACK';
      return { kind: 'stack', index: Number(v) };
    }
    return inval('BAD_VAR');
  }

  if (arg === 'comm' || arg === 'COMM') {
    st.code[c] = 'COMM';
    return { kind: 'comm' };
  }

  // Before v4.20 there is no $argN: `arg…` is an unknown variable, like any other.
  if (arg.startsWith('arg') && st.ctx.argN !== false) {
    const v = kstrtoul(arg.slice(3), 10);
    if (typeof v !== 'bigint') return inval('BAD_VAR');
    if (v === 0n || v > BigInt(st.paramMaxStack)) return inval('BAD_ARG_NUM');
    if (st.isEntryCtx) {
      st.code[c] = 'ARG';
      return { kind: 'arg', index: Number(v), fromEntry: false };
    }
    if (st.isReturnCtx) {
      st.code[c] = 'EDATA';
      return { kind: 'arg', index: Number(v), fromEntry: true };
    }
    return inval('NOFENTRY_ARGS');
  }

  return inval('BAD_VAR');
}

/** str_to_immediate(): decimal/0x/0 prefixes, or a signed value after '-' / '+'. */
function strToImmediate(s: string): bigint | { errno: number } {
  let r: bigint | { errno: number };
  if (isDigit(s[0])) r = kstrtoul(s, 0);
  else if (s[0] === '-') r = kstrtol(s, 0);
  else if (s[0] === '+') r = kstrtol(s.slice(1), 0);
  else return { errno: Errno.EINVAL };
  return typeof r === 'bigint' ? r & U64_MASK : r;
}

// ── the recursive body parser ────────────────────────────────────────────────────────────────

/** parse_probe_arg(): one fetch body (after the type was split off). */
function parseProbeArg(st: ParserState, arg: string, pcode: Box): FetchNode {
  let c = pcode.i;
  let node: FetchNode | null = null;

  switch (arg[0]) {
    case '$':
      node = parseProbeVars(st, arg, pcode);
      break;

    case '%': {
      const reg = arg.slice(1);
      if (!isRegisterName(st.ctx.arch, reg)) return st.log.fail(st.offset, 'BAD_REG_NAME', Errno.EINVAL);
      st.code[c] = 'REG';
      node = { kind: 'reg', reg };
      break;
    }

    case '@': {
      if (isDigit(arg[1])) {
        const v = kstrtoul(arg.slice(1), 0);
        if (typeof v !== 'bigint') return st.log.fail(st.offset, 'BAD_MEM_ADDR', v.errno);
        st.code[c] = 'IMM';
        node = { kind: 'mem-addr', address: v };
      } else if (arg[1] === '+') {
        return st.log.fail(st.offset, 'FILE_ON_KPROBE', Errno.EINVAL);
      } else {
        const text = arg.slice(1);
        st.code[c] = 'NOP_SYMBOL';
        if (++c === END) return st.log.fail(st.offset, 'TOO_MANY_OPS', Errno.EINVAL);
        st.code[c] = 'IMM';
        node = { kind: 'mem-symbol', text, ...splitMemSymbol(text) };
      }
      if (++c === END) return st.log.fail(st.offset, 'TOO_MANY_OPS', Errno.EINVAL);
      pcode.i = c;
      st.code[c] = 'DEREF';
      break;
    }

    case '+':
    case '-': {
      let s = arg;
      const user = s[1] === 'u';
      // The kernel overwrites the 'u' with the sign and starts one character later.
      if (user) s = (s[0] as string) + s.slice(2);
      if (s[0] === '+') s = s.slice(1);
      const open = s.indexOf('(');
      if (open < 0) return st.log.fail(st.offset, 'DEREF_NEED_BRACE', Errno.EINVAL);
      const off = kstrtol(s.slice(0, open), 0);
      if (typeof off !== 'bigint') return st.log.fail(st.offset, 'BAD_DEREF_OFFS', off.errno);
      st.offset += open + 1 + (s[0] !== '-' ? 1 : 0);
      const rest = s.slice(open + 1);
      const close = rest.lastIndexOf(')');
      if (close < 0) return st.log.fail(st.offset + rest.length, 'DEREF_OPEN_BRACE', Errno.EINVAL);
      const curOffs = st.offset;
      const box: Box = { i: c };
      const inner = parseProbeArg(st, rest.slice(0, close), box);
      c = box.i;
      st.offset = curOffs;
      const innerOp = opAt(st, c);
      if (innerOp === 'COMM' || innerOp === 'DATA') return st.log.fail(st.offset, 'COMM_CANT_DEREF', Errno.EINVAL);
      if (++c === END) return st.log.fail(st.offset, 'TOO_MANY_OPS', Errno.EINVAL);
      pcode.i = c;
      st.code[c] = user ? 'UDEREF' : 'DEREF';
      st.lastType = null;
      node = { kind: 'deref', offset: off, user, inner };
      break;
    }

    case '\\': {
      if (arg[1] === '"') {
        const str = arg.slice(2);
        const len = str.length;
        // With an empty text the kernel looks at the '"' just before it, so `\"` is accepted.
        const last = len > 0 ? str[len - 1] : '"';
        if (last !== '"') return st.log.fail(st.offset + 2 + len, 'IMMSTR_NO_CLOSE', Errno.EINVAL);
        st.code[c] = 'DATA';
        node = { kind: 'imm-string', value: len > 0 ? str.slice(0, len - 1) : '' };
      } else {
        const v = strToImmediate(arg.slice(1));
        if (typeof v !== 'bigint') return st.log.fail(st.offset + 1, 'BAD_IMM', v.errno);
        st.code[c] = 'IMM';
        node = { kind: 'imm', value: v };
      }
      break;
    }

    default:
      if (isAlpha(arg[0]) || arg[0] === '_') {
        if (!st.isEntryCtx && !st.isReturnCtx) return st.log.fail(st.offset, 'NOSUP_BTFARG', Errno.EINVAL);
        if (!btfEnabled(st)) return st.log.fail(st.offset, 'NOSUP_BTFARG', Errno.EOPNOTSUPP);
        node = parseBtfArg(st, arg, pcode);
      }
  }
  if (node === null) return st.log.fail(st.offset, 'BAD_FETCH_ARG', Errno.EINVAL);
  return node;
}

/** traceprobe_split_symbol_offset() as traceprobe_update_arg() applies it to `@SYM±OFF`. */
export function splitMemSymbol(text: string): { symbol: string | null; offset: bigint | null } {
  let k = -1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '+' || text[i] === '-') {
      k = i;
      break;
    }
  }
  if (k < 0) return { symbol: text, offset: 0n };
  const off = kstrtol(text.slice(k), 0);
  if (typeof off !== 'bigint') return { symbol: null, offset: null };
  return { symbol: text.slice(0, k), offset: off };
}

// ── types ────────────────────────────────────────────────────────────────────────────────────

interface SplitType {
  /** The body without `:TYPE`. */
  readonly arg: string;
  /** The type text without any `[N]`, or null. */
  readonly typeStr: string | null;
  /** Column of the type inside the body (0 without a type). */
  readonly typeOffset: number;
  readonly count: number;
  readonly fetchType: FetchTypeName;
}

/** parse_probe_arg_type(): split `:TYPE[N]`, check the array part and look the type up. */
function parseProbeArgType(st: ParserState, body: string): SplitType {
  const colon = body.indexOf(':');
  let arg = body;
  let typeStr: string | null = null;
  let count = 0;
  if (colon >= 0) {
    arg = body.slice(0, colon);
    const tStart = colon + 1;
    let t = body.slice(tStart);
    const lb = t.indexOf('[');
    if (lb >= 0) {
      const t2Start = tStart + lb + 1;
      const inner = t.slice(lb + 1);
      const rb = inner.indexOf(']');
      if (rb < 0) return st.log.fail(st.offset + t2Start + inner.length, 'ARRAY_NO_CLOSE', Errno.EINVAL);
      if (rb + 1 < inner.length) return st.log.fail(st.offset + t2Start + rb + 1, 'BAD_ARRAY_SUFFIX', Errno.EINVAL);
      const n = kstrtouint(inner.slice(0, rb), 0);
      if (typeof n !== 'bigint' || n === 0n) return st.log.fail(st.offset + t2Start, 'BAD_ARRAY_NUM', Errno.EINVAL);
      if (n > BigInt(MAX_ARRAY_LEN)) return st.log.fail(st.offset + t2Start, 'ARRAY_TOO_BIG', Errno.EINVAL);
      count = Number(n);
      t = t.slice(0, lb);
    }
    typeStr = t;
  }
  const offs = colon >= 0 ? colon + 1 : 0;
  let fetchType: FetchTypeName | null;
  if (arg === '$comm' || arg === '$COMM' || arg.startsWith('\\"')) {
    if (count !== 0 || (typeStr !== null && typeStr !== 'string')) {
      return st.log.fail(st.offset + offs, 'NEED_STRING_TYPE', Errno.EINVAL);
    }
    fetchType = 'string';
  } else {
    fetchType = findFetchType(typeStr);
  }
  if (fetchType === null) return st.log.fail(st.offset + offs, 'BAD_TYPE', Errno.EINVAL);
  return { arg, typeStr, typeOffset: offs, count, fetchType };
}

/** __parse_bitfield_probe_arg(): `b<width>@<offset>/<container>` (R121). */
function parseBitfield(
  st: ParserState,
  typeStr: string,
  fetchType: FetchTypeName,
  pcode: Box,
  typeOffset: number,
): ElementType {
  const bad = (): never => st.log.fail(st.offset + typeOffset, 'BAD_BITFIELD', Errno.EINVAL);
  const w = simpleStrtoul(typeStr, 1, 0);
  if (w.value === 0n || typeStr[w.end] !== '@') return bad();
  const boStart = w.end + 1;
  const o = simpleStrtoul(typeStr, boStart, 0);
  if (o.end === boStart || typeStr[o.end] !== '/') return bad();
  const c = pcode.i + 1;
  if (opAt(st, c) !== 'NOP') return bad();
  st.code[c] = 'MOD_BF';
  pcode.i = c;
  const bits = fetchTypeInfo(fetchType).size * 8;
  if (BigInt(bits) < ((w.value + o.value) & U64_MASK)) return bad();
  return { kind: 'bitfield', width: Number(w.value), offset: Number(o.value), container: bits as 8 | 16 | 32 | 64 };
}

const SYMSTR_OK: readonly Op[] = ['REG', 'STACK', 'RETVAL', 'ARG', 'DEREF'];
const STRING_OK: readonly Op[] = ['DEREF', 'UDEREF', 'IMM', 'COMM', 'DATA'];
const ARRAY_OK: readonly Op[] = ['ST_MEM', 'ST_STRING', 'ST_USTRING'];

/** finalize_fetch_insn(): the store step, then bitfield and array modifiers (R119, R121, R122). */
function finalizeFetch(
  st: ParserState,
  pcode: Box,
  fetchType: FetchTypeName,
  typeStr: string | null,
  typeOffset: number,
  count: number,
): { element: ElementType; btfBitfield: { width: number; offset: number } | null } {
  const info = fetchTypeInfo(fetchType);
  const box: Box = { i: pcode.i };
  if (info.isString) {
    const op = opAt(st, box.i);
    if (fetchType === 'symstr') {
      if (!SYMSTR_OK.includes(op)) return st.log.fail(st.offset + typeOffset, 'BAD_SYMSTRING', Errno.EINVAL);
    } else if (!STRING_OK.includes(op)) {
      return st.log.fail(st.offset + typeOffset, 'BAD_STRING', Errno.EINVAL);
    }
    if (fetchType === 'symstr' || op === 'IMM' || op === 'COMM' || op === 'DATA' || count !== 0) {
      box.i++;
      if (opAt(st, box.i) !== 'NOP') return st.log.fail(st.offset, 'TOO_MANY_OPS', Errno.EINVAL);
    }
    st.code[box.i] =
      fetchType === 'ustring' || opAt(st, box.i) === 'UDEREF'
        ? 'ST_USTRING'
        : fetchType === 'symstr'
          ? 'ST_SYMSTR'
          : 'ST_STRING';
  } else if (opAt(st, box.i) === 'DEREF') {
    st.code[box.i] = 'ST_MEM';
  } else if (opAt(st, box.i) === 'UDEREF') {
    st.code[box.i] = 'ST_UMEM';
  } else {
    box.i++;
    if (opAt(st, box.i) !== 'NOP') return st.log.fail(st.offset, 'TOO_MANY_OPS', Errno.E2BIG);
    st.code[box.i] = 'ST_RAW';
  }
  const scode = box.i;

  let element: ElementType = info.isString
    ? { kind: 'string', name: fetchType as 'string' | 'ustring' | 'symstr' }
    : { kind: 'scalar', name: fetchType as Exclude<FetchTypeName, 'string' | 'ustring' | 'symstr'> };
  let btfBitfield: { width: number; offset: number } | null = null;
  if (typeStr !== null) {
    if (typeStr[0] === 'b') element = parseBitfield(st, typeStr, fetchType, box, typeOffset);
  } else if (btfEnabled(st) && st.lastType) {
    btfBitfield = parseBtfBitfield(st, box);
  }

  if (count !== 0) {
    if (!ARRAY_OK.includes(opAt(st, scode))) return st.log.fail(st.offset + typeOffset, 'BAD_STRING', Errno.EINVAL);
    box.i++;
    if (opAt(st, box.i) !== 'NOP') return st.log.fail(st.offset, 'TOO_MANY_OPS', Errno.E2BIG);
    st.code[box.i] = 'LP_ARRAY';
  }
  box.i++;
  if (box.i < FETCH_INSN_MAX) st.code[box.i] = 'END';
  pcode.i = box.i;
  return { element, btfBitfield };
}

// ── one whole argument ───────────────────────────────────────────────────────────────────────

/** generate_probe_arg_name(): with BTF support a bare identifier names itself, else `arg<K>`. */
function generateArgName(st: ParserState, arg: string, i: number): string {
  if (btfEnabled(st)) {
    const colon = arg.indexOf(':');
    const cand = colon < 0 ? arg : arg.slice(0, colon);
    if (isGoodName(cand)) return cand;
  }
  return `arg${i + 1}`;
}

function conflictsWithField(st: ParserState, name: string): boolean {
  return RESERVED_FIELD_NAMES.includes(name) || st.args.some((a) => a.name === name);
}

/**
 * traceprobe_parse_probe_arg(): parse fetch argument `i` (0-based in the possibly expanded list).
 * Errors are logged at the current log index with offsets relative to the argument text.
 */
export function parseFetchArg(st: ParserState, argText: string, i: number): ProbeArg {
  const eq = argText.indexOf('=');
  let name: string;
  let body: string;
  if (eq >= 0) {
    if (eq > MAX_ARG_NAME_LEN) return st.log.fail(0, 'ARG_NAME_TOO_LONG', Errno.EINVAL);
    if (eq === 0) return st.log.fail(0, 'NO_ARG_NAME', Errno.EINVAL);
    name = argText.slice(0, eq);
    body = argText.slice(eq + 1);
  } else {
    name = generateArgName(st, argText, i);
    body = argText;
  }
  if (!isGoodName(name)) return st.log.fail(0, 'BAD_ARG_NAME', Errno.EINVAL);
  if (conflictsWithField(st, name)) return st.log.fail(0, 'USED_ARG_NAME', Errno.EINVAL);
  st.offset = eq >= 0 ? eq + 1 : 0;

  // traceprobe_parse_probe_arg_body()
  if (body.length > MAX_ARGSTR_LEN) return st.log.fail(st.offset, 'ARG_TOO_LONG', Errno.E2BIG);
  if (body.length === 0) return st.log.fail(st.offset, 'NO_ARG_BODY', Errno.EINVAL);
  const split = parseProbeArgType(st, body);
  st.code = freshCode();
  st.lastType = null;
  st.lastBitoffs = 0;
  st.lastBitsize = 0;
  const pcode: Box = { i: 0 };
  let fetch = parseProbeArg(st, split.arg, pcode);
  let fetchType = split.fetchType;
  if (btfEnabled(st) && st.lastType) {
    if (split.typeStr === null) fetchType = fetchTypeFromBtf(st) ?? 'x64';
    else if (split.typeStr.includes('string')) fetch = checkPrepareBtfStringFetch(st, split.typeStr, fetch, pcode);
  }
  const fin = finalizeFetch(st, pcode, fetchType, split.typeStr, split.typeOffset, split.count);
  const type: ArgType = split.count !== 0 ? { kind: 'array', element: fin.element, length: split.count } : fin.element;
  const arg: ProbeArg = fin.btfBitfield
    ? { name, text: body, fetch, type, btfBitfield: fin.btfBitfield }
    : { name, text: body, fetch, type };
  st.args.push(arg);
  return arg;
}

