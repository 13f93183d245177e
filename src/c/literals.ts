// C literals: integer constants with their suffixes, character constants and string literals
// decoded to the bytes the object file would hold (UTF-8 for non-ASCII source characters).

export interface IntegerLiteral {
  readonly value: bigint;
  /** A `u`/`U` suffix. */
  readonly unsigned: boolean;
  /** 0, 1 (`l`) or 2 (`ll`). */
  readonly longs: 0 | 1 | 2;
  /** Decimal constants without `u` never become unsigned types (C11 6.4.4.1). */
  readonly decimal: boolean;
}

/** Parses an integer constant (`42`, `0x1fUL`, `0644`, `0b101`); undefined if the spelling is not one. */
export function parseIntegerLiteral(text: string): IntegerLiteral | undefined {
  const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)([uU]?(?:ll|LL|l|L)?|(?:ll|LL|l|L)[uU]?)$/.exec(text);
  if (!m) return undefined;
  const digits = m[1]!;
  const suffix = m[2]!.toLowerCase();
  let value: bigint;
  if (/^0[xX]/.test(digits) || /^0[bB]/.test(digits)) value = BigInt(digits.toLowerCase());
  else if (digits.length > 1 && digits.startsWith('0')) value = BigInt('0o' + digits.slice(1));
  else value = BigInt(digits);
  const longs = suffix.includes('ll') ? 2 : suffix.includes('l') ? 1 : 0;
  return { value, unsigned: suffix.includes('u'), longs, decimal: !/^0./.test(digits) || digits === '0' };
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, e: 27, E: 27, '\\': 92, "'": 39, '"': 34, '?': 63,
};

export interface DecodeProblem {
  /** Offset in the literal's spelling. */
  readonly at: number;
  readonly message: string;
}

/**
 * The bytes between the quotes of a character constant or string literal (no prefix handling
 * beyond skipping it: the kernel's strings are plain char). Problems are reported, not thrown.
 */
export function decodeLiteralBody(spelling: string): { bytes: number[]; problems: DecodeProblem[] } {
  const q = spelling.search(/["']/);
  const body = spelling.slice(q + 1, spelling.length - 1);
  const bytes: number[] = [];
  const problems: DecodeProblem[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < body.length; ) {
    const c = body[i]!;
    if (c !== '\\') {
      const cp = body.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      for (const b of enc.encode(ch)) bytes.push(b);
      i += ch.length;
      continue;
    }
    const e = body[i + 1] ?? '';
    if (e in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[e]!);
      i += 2;
    } else if (/[0-7]/.test(e)) {
      let j = i + 1;
      let v = 0;
      while (j < body.length && j < i + 4 && /[0-7]/.test(body[j]!)) v = v * 8 + Number(body[j++]);
      if (v > 255) problems.push({ at: q + 1 + i, message: 'octal escape sequence out of range' });
      bytes.push(v & 255);
      i = j;
    } else if (e === 'x') {
      let j = i + 2;
      let v = 0n;
      while (j < body.length && /[0-9a-fA-F]/.test(body[j]!)) v = v * 16n + BigInt(parseInt(body[j++]!, 16));
      if (j === i + 2) problems.push({ at: q + 1 + i, message: '\\x used with no following hex digits' });
      else if (v > 255n) problems.push({ at: q + 1 + i, message: 'hex escape sequence out of range' });
      bytes.push(Number(v & 255n));
      i = j;
    } else {
      problems.push({ at: q + 1 + i, message: `unknown escape sequence: '\\${e}'` });
      for (const b of enc.encode(e)) bytes.push(b);
      i += 2;
    }
  }
  return { bytes, problems };
}

/**
 * The value of a character constant ('a', '\n', '\0'): an int; a single char is sign-extended
 * when plain char is signed (x86_64 before v6.2's -funsigned-char; see kernel-api.ts).
 */
export function parseCharConstant(spelling: string, charSigned = false): number | undefined {
  const { bytes } = decodeLiteralBody(spelling);
  if (bytes.length === 0) return undefined;
  // A multi-character constant is gcc's big-endian packing of the last four chars.
  let v = 0;
  for (const b of bytes.slice(-4)) v = ((v << 8) | b) >>> 0;
  if (bytes.length === 1) return charSigned ? (bytes[0]! << 24) >> 24 : bytes[0]!;
  return v | 0;
}
