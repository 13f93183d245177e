// Event filters (spec §17, R140, R144–R149, R163): the `filter` file of an event directory.
// A mirror of kernel/trace/trace_events_filter.c (v6.17): calc_stack() → predicate_parse() →
// parse_pred() for parsing and error positions, and the same branch program (filter_match_preds())
// for evaluation, so precedence, `!`, and the kernel's quirks (a trailing `&&` is ignored, `*x`
// globs on comm only match 15-character names, …) come out as in the kernel.
//
// errno: R149 says an invalid expression fails with -EINVAL; the kernel source returns -1/-2/-3
// (EPERM/ENOENT/ESRCH) on a few paths (unbalanced parentheses, missing quote, a missing field
// name, a junk token after a predicate). This module follows the spec: every failure is EINVAL.

import { isDigit, isSpace, kstrtol, kstrtoul, toSigned64, U64_MASK } from './ctype.ts';
import { Errno } from './errors.ts';
import { COMMON_FIELDS, eventFields } from './format.ts';
import type { ProbeDefinition } from './types.ts';

// ── error table (trace_events_filter.c ERRORS, verbatim) ─────────────────────────────────────

export const FILTER_ERRORS = [
  ['NONE', 'No error'],
  ['INVALID_OP', 'Invalid operator'],
  ['TOO_MANY_OPEN', "Too many '('"],
  ['TOO_MANY_CLOSE', "Too few '('"],
  ['MISSING_QUOTE', 'Missing matching quote'],
  ['MISSING_BRACE_OPEN', "Missing '{'"],
  ['MISSING_BRACE_CLOSE', "Missing '}'"],
  ['OPERAND_TOO_LONG', 'Operand too long'],
  ['EXPECT_STRING', 'Expecting string field'],
  ['EXPECT_DIGIT', 'Expecting numeric field'],
  ['ILLEGAL_FIELD_OP', 'Illegal operation for field type'],
  ['FIELD_NOT_FOUND', 'Field not found'],
  ['ILLEGAL_INTVAL', 'Illegal integer value'],
  ['BAD_SUBSYS_FILTER', "Couldn't find or set field in one of a subsystem's events"],
  ['TOO_MANY_PREDS', 'Too many terms in predicate expression'],
  ['INVALID_FILTER', 'Meaningless filter expression'],
  ['INVALID_CPULIST', 'Invalid cpulist'],
  ['IP_FIELD_ONLY', "Only 'ip' field is supported for function trace"],
  ['INVALID_VALUE', 'Invalid value (did you forget quotes)?'],
  ['NO_FUNCTION', 'Function not found'],
  ['ERRNO', 'Error'],
  ['NO_FILTER', 'No filter found'],
] as const;

export type FilterErrorKey = (typeof FILTER_ERRORS)[number][0];

export const FILTER_ERROR_MESSAGES: Readonly<Record<FilterErrorKey, string>> = Object.freeze(
  Object.fromEntries(FILTER_ERRORS.map(([k, m]) => [k, m])) as Record<FilterErrorKey, string>,
);

// ── fields ───────────────────────────────────────────────────────────────────────────────────

export type FilterType = 'other' | 'dyn-string' | 'static-string' | 'ptr-string' | 'comm' | 'cpu' | 'stacktrace';

export interface FilterField {
  readonly name: string;
  readonly filterType: FilterType;
  readonly size: number;
  readonly signed: boolean;
}

/** filter_assign_type(): the filter class of a field from its `format` type. */
export function filterAssignType(type: string): FilterType {
  if (type.includes('__data_loc') && type.includes('char')) return 'dyn-string';
  if (type.includes('[') && type.includes('char')) return 'static-string';
  if (type === 'char *' || type === 'const char *') return 'ptr-string';
  return 'other';
}

const GENERIC_FIELDS: readonly FilterField[] = [
  { name: 'CPU', filterType: 'cpu', size: 0, signed: true },
  { name: 'cpu', filterType: 'cpu', size: 0, signed: true },
  { name: 'common_cpu', filterType: 'cpu', size: 0, signed: true },
  { name: 'COMM', filterType: 'comm', size: 0, signed: false },
  { name: 'comm', filterType: 'comm', size: 0, signed: false },
  { name: 'stacktrace', filterType: 'stacktrace', size: 0, signed: false },
  { name: 'STACKTRACE', filterType: 'stacktrace', size: 0, signed: false },
];

/** trace_find_event_field(): the event's fields, then the generic pseudo fields, then common_*. */
export function filterFieldTable(probe: ProbeDefinition): (name: string) => FilterField | undefined {
  const own = eventFields(probe).map((f) => ({ name: f.name, filterType: filterAssignType(f.type), size: f.size, signed: f.signed }));
  const common = COMMON_FIELDS.map((f) => ({ name: f.name, filterType: filterAssignType(f.type), size: f.size, signed: f.signed }));
  return (name) =>
    own.find((f) => f.name === name) ?? GENERIC_FIELDS.find((f) => f.name === name) ?? common.find((f) => f.name === name);
}

export interface FilterParseOptions {
  /** Field lookup; see filterFieldTable(). */
  readonly findField: (name: string) => FilterField | undefined;
  /** For `FIELD.function == SYM|ADDR`: the function's [start, start+size) (kallsyms). */
  readonly functionRange?: (nameOrAddress: string | bigint) => { readonly start: bigint; readonly size: bigint } | undefined;
}

// ── the compiled program ─────────────────────────────────────────────────────────────────────

const OPS = ['~', '!=', '==', '<=', '<', '>=', '>', '&'] as const;
type FilterOp = (typeof OPS)[number];

type RegexType = 'full' | 'front' | 'middle' | 'end' | 'glob';
interface Regex {
  readonly type: RegexType;
  readonly pattern: string;
}

type PredFn = 'nop' | 'eq' | 'cmp' | 'comm' | 'strloc' | 'static-string' | 'pchar' | 'cpu' | 'cpu-cpumask' | 'num-cpumask' | 'function';

export interface FilterPredicate {
  readonly field: FilterField;
  readonly op: FilterOp;
  readonly fn: PredFn;
  readonly val: bigint;
  readonly val2: bigint;
  readonly not: boolean;
  readonly regex: Regex | null;
  readonly mask: ReadonlySet<number> | null;
}

interface ProgEntry {
  target: number;
  whenToBranch: number;
  pred: FilterPredicate | null;
}

export interface CompiledFilter {
  /** The filter text as stored (trailing whitespace removed). */
  readonly text: string;
  readonly prog: readonly Readonly<ProgEntry>[];
}

export interface FilterError {
  readonly key: FilterErrorKey;
  readonly message: string;
  /** The parser's error position (pe->lasterr_pos), unclamped. */
  readonly pos: number;
}

export type FilterParseResult =
  | { readonly ok: true; readonly filter: CompiledFilter }
  /** `error` null: the kernel failed without a message (shown as `Error: (0)`, logged as "Error" at 0). */
  | { readonly ok: false; readonly errno: number; readonly error: FilterError | null };

class FilterAbort {
  constructor(readonly error: FilterError | null) {}
}

function perr(key: FilterErrorKey, pos: number): never {
  throw new FilterAbort({ key, message: FILTER_ERROR_MESSAGES[key], pos });
}

function ch(s: string, i: number): string {
  return i < s.length ? (s[i] as string) : '\0';
}

function isAlnum(c: string): boolean {
  const x = c.charCodeAt(0);
  return (x >= 0x30 && x <= 0x39) || (x >= 0x41 && x <= 0x5a) || (x >= 0x61 && x <= 0x7a);
}

/** calc_stack(): count predicates and parenthesis depth; report quote/paren errors. */
function calcStack(str: string): { parens: number; preds: number } {
  let isPred = false;
  let nrPreds = 0;
  let open = 1;
  let lastQuote = 0;
  let maxOpen = 1;
  let quote = '';
  let i = 0;
  for (; i < str.length; i++) {
    const c = str[i] as string;
    if (isSpace(c)) continue;
    if (quote) {
      if (c === quote) quote = '';
      continue;
    }
    switch (c) {
      case "'":
      case '"':
        quote = c;
        lastQuote = i;
        break;
      case '|':
      case '&':
        if (ch(str, i + 1) !== c) break;
        isPred = false;
        continue;
      case '(':
        isPred = false;
        open++;
        if (open > maxOpen) maxOpen = open;
        continue;
      case ')':
        isPred = false;
        if (open === 1) perr('TOO_MANY_CLOSE', i);
        open--;
        continue;
    }
    if (!isPred) {
      nrPreds++;
      isPred = true;
    }
  }
  if (quote) perr('MISSING_QUOTE', lastQuote);
  if (open !== 1) {
    let level = open;
    let q = '';
    for (i--; i > 0; i--) {
      const c = str[i] as string;
      if (q) {
        if (c === q) q = '';
        continue;
      }
      switch (c) {
        case '(':
          if (level === open) perr('TOO_MANY_OPEN', i);
          level--;
          break;
        case ')':
          level++;
          break;
        case "'":
        case '"':
          q = c;
          break;
      }
    }
    perr('TOO_MANY_OPEN', 0);
  }
  return { parens: maxOpen, preds: nrPreds };
}

/** filter_parse_regex() for `~`: '!' negates; '*' at the ends picks front/end/middle; else glob. */
function buildGlob(raw: string): { regex: Regex; not: boolean } {
  let buff = raw;
  let not = false;
  if (buff[0] === '!') {
    not = true;
    buff = buff.slice(1);
  }
  if (isDigit(buff[0])) return { regex: { type: 'full', pattern: buff }, not };
  let type: RegexType = 'full';
  let pattern = buff;
  const len = buff.length;
  for (let i = 0; i < len; i++) {
    const c = buff[i];
    if (c === '*') {
      if (i === 0) {
        type = 'end';
      } else if (i === len - 1) {
        type = type === 'end' ? 'middle' : 'front';
        pattern = buff.slice(0, i);
        break;
      } else {
        return { regex: { type: 'glob', pattern: buff }, not };
      }
    } else if (c === '[' || c === '?' || c === '\\') {
      return { regex: { type: 'glob', pattern: buff }, not };
    }
  }
  if (pattern[0] === '*') pattern = pattern.slice(1);
  return { regex: { type, pattern }, not };
}

/** cpulist_parse(): "N", "N-M", comma separated (bits < 8192). null when invalid. */
function parseCpuList(s: string): Set<number> | null {
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return null;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a || b >= 8192) return null;
    for (let c = a; c <= b; c++) out.add(c);
  }
  return out.size > 0 ? out : null;
}

function isStringField(f: FilterField): boolean {
  return f.filterType === 'dyn-string' || f.filterType === 'static-string' || f.filterType === 'ptr-string' || f.filterType === 'comm';
}

function selectComparisonFn(op: FilterOp, size: number): PredFn {
  if (size !== 8 && size !== 4 && size !== 2 && size !== 1) return 'nop';
  return op === '==' || op === '!=' ? 'eq' : 'cmp';
}

/** parse_pred(): one `FIELD OP VALUE`; returns the predicate and how many characters it used. */
function parsePred(str: string, start: number, pos: number, o: FilterParseOptions): { pred: FilterPredicate; len: number } {
  const at = (k: number): string => ch(str, start + k);
  let i = 0;
  while (isSpace(at(i))) i++;
  let s = i;
  while (isAlnum(at(i)) || at(i) === '_') i++;
  const nameLen = i - s;
  if (nameLen === 0) throw new FilterAbort(null);
  const field = o.findField(str.slice(start + s, start + i));
  if (!field) perr('FIELD_NOT_FOUND', pos + i);
  let fn: PredFn = 'nop';
  if (str.startsWith('.ustring', start + i)) i += 8;
  let isFunction = false;
  if (str.startsWith('.function', start + i)) {
    isFunction = true;
    i += 9;
  }
  while (isSpace(at(i))) i++;
  const op = OPS.find((x) => str.startsWith(x, start + i));
  if (op === undefined) perr('INVALID_OP', pos + i);
  i += op.length;
  while (isSpace(at(i))) i++;
  s = i;
  let val = 0n;
  let val2 = 0n;
  let not = false;
  let regex: Regex | null = null;
  let mask: Set<number> | null = null;
  let pop: FilterOp = op;

  if (isFunction) {
    if (field.size !== 8) perr('ILLEGAL_FIELD_OP', pos + i);
    if (op !== '==' && op !== '!=') perr('INVALID_OP', pos + i);
    let range: { start: bigint; size: bigint } | undefined;
    if (isDigit(at(i))) {
      while (isAlnum(at(i))) i++;
      if (i - s >= 24) perr('OPERAND_TOO_LONG', pos + i);
      const ip = kstrtoul(str.slice(start + s, start + i), 0);
      if (typeof ip !== 'bigint') perr('INVALID_VALUE', pos + i);
      range = o.functionRange?.(ip);
    } else {
      s = i;
      while (at(i) !== '\0' && !isSpace(at(i))) i++;
      range = o.functionRange?.(str.slice(start + s, start + i));
    }
    if (!range) perr('NO_FUNCTION', pos + i);
    fn = 'function';
    val = range.start;
    val2 = range.start + range.size;
  } else if (str.startsWith('CPUS', start + i)) {
    if (field.filterType !== 'cpu' && field.filterType !== 'other') perr('ILLEGAL_FIELD_OP', pos + i);
    if (op !== '==' && op !== '!=' && op !== '&') perr('ILLEGAL_FIELD_OP', pos + i);
    i += 4;
    if (at(i++) !== '{') perr('MISSING_BRACE_OPEN', pos + i);
    const maskStart = i;
    while (at(i) !== '\0' && at(i) !== '}') i++;
    if (at(i) !== '}') perr('MISSING_BRACE_CLOSE', pos + i);
    if (maskStart === i) perr('INVALID_CPULIST', pos + i);
    const parsed = parseCpuList(str.slice(start + maskStart, start + i));
    if (!parsed) perr('INVALID_CPULIST', pos + i);
    i++;
    const single = parsed.size === 1;
    if (single) val = BigInt([...parsed][0] as number);
    else mask = parsed;
    if (field.filterType === 'cpu') {
      if (single) {
        if (pop === '&') pop = '==';
        fn = 'cpu';
      } else {
        fn = 'cpu-cpumask';
      }
    } else if (single) {
      if (pop === '&') pop = '==';
      fn = selectComparisonFn(pop, field.size);
      if (pop === '!=') not = true;
    } else {
      fn = field.size === 8 || field.size === 4 || field.size === 2 || field.size === 1 ? 'num-cpumask' : 'nop';
    }
  } else if (at(i) === "'" || at(i) === '"') {
    const q = at(i);
    if (op === '!=') not = true;
    else if (op !== '~' && op !== '==') perr('ILLEGAL_FIELD_OP', pos + i);
    if (!isStringField(field)) perr('EXPECT_DIGIT', pos + i);
    for (i++; at(i) !== '\0'; i++) if (at(i) === q) break;
    if (at(i) === '\0') perr('MISSING_QUOTE', pos + i);
    s++;
    if (i - s >= 256) perr('OPERAND_TOO_LONG', pos + i);
    const pattern = str.slice(start + s, start + i);
    if (op === '~') {
      const g = buildGlob(pattern);
      regex = g.regex;
      not = g.not;
    } else {
      regex = { type: 'full', pattern };
    }
    fn =
      field.filterType === 'comm'
        ? 'comm'
        : field.filterType === 'static-string'
          ? 'static-string'
          : field.filterType === 'dyn-string'
            ? 'strloc'
            : 'pchar';
    i++;
  } else if (isDigit(at(i)) || at(i) === '-') {
    if (isStringField(field)) perr('EXPECT_STRING', pos + i);
    if (op === '~') perr('ILLEGAL_FIELD_OP', pos + i);
    if (at(i) === '-') i++;
    while (isAlnum(at(i))) i++;
    if (i - s >= 24) perr('OPERAND_TOO_LONG', pos + i);
    const text = str.slice(start + s, start + i);
    const v = field.signed ? kstrtol(text, 0) : kstrtoul(text, 0);
    if (typeof v !== 'bigint') perr('ILLEGAL_INTVAL', pos + s);
    val = v & U64_MASK;
    if (field.filterType === 'cpu') {
      fn = 'cpu';
    } else {
      fn = selectComparisonFn(op, field.size);
      if (op === '!=') not = true;
    }
  } else {
    perr('INVALID_VALUE', pos + i);
  }
  return { pred: { field, op: pop, fn, val, val2, not, regex, mask }, len: i };
}

/** update_preds() of the first pass. */
function updatePreds(prog: ProgEntry[], n: number, invert: number, dummy: ProgEntry): void {
  const get = (k: number): ProgEntry => (k >= 0 ? (prog[k] ??= { target: 0, whenToBranch: 0, pred: null }) : dummy);
  const t = get(n).target;
  const s = get(t).target;
  get(t).whenToBranch = invert;
  get(t).target = n;
  get(n).target = s;
}

const INVERT = 1;
const PROCESS_AND = 2;
const PROCESS_OR = 4;

/**
 * Parse a filter expression (as stored: the written text without trailing whitespace).
 * Never throws for any input string.
 */
export function parseFilter(text: string, options: FilterParseOptions): FilterParseResult {
  const nul = text.indexOf('\0');
  const str = nul >= 0 ? text.slice(0, nul) : text;
  try {
    const { preds } = calcStack(str);
    if (preds === 0) return { ok: false, errno: Errno.EINVAL, error: null };
    const maxPreds = preds + 2;
    const prog: ProgEntry[] = [];
    const inverts: number[] = [];
    const dummy: ProgEntry = { target: 0, whenToBranch: 0, pred: null };
    const stack: number[] = [0];
    const top = (): number => stack[stack.length - 1] as number;
    const setTop = (v: number): void => {
      stack[stack.length - 1] = v;
    };
    let invert = 0;
    let n = 0;
    let ptr = 0;
    outer: while (ptr < str.length) {
      const next = ptr++;
      const c = str[next] as string;
      if (isSpace(c)) continue;
      if (c === '(') {
        stack.push(invert);
        continue;
      }
      if (c === '!' && ch(str, next + 1) !== '=' && ch(str, next + 1) !== '~') {
        invert = invert ? 0 : 1;
        continue;
      }
      if (n >= maxPreds) perr('TOO_MANY_PREDS', next);
      inverts[n] = invert;
      prog[n] = { target: n - 1, whenToBranch: 0, pred: null };
      const r = parsePred(str, next, ptr, options);
      (prog[n] as ProgEntry).pred = r.pred;
      ptr = next + r.len;
      n++;
      for (;;) {
        const nx = ptr++;
        const c2 = ch(str, nx);
        if (isSpace(c2)) continue;
        if (c2 === '&' || c2 === '|') {
          if (ch(str, nx + 1) !== c2) perr('TOO_MANY_PREDS', nx);
          ptr++;
        } else if (c2 !== ')' && c2 !== '\0') {
          perr('TOO_MANY_PREDS', nx);
        }
        invert = top() & INVERT;
        if (top() & PROCESS_AND) {
          updatePreds(prog, n - 1, invert, dummy);
          setTop(top() & ~PROCESS_AND);
        }
        if (c2 === '&') {
          setTop(top() | PROCESS_AND);
          continue outer;
        }
        if (top() & PROCESS_OR) {
          updatePreds(prog, n - 1, invert ? 0 : 1, dummy);
          setTop(top() & ~PROCESS_OR);
        }
        if (c2 === '|') {
          setTop(top() | PROCESS_OR);
          continue outer;
        }
        if (c2 === '\0') break outer;
        if (stack.length === 1) perr('TOO_MANY_CLOSE', ptr);
        stack.pop();
      }
    }
    if (stack.length !== 1) perr('TOO_MANY_OPEN', ptr);
    if (n === 0) perr('NO_FILTER', ptr);
    prog[n] = { target: 1, whenToBranch: 0, pred: null };
    prog[n + 1] = { target: 0, whenToBranch: 0, pred: null };
    const last = prog[n - 1] as ProgEntry;
    last.target = n;
    last.whenToBranch = 0;
    for (let i = n - 1; i-- > 0; ) {
      const e = prog[i] as ProgEntry;
      const t = prog[e.target] ?? dummy;
      if (e.whenToBranch === t.whenToBranch) e.target = t.target;
    }
    for (let i = 0; i < n; i++) {
      const e = prog[i] as ProgEntry;
      e.whenToBranch = (inverts[i] ?? 0) ^ e.whenToBranch;
      if (e.target <= i) return { ok: false, errno: Errno.EINVAL, error: null };
    }
    return { ok: true, filter: { text: str, prog } };
  } catch (e) {
    if (!(e instanceof FilterAbort)) throw e;
    return { ok: false, errno: Errno.EINVAL, error: e.error };
  }
}

// ── evaluation ───────────────────────────────────────────────────────────────────────────────

/** What a record offers to a filter: raw field values plus the context pseudo fields. */
export interface FilterRecord {
  /**
   * Field values by name: numbers as their bit pattern (bigint or number), strings as text
   * (null = a faulted string read).
   */
  readonly fields: Readonly<Record<string, bigint | number | string | null | undefined>>;
  /** CPU the event fired on (the CPU/cpu pseudo fields). */
  readonly cpu: number;
  /** current->comm (the COMM/comm pseudo fields). */
  readonly comm: string;
  /** nr_cpu_ids, for cpumask predicates on numeric fields (default 8192). */
  readonly nrCpuIds?: number;
}

const TASK_COMM_LEN = 16;

function numeric(v: bigint | number | string | null | undefined, size: number): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number') b = BigInt(Math.trunc(v));
  else b = 0n;
  const bits = BigInt(size * 8);
  return size >= 8 ? b & U64_MASK : b & ((1n << bits) - 1n);
}

function signedAt(v: bigint, size: number): bigint {
  if (size >= 8) return toSigned64(v);
  return BigInt.asIntN(size * 8, v);
}

/** glob_match() of lib/glob.c: `*`, `?`, `[...]` (ranges, leading `!` negates), `\` escapes. */
export function globMatch(pat: string, str: string): boolean {
  const P = (i: number): string => (i < pat.length ? (pat[i] as string) : '\0');
  const S = (i: number): string => (i < str.length ? (str[i] as string) : '\0');
  let p = 0;
  let s = 0;
  let backP = -1;
  let backS = 0;
  for (;;) {
    const c = S(s++);
    let d = P(p++);
    let literal = false;
    let backtrack = false;
    switch (d) {
      case '?':
        if (c === '\0') return false;
        continue;
      case '*':
        if (P(p) === '\0') return true;
        backP = p;
        backS = --s;
        continue;
      case '[': {
        let match = false;
        const inverted = P(p) === '!';
        let cls = p + (inverted ? 1 : 0);
        let a = P(cls++);
        let malformed = false;
        do {
          let b = a;
          if (a === '\0') {
            malformed = true;
            break;
          }
          if (P(cls) === '-' && P(cls + 1) !== ']') {
            b = P(cls + 1);
            if (b === '\0') {
              malformed = true;
              break;
            }
            cls += 2;
          }
          if (a <= c && c <= b) match = true;
          a = P(cls++);
        } while (a !== ']');
        if (malformed) literal = true;
        else if (match === inverted) backtrack = true;
        else {
          p = cls;
          continue;
        }
        break;
      }
      case '\\':
        d = P(p++);
        literal = true;
        break;
      default:
        literal = true;
    }
    if (literal) {
      if (c === d) {
        if (d === '\0') return true;
        continue;
      }
      backtrack = true;
    }
    if (backtrack) {
      if (c === '\0' || backP < 0) return false;
      p = backP;
      s = ++backS;
    }
  }
}

/** strncmp(a, b, n) == 0 over NUL-terminated strings. */
function strnEq(a: string, b: string, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const x = i < a.length ? a[i] : '\0';
    const y = i < b.length ? b[i] : '\0';
    if (x !== y) return false;
    if (x === '\0') return true;
  }
  return true;
}

function regexMatch(r: Regex, str: string, len: number, buffer: string): boolean {
  switch (r.type) {
    case 'full':
      return len === 0 ? str === r.pattern : strnEq(str, r.pattern, len);
    case 'front':
      if (len !== 0 && len < r.pattern.length) return false;
      return strnEq(str, r.pattern, r.pattern.length);
    case 'middle':
      return str.slice(0, len === 0 ? undefined : len).includes(r.pattern);
    case 'end': {
      const strlen = len - 1;
      return strlen >= r.pattern.length && buffer.slice(strlen - r.pattern.length, strlen) === r.pattern;
    }
    case 'glob':
      return globMatch(r.pattern, str);
  }
}

function evalPred(p: FilterPredicate, rec: FilterRecord): number {
  const raw = rec.fields[p.field.name];
  switch (p.fn) {
    case 'nop':
      return 0;
    case 'eq': {
      const v = numeric(raw, p.field.size);
      return (v === numeric(p.val, p.field.size)) !== p.not ? 1 : 0;
    }
    case 'cmp': {
      let a = numeric(raw, p.field.size);
      let b = numeric(p.val, p.field.size);
      if (p.op === '&') return (a & b) !== 0n ? 1 : 0;
      if (p.field.signed) {
        a = signedAt(a, p.field.size);
        b = signedAt(b, p.field.size);
      }
      switch (p.op) {
        case '<': return a < b ? 1 : 0;
        case '<=': return a <= b ? 1 : 0;
        case '>': return a > b ? 1 : 0;
        case '>=': return a >= b ? 1 : 0;
        default: return 0;
      }
    }
    case 'cpu': {
      const cmp = Number(BigInt.asIntN(32, p.val));
      switch (p.op) {
        case '==': return rec.cpu === cmp ? 1 : 0;
        case '!=': return rec.cpu !== cmp ? 1 : 0;
        case '<': return rec.cpu < cmp ? 1 : 0;
        case '<=': return rec.cpu <= cmp ? 1 : 0;
        case '>': return rec.cpu > cmp ? 1 : 0;
        case '>=': return rec.cpu >= cmp ? 1 : 0;
        default: return 0;
      }
    }
    case 'cpu-cpumask':
    case 'num-cpumask': {
      let cpu = rec.cpu;
      if (p.fn === 'num-cpumask') {
        const v = numeric(raw, p.field.size);
        if (v >= BigInt(rec.nrCpuIds ?? 8192)) return 0;
        cpu = Number(v);
      }
      if (p.op === '==') return 0;
      if (p.op === '!=') return 1;
      return p.mask?.has(cpu) ? 1 : 0;
    }
    case 'comm': {
      if (!p.regex) return 0;
      const comm = rec.comm.slice(0, TASK_COMM_LEN - 1);
      const buffer = comm.padEnd(TASK_COMM_LEN, '\0');
      return regexMatch(p.regex, comm, TASK_COMM_LEN, buffer) !== p.not ? 1 : 0;
    }
    case 'strloc':
    case 'static-string':
    case 'pchar': {
      if (!p.regex) return 0;
      const s = typeof raw === 'string' ? raw : '';
      const len = p.fn === 'strloc' && typeof raw === 'string' ? s.length + 1 : p.fn === 'pchar' ? s.length + 1 : 0;
      return regexMatch(p.regex, s, len, `${s}\0`) !== p.not ? 1 : 0;
    }
    case 'function': {
      const v = numeric(raw, 8);
      const inRange = v >= p.val && v < p.val2;
      return (p.op === '==' ? inRange : !inRange) ? 1 : 0;
    }
  }
}

/** filter_match_preds(): true when the record passes the filter (R144). */
export function evaluateFilter(filter: CompiledFilter, rec: FilterRecord): boolean {
  const prog = filter.prog;
  let i = 0;
  for (; prog[i]?.pred; i++) {
    const e = prog[i] as ProgEntry;
    const match = evalPred(e.pred as FilterPredicate, rec);
    if (match === e.whenToBranch) i = e.target;
  }
  return (prog[i]?.target ?? 1) !== 0;
}

// ── the `filter` file ────────────────────────────────────────────────────────────────────────

export type FilterFileState =
  | { readonly kind: 'none' }
  | { readonly kind: 'active'; readonly filter: CompiledFilter }
  /** A failed write: the event is unfiltered and the file shows the error (R149). */
  | { readonly kind: 'error'; readonly text: string };

export const NO_FILTER: FilterFileState = { kind: 'none' };

export interface FilterWriteResult {
  readonly state: FilterFileState;
  /** 0 on success, else the positive errno of write(2). */
  readonly errno: number;
  /** The error_log entry to add (R163), with the loc "event filter parse error". */
  readonly logged: { readonly message: string; readonly command: string; readonly pos: number } | null;
}

/** PAGE_SIZE: a write must be shorter. */
export const FILTER_WRITE_MAX = 4096;

/** strim(): trailing whitespace is cut from the stored text (leading whitespace stays). */
function rtrim(s: string): string {
  let end = s.length;
  while (end > 0 && isSpace(s[end - 1])) end--;
  return s.slice(0, end);
}

/** apply_event_filter(): one write(2) to `events/GRP/EV/filter` (R140, R149, R163). */
export function writeFilterFile(state: FilterFileState, data: string, options: FilterParseOptions): FilterWriteResult {
  if (data.length >= FILTER_WRITE_MAX) return { state, errno: Errno.EINVAL, logged: null };
  const nul = data.indexOf('\0');
  const text = rtrim(nul >= 0 ? data.slice(0, nul) : data);
  if (text.replace(/^[\t\n\v\f\r ]+/, '') === '0') {
    return { state: NO_FILTER, errno: 0, logged: null };
  }
  const r = parseFilter(text, options);
  if (r.ok) return { state: { kind: 'active', filter: r.filter }, errno: 0, logged: null };
  let shown: string;
  let logged: FilterWriteResult['logged'];
  if (r.error) {
    let pos = Math.min(r.error.pos, text.length);
    if (pos) pos++;
    shown = `${text}\n${'^'.padStart(pos, ' ')}\nparse_error: ${r.error.message}\n`;
    logged = { message: r.error.message, command: text, pos: r.error.pos & 0xffff };
  } else {
    shown = `${text}\nError: (0)\n`;
    logged = { message: FILTER_ERROR_MESSAGES.ERRNO, command: text, pos: 0 };
  }
  return { state: { kind: 'error', text: shown }, errno: r.errno, logged };
}

/** The file's contents: `none`, the expression, or the error report (R140, R149). */
export function readFilterFile(state: FilterFileState): string {
  switch (state.kind) {
    case 'none':
      return 'none\n';
    case 'active':
      return `${state.filter.text}\n`;
    case 'error':
      return `${state.text}\n`;
  }
}

/** Does the event record pass the event's filter? (no filter / a failed filter: everything passes) */
export function filterAccepts(state: FilterFileState, rec: FilterRecord): boolean {
  return state.kind === 'active' ? evaluateFilter(state.filter, rec) : true;
}
