import { atLeast, type KernelVersion } from '../kernel/index.ts';
import type { SymbolTable } from '../kernel/index.ts';
import { hashPointer } from '../kprobes/printk-format.ts';

// The kernel's vsprintf (lib/vsprintf.c) for the formats modules print with: flags (-+ #0),
// width and precision (also `*`), length modifiers (hh h l ll z t), %d %i %u %x %X %o %c %s %%,
// and the pointer extensions: %p hashed as the release does (v4.15+: a keyed hash, 16 digits;
// v4.14: the address), %px raw, %pS/%pB `sym+off/size`, %ps `sym`, %pK like %p. A string
// argument that cannot be read prints "(efault)", NULL "(null)".

export interface FormatEnv {
  readonly kernel: KernelVersion;
  readonly ptrKey: number;
  readonly symbols: SymbolTable;
  /** A NUL-terminated string at `addr` (at most `max` bytes), or undefined when it cannot be read. */
  readString(addr: bigint, max: number): string | undefined;
}

/** One argument: its value (already promoted) and whether its type is signed. */
export interface FormatArg {
  readonly value: bigint;
  readonly signed: boolean;
}

function pad(s: string, width: number, left: boolean, zero: boolean): string {
  if (s.length >= width) return s;
  if (left) return s + ' '.repeat(width - s.length);
  if (zero) {
    const sign = /^[-+ ]/.test(s) ? s[0]! : '';
    const prefix = /^[-+ ]?0[xX]/.test(s) ? s.slice(0, sign.length + 2) : sign;
    return prefix + '0'.repeat(width - s.length) + s.slice(prefix.length);
  }
  return ' '.repeat(width - s.length) + s;
}

function pointerText(v: bigint, ext: string, env: FormatEnv): string {
  const p = BigInt.asUintN(64, v);
  const raw = (): string => p.toString(16).padStart(16, '0');
  switch (ext) {
    case 'x':
      return raw();
    case 'S':
    case 'B':
    case 'F':
      return env.symbols.format(p) ?? `0x${p.toString(16)}`;
    case 's':
    case 'f': {
      const s = env.symbols.containing(p);
      return s?.name ?? `0x${p.toString(16)}`;
    }
    default:
      // v5.3 stopped hiding NULL and error pointers behind the hash; before, NULL printed "(null)".
      if (p === 0n) return atLeast(env.kernel, '5.3') ? raw() : '(null)';
      if (!atLeast(env.kernel, '4.15')) return raw();
      return hashPointer(p, env.ptrKey);
  }
}

/** The text `fmt` formats to. */
export function vsprintf(fmt: string, args: readonly FormatArg[], env: FormatEnv): string {
  let out = '';
  let ai = 0;
  const next = (): FormatArg => args[ai++] ?? { value: 0n, signed: false };
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i]!;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    let j = i + 1;
    let left = false;
    let plus = false;
    let space = false;
    let alt = false;
    let zero = false;
    for (; j < fmt.length; j++) {
      const f = fmt[j];
      if (f === '-') left = true;
      else if (f === '+') plus = true;
      else if (f === ' ') space = true;
      else if (f === '#') alt = true;
      else if (f === '0') zero = true;
      else break;
    }
    let width = 0;
    if (fmt[j] === '*') {
      width = Number(BigInt.asIntN(32, next().value));
      if (width < 0) {
        left = true;
        width = -width;
      }
      j++;
    } else while (j < fmt.length && fmt[j]! >= '0' && fmt[j]! <= '9') width = width * 10 + Number(fmt[j++]);
    let precision: number | undefined;
    if (fmt[j] === '.') {
      j++;
      precision = 0;
      if (fmt[j] === '*') {
        precision = Math.max(0, Number(BigInt.asIntN(32, next().value)));
        j++;
      } else while (j < fmt.length && fmt[j]! >= '0' && fmt[j]! <= '9') precision = precision * 10 + Number(fmt[j++]);
    }
    let bits = 32;
    if (fmt.startsWith('hh', j)) {
      bits = 8;
      j += 2;
    } else if (fmt[j] === 'h') {
      bits = 16;
      j++;
    } else if (fmt.startsWith('ll', j)) {
      bits = 64;
      j += 2;
    } else if (fmt[j] === 'l' || fmt[j] === 'z' || fmt[j] === 't' || fmt[j] === 'L' || fmt[j] === 'j') {
      bits = 64;
      j++;
    }
    const conv = fmt[j];
    i = j;
    switch (conv) {
      case '%':
        out += '%';
        break;
      case 'd':
      case 'i': {
        let v = BigInt.asIntN(bits, next().value);
        let s = (v < 0n ? -v : v).toString();
        if (precision !== undefined) s = s.padStart(precision, '0');
        s = (v < 0n ? '-' : plus ? '+' : space ? ' ' : '') + s;
        out += pad(s, width, left, zero && precision === undefined);
        v = 0n;
        break;
      }
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        const v = BigInt.asUintN(bits, next().value);
        const radix = conv === 'u' ? 10 : conv === 'o' ? 8 : 16;
        let s = v.toString(radix);
        if (conv === 'X') s = s.toUpperCase();
        if (precision !== undefined) s = s.padStart(precision, '0');
        if (alt && v !== 0n && conv !== 'u') s = (conv === 'o' ? '0' : conv === 'x' ? '0x' : '0X') + s;
        out += pad(s, width, left, zero && precision === undefined);
        break;
      }
      case 'c':
        out += pad(String.fromCharCode(Number(BigInt.asUintN(8, next().value))), width, left, false);
        break;
      case 's': {
        const p = BigInt.asUintN(64, next().value);
        let s = p === 0n ? '(null)' : (env.readString(p, precision ?? 4096) ?? '(efault)');
        if (precision !== undefined) s = s.slice(0, precision);
        out += pad(s, width, left, false);
        break;
      }
      case 'p': {
        let ext = '';
        const e = fmt[j + 1];
        if (e !== undefined && /[a-zA-Z]/.test(e)) {
          ext = e;
          i = j + 1;
        }
        out += pad(pointerText(next().value, ext, env), width, left, false);
        break;
      }
      default:
        // An unknown conversion prints as it stands (the kernel warns once).
        out += fmt.slice(i - (j - i), j + 1);
        break;
    }
  }
  return out;
}

/**
 * printk's level prefix (KERN_SOH and a level digit, or 'c' for KERN_CONT) and text: the level is
 * the kernel's (default 4, warning), the text without the prefix.
 */
export function splitLevel(text: string): { level: number | 'cont'; text: string } {
  let level: number | 'cont' = 4;
  let t = text;
  while (t.charCodeAt(0) === 1 && t.length >= 2) {
    const c = t[1]!;
    if (c >= '0' && c <= '7') level = Number(c);
    else if (c === 'c') level = 'cont';
    t = t.slice(2);
  }
  return { level, text: t };
}
