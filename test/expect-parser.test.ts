import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Node } from '../src/expect/ast.ts';
import { ExprError, parseExpr } from '../src/expect/compile.ts';
import { expectParserSource } from '../scripts/expect-grammar.ts';
import { shape } from './expect-shape.ts';

// The expect language's parser (docs/expect.md, "Grammar"): generated from src/expect/grammar.peggy,
// committed, and it builds the tree the grammar says, with the places errors name.


function errorAt(text: string): { offset: number; message: string } {
  try {
    parseExpr(text);
  } catch (e) {
    if (e instanceof ExprError) return { offset: e.offset, message: e.message };
    throw e;
  }
  throw new Error(`${text} parsed`);
}

describe('src/expect/parser.ts', () => {
  it('is what peggy generates from src/expect/grammar.peggy (regenerate with `npm run grammar`)', async () => {
    expect(readFileSync('src/expect/parser.ts', 'utf8')).toBe(await expectParserSource());
  });

  it('binds operators loosest first, as C does: =>, ||, &&, comparisons, + -, * / %, prefix ! and -, then . and [ ]', () => {
    expect(shape(parseExpr('a || b && c'))).toBe('(a || (b && c))');
    expect(shape(parseExpr('a && b || c'))).toBe('((a && b) || c)');
    // `!` binds tighter than a comparison, as in C.
    expect(shape(parseExpr('!x == y'))).toBe('((!x) == y)');
    expect(shape(parseExpr('!(x == y)'))).toBe('(!(x == y))');
    expect(shape(parseExpr('a == !b.c'))).toBe('(a == (!b.c))');
    // Implication is right-associative: a => (b => c).
    expect(shape(parseExpr('a => b => c'))).toBe('(a => (b => c))');
    expect(shape(parseExpr('a || b => c'))).toBe('((a || b) => c)');
    expect(shape(parseExpr('1 + 2 * 3 - 4'))).toBe('((1 + (2 * 3)) - 4)');
    expect(shape(parseExpr('8 / 4 % 3'))).toBe('((8 / 4) % 3)');
    expect(shape(parseExpr('-x.y * 2'))).toBe('((-x.y) * 2)');
    expect(shape(parseExpr('count(c in cpus: c.id > 0) + count(cpus)'))).toBe('(count(c in cpus: (c.id > 0)) + count(cpus))');
    expect(shape(parseExpr('probes["kp"].hits'))).toBe('probes["kp"].hits');
    expect(shape(parseExpr(' ( a )\n&&\tb '))).toBe('(a && b)');
  });

  it('reads integers (decimal, 0x hex), strings with escapes, true, false, null', () => {
    expect(parseExpr('0x1F')).toMatchObject({ kind: 'int', value: 31 });
    expect(parseExpr('42')).toMatchObject({ kind: 'int', value: 42 });
    expect(parseExpr('"a\\"b\\\\c"')).toMatchObject({ kind: 'string', value: 'a"b\\c' });
    expect(parseExpr('true')).toMatchObject({ kind: 'bool', value: true });
    expect(parseExpr('null')).toMatchObject({ kind: 'null' });
    // A keyword is a whole word: `trueish` and `inx` are names.
    expect(parseExpr('trueish')).toMatchObject({ kind: 'name', name: 'trueish' });
    expect(parseExpr('inx')).toMatchObject({ kind: 'name', name: 'inx' });
  });

  it('records where each node and each operator is (character offsets)', () => {
    const n = parseExpr('probes.kp.hitz > 0') as Extract<Node, { kind: 'binary' }>;
    expect(n.at).toBe(15); // the ">"
    const field = n.left as Extract<Node, { kind: 'field' }>;
    expect([field.name, field.at, field.start, field.end]).toEqual(['hitz', 10, 0, 14]);
  });

  it('names the place of a syntax error and what was expected there', () => {
    expect(errorAt('probes.kp.hits +')).toEqual({ offset: 16, message: 'expected "!", "(", "-", "false", "null", "true", a name, a string, or an integer, found the end' });
    expect(errorAt('')).toEqual({ offset: 0, message: 'expected "!", "(", "-", "false", "null", "true", a name, a string, or an integer, found the end' });
    expect(errorAt('1 < 2 < 3')).toEqual({ offset: 6, message: 'comparisons do not chain: write a < b && b < c' });
    expect(errorAt('count(c in cpus: true').offset).toBe(21);
    expect(errorAt('"open').offset).toBe(0);
    expect(errorAt('a ==').message).toMatch(/^expected .*found the end$/);
    expect(errorAt('a $ b')).toMatchObject({ offset: 2 });
  });
});
