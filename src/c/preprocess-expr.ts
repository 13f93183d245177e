// The controlling expression of #if/#elif (C11 6.10.1): integer constant arithmetic in intmax_t
// or uintmax_t (64 bits), after `defined` has been replaced and macros expanded. Identifiers
// still left are 0 (with -Wundef's warning, which the kernel's build turns on).

import type { Diagnostic } from './diagnostics.ts';
import type { Token } from './lexer.ts';
import { parseCharConstant, parseIntegerLiteral } from './literals.ts';

interface Val {
  readonly v: bigint;
  readonly unsigned: boolean;
}

const M64 = (1n << 64n) - 1n;
const norm = (v: bigint, unsigned: boolean): Val => ({ v: unsigned ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v), unsigned });

class PPError extends Error {
  constructor(
    readonly tok: Token,
    msg: string,
  ) {
    super(msg);
  }
}

/** Evaluates `toks` (expanded) as an #if expression; `at` is the directive name for an empty one. */
export function evalIfExpression(
  toks: readonly Token[],
  at: Token,
  diags: Diagnostic[],
): boolean {
  if (toks.length === 0) {
    diags.push({ severity: 'error', message: `#${at.text} with no expression`, span: at.span });
    return false;
  }
  let i = 0;
  const peek = (): Token | undefined => toks[i];
  const is = (t: string): boolean => {
    const p = toks[i];
    return p !== undefined && p.kind === 'punct' && p.text === t;
  };
  const fail = (msg: string, tok: Token | undefined): never => {
    throw new PPError(tok ?? toks[toks.length - 1]!, msg);
  };

  const arith = (l: Val, r: Val): boolean => l.unsigned || r.unsigned;

  const primary = (evaluate: boolean): Val => {
    const t = peek();
    if (t === undefined) return fail('#if with no expression', at);
    if (t.kind === 'punct' && t.text === '(') {
      i++;
      const v = comma(evaluate);
      if (!is(')')) fail(`missing ')' in expression`, peek() ?? t);
      i++;
      return v;
    }
    if (t.kind === 'punct' && ['+', '-', '~', '!'].includes(t.text)) {
      i++;
      const v = primary(evaluate);
      switch (t.text) {
        case '+':
          return v;
        case '-':
          return norm(-v.v, v.unsigned);
        case '~':
          return norm(~v.v, v.unsigned);
        default:
          return { v: v.v === 0n ? 1n : 0n, unsigned: false };
      }
    }
    if (t.kind === 'number') {
      i++;
      const lit = parseIntegerLiteral(t.text);
      if (!lit) {
        if (/^[0-9]*\.|[eE][+-]?\d|^\d+[fF]$/.test(t.text) && !/^0[xX]/.test(t.text)) return fail('floating constant in preprocessor expression', t);
        return fail(`invalid integer constant in #if`, t);
      }
      return norm(lit.value, lit.unsigned || lit.value > 0x7fffffffffffffffn);
    }
    if (t.kind === 'char') {
      i++;
      const c = parseCharConstant(t.text);
      return { v: BigInt(c ?? 0), unsigned: false };
    }
    if (t.kind === 'ident') {
      i++;
      if (evaluate) {
        diags.push({ severity: 'warning', message: `"${t.text}" is not defined, evaluates to 0`, span: t.span, option: 'undef' });
      }
      return { v: 0n, unsigned: false };
    }
    if (t.kind === 'string') return fail(`token "${t.text}" is not valid in preprocessor expressions`, t);
    return fail(`token "${t.text}" is not valid in preprocessor expressions`, t);
  };

  const BIN: ReadonlyArray<readonly string[]> = [
    ['*', '/', '%'],
    ['+', '-'],
    ['<<', '>>'],
    ['<', '<=', '>', '>='],
    ['==', '!='],
    ['&'],
    ['^'],
    ['|'],
  ];

  const binary = (level: number, evaluate: boolean): Val => {
    if (level < 0) return primary(evaluate);
    let l = binary(level - 1, evaluate);
    for (;;) {
      const t = peek();
      if (!t || t.kind !== 'punct' || !BIN[level]!.includes(t.text)) return l;
      i++;
      const r = binary(level - 1, evaluate);
      const u = arith(l, r);
      const a = u ? BigInt.asUintN(64, l.v) : l.v;
      const b = u ? BigInt.asUintN(64, r.v) : r.v;
      switch (t.text) {
        case '*':
          l = norm(a * b, u);
          break;
        case '/':
        case '%':
          if (b === 0n) {
            if (evaluate) fail('division by zero in #if', t);
            l = { v: 0n, unsigned: u };
          } else {
            l = norm(t.text === '/' ? a / b : a % b, u);
          }
          break;
        case '+':
          l = norm(a + b, u);
          break;
        case '-':
          l = norm(a - b, u);
          break;
        case '<<':
          l = norm(r.v < 0n ? a >> -r.v : a << (r.v & 127n), l.unsigned);
          break;
        case '>>': {
          const la = l.unsigned ? BigInt.asUintN(64, l.v) : l.v;
          l = norm(r.v < 0n ? la << -r.v : la >> (r.v > 64n ? 64n : r.v), l.unsigned);
          break;
        }
        case '<':
          l = { v: a < b ? 1n : 0n, unsigned: false };
          break;
        case '<=':
          l = { v: a <= b ? 1n : 0n, unsigned: false };
          break;
        case '>':
          l = { v: a > b ? 1n : 0n, unsigned: false };
          break;
        case '>=':
          l = { v: a >= b ? 1n : 0n, unsigned: false };
          break;
        case '==':
          l = { v: a === b ? 1n : 0n, unsigned: false };
          break;
        case '!=':
          l = { v: a !== b ? 1n : 0n, unsigned: false };
          break;
        case '&':
          l = norm(a & b & M64, u);
          break;
        case '^':
          l = norm((a ^ b) & M64, u);
          break;
        default:
          l = norm((a | b) & M64, u);
      }
    }
  };

  const logicalAnd = (evaluate: boolean): Val => {
    let l = binary(BIN.length - 1, evaluate);
    while (is('&&')) {
      i++;
      const r = binary(BIN.length - 1, evaluate && l.v !== 0n);
      l = { v: l.v !== 0n && r.v !== 0n ? 1n : 0n, unsigned: false };
    }
    return l;
  };
  const logicalOr = (evaluate: boolean): Val => {
    let l = logicalAnd(evaluate);
    while (is('||')) {
      i++;
      const r = logicalAnd(evaluate && l.v === 0n);
      l = { v: l.v !== 0n || r.v !== 0n ? 1n : 0n, unsigned: false };
    }
    return l;
  };
  const conditional = (evaluate: boolean): Val => {
    const c = logicalOr(evaluate);
    if (!is('?')) return c;
    const q = peek()!;
    i++;
    const a = comma(evaluate && c.v !== 0n);
    if (!is(':')) fail(`'?' without following ':'`, peek() ?? q);
    i++;
    const b = conditional(evaluate && c.v === 0n);
    const u = a.unsigned || b.unsigned;
    return norm(c.v !== 0n ? a.v : b.v, u);
  };
  const comma = (evaluate: boolean): Val => {
    let v = conditional(evaluate);
    while (is(',')) {
      i++;
      v = conditional(evaluate);
    }
    return v;
  };

  try {
    const v = comma(true);
    if (i < toks.length) {
      const t = toks[i]!;
      if (t.kind === 'punct' && t.text === ')') fail(`missing '(' in expression`, t);
      fail(`missing binary operator before token "${t.text}"`, t);
    }
    return v.v !== 0n;
  } catch (e) {
    if (!(e instanceof PPError)) throw e;
    diags.push({ severity: 'error', message: e.message, span: e.tok.span });
    return false;
  }
}
