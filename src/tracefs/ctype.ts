// Character classes and number parsing exactly as the kernel's lib/ctype.c and lib/kstrtox.c /
// lib/vsprintf.c do them. The probe parser's accept/reject decisions (and so which error wins)
// depend on these details: C base prefixes, a leading '+', overflow, trailing garbage.
//
// Text model: the kernel works on bytes; this module works on JS code units. ASCII behaves exactly
// as in the kernel. Code units >= 0x80 are treated as "other" (not a letter, digit or space), which
// matches the kernel for UTF-8 input in names (a UTF-8 continuation byte is never a letter), but not
// for the kernel's Latin-1 ctype quirks (e.g. byte 0xA0 counts as a space there).

import { Errno } from '../errno.ts';

export const U64_MASK = (1n << 64n) - 1n;
const I64_MIN_ABS = 1n << 63n;

/** isspace() for the characters argv_split() separates tokens at. */
export function isSpace(c: string | undefined): boolean {
  if (c === undefined || c === '') return false;
  const x = c.charCodeAt(0);
  return x === 0x20 || (x >= 0x09 && x <= 0x0d);
}

export function isDigit(c: string | undefined): boolean {
  if (c === undefined || c === '') return false;
  const x = c.charCodeAt(0);
  return x >= 0x30 && x <= 0x39;
}

export function isAlpha(c: string | undefined): boolean {
  if (c === undefined || c === '') return false;
  const x = c.charCodeAt(0);
  return (x >= 0x41 && x <= 0x5a) || (x >= 0x61 && x <= 0x7a);
}

export function isXDigit(c: string | undefined): boolean {
  if (c === undefined || c === '') return false;
  const x = c.charCodeAt(0);
  return isDigit(c) || (x >= 0x41 && x <= 0x46) || (x >= 0x61 && x <= 0x66);
}

/** is_good_name(): a C identifier (event names, argument names). */
export function isGoodName(name: string): boolean {
  const first = name[0];
  if (!isAlpha(first) && first !== '_') return false;
  for (let i = 1; i < name.length; i++) {
    const c = name[i];
    if (!isAlpha(c) && !isDigit(c) && c !== '_') return false;
  }
  return true;
}

/** is_good_system_name(): like a C identifier, but '-' is allowed anywhere (group names). */
export function isGoodSystemName(name: string): boolean {
  const first = name[0];
  if (!isAlpha(first) && first !== '_' && first !== '-') return false;
  for (let i = 1; i < name.length; i++) {
    const c = name[i];
    if (!isAlpha(c) && !isDigit(c) && c !== '_' && c !== '-') return false;
  }
  return true;
}

/** argv_split(): tokens separated by runs of isspace() characters; no quoting. */
export function argvSplit(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && isSpace(s[i])) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && !isSpace(s[i])) i++;
    out.push(s.slice(start, i));
  }
  return out;
}

function tolower(c: string): number {
  return c.charCodeAt(0) | 0x20;
}

/** _parse_integer_fixup_radix(): base 0 picks 16 ("0x" + hex digit), 8 (leading 0) or 10. */
function fixupRadix(s: string, i: number, base: number): { i: number; base: number } {
  let b = base;
  if (b === 0) {
    if (s[i] === '0') {
      const c1 = s[i + 1];
      b = c1 !== undefined && tolower(c1) === 0x78 && isXDigit(s[i + 2]) ? 16 : 8;
    } else {
      b = 10;
    }
  }
  let j = i;
  const c1 = s[j + 1];
  if (b === 16 && s[j] === '0' && c1 !== undefined && tolower(c1) === 0x78) j += 2;
  return { i: j, base: b };
}

/** _parse_integer(): digits of `base` from i; value modulo 2^64 plus an overflow flag. */
function parseDigits(s: string, i: number, base: number): { value: bigint; end: number; overflow: boolean } {
  let res = 0n;
  let overflow = false;
  let j = i;
  const b = BigInt(base);
  for (; j < s.length; j++) {
    const ch = s[j] as string;
    const x = ch.charCodeAt(0);
    let val: number;
    if (x >= 0x30 && x <= 0x39) val = x - 0x30;
    else {
      const l = tolower(ch);
      if (l >= 0x61 && l <= 0x66) val = l - 0x61 + 10;
      else break;
    }
    if (val >= base) break;
    const next = res * b + BigInt(val);
    if (next > U64_MASK) overflow = true;
    res = next & U64_MASK;
  }
  return { value: res, end: j, overflow };
}

/** A failed kstrto*() call: -EINVAL (not a number) or -ERANGE (overflow), as a positive errno. */
export interface StrtoxError {
  readonly errno: typeof Errno.EINVAL | typeof Errno.ERANGE;
}
const EINVAL_R: StrtoxError = { errno: Errno.EINVAL };
const ERANGE_R: StrtoxError = { errno: Errno.ERANGE };

/** _kstrtoull() (no leading '+'): the whole string must be a number, optionally followed by "\n". */
function kstrtoullNoPlus(s: string, base: number): bigint | StrtoxError {
  const r = fixupRadix(s, 0, base);
  const d = parseDigits(s, r.i, r.base);
  if (d.end === r.i) return EINVAL_R; // no digits
  if (d.overflow) return ERANGE_R;
  let end = d.end;
  if (s[end] === '\n') end++;
  if (end !== s.length) return EINVAL_R; // trailing garbage
  return d.value;
}

/** kstrtoull()/kstrtoul() on 64-bit: a leading '+' is allowed. */
export function kstrtoul(s: string, base: number): bigint | StrtoxError {
  return kstrtoullNoPlus(s[0] === '+' ? s.slice(1) : s, base);
}

/** kstrtouint(): like kstrtoul but the value must fit in 32 bits. */
export function kstrtouint(s: string, base: number): bigint | StrtoxError {
  const v = kstrtoul(s, base);
  if (typeof v !== 'bigint') return v;
  return v > 0xffffffffn ? ERANGE_R : v;
}

/** kstrtoll()/kstrtol() on 64-bit: optional '-' (then no '+') or '+'. */
export function kstrtol(s: string, base: number): bigint | StrtoxError {
  if (s[0] === '-') {
    const v = kstrtoullNoPlus(s.slice(1), base);
    if (typeof v !== 'bigint') return v;
    return v > I64_MIN_ABS ? ERANGE_R : -v;
  }
  const v = kstrtoul(s, base);
  if (typeof v !== 'bigint') return v;
  return v >= I64_MIN_ABS ? ERANGE_R : v;
}

/**
 * simple_strtoull(): parse as many digits as there are (no sign, no '+'), never fails; returns the
 * value modulo 2^64 and the index just past the digits (past the "0x" prefix when only the prefix
 * was consumed, as the kernel does).
 */
export function simpleStrtoul(s: string, start: number, base: number): { value: bigint; end: number } {
  const r = fixupRadix(s, start, base);
  const d = parseDigits(s, r.i, r.base);
  return { value: d.value, end: d.end };
}

/** Interpret a u64 as the signed 64-bit value the kernel would see. */
export function toSigned64(v: bigint): bigint {
  const m = v & U64_MASK;
  return m >= I64_MIN_ABS ? m - (1n << 64n) : m;
}

/** UTF-8 byte length of a JS string (tracefs limits are in bytes). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
