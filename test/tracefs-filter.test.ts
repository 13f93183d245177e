// Event filters (spec §17, R140, R144–R149, R163). Error positions follow the kernel's
// trace_events_filter.c (the spec gives the messages and says the caret is at the parser's
// position, clamped to the expression length).

import { describe, expect, it } from 'vitest';
import {
  evaluateFilter,
  filterFieldTable,
  FILTER_ERROR_MESSAGES,
  globMatch,
  NO_FILTER,
  parseFilter,
  readFilterFile,
  writeFilterFile,
  type FilterParseOptions,
  type FilterRecord,
} from '../src/tracefs/filter.ts';
import { parseProbeCommand } from '../src/tracefs/grammar.ts';
import { simpleContext } from '../src/tracefs/simple-context.ts';
import type { ProbeDefinition } from '../src/tracefs/types.ts';

const ctx = simpleContext({ symbols: ['vfs_read', 'kernel_clone'] });
function define(cmd: string): ProbeDefinition {
  const r = parseProbeCommand(cmd, ctx);
  if (!r.ok || r.command.kind !== 'define') throw new Error(`bad command ${cmd}`);
  return r.command.probe;
}
const probe = define('p:ev vfs_read n=%ax:u32 s=%bx:s32 x=%cx f=+0(%di):string b=%dx:u8');
const opts: FilterParseOptions = { findField: filterFieldTable(probe) };

function rec(fields: FilterRecord['fields'], extra: Partial<FilterRecord> = {}): FilterRecord {
  return { fields, cpu: 0, comm: 'bash', ...extra };
}
function accepts(expr: string, r: FilterRecord): boolean {
  const p = parseFilter(expr, opts);
  if (!p.ok) throw new Error(`filter ${expr} rejected: ${p.error?.message}`);
  return evaluateFilter(p.filter, r);
}
function expectFilterError(expr: string, message: string, pos: number): void {
  const p = parseFilter(expr, opts);
  expect(p.ok).toBe(false);
  if (p.ok) return;
  expect(p.error).toEqual({ key: expect.any(String), message, pos });
}

describe('§17 filter language', () => {
  it('R146: numeric operators', () => {
    const r = rec({ n: 5n, s: 0xfffffffen, x: 0x10n });
    expect(accepts('n == 5', r)).toBe(true);
    expect(accepts('n != 5', r)).toBe(false);
    expect(accepts('n < 6 && n <= 5 && n > 4 && n >= 5', r)).toBe(true);
    expect(accepts('x & 0x10', r)).toBe(true);
    expect(accepts('x & 0x01', r)).toBe(false);
  });
  it('R146: signed fields accept negative values and compare signed', () => {
    const r = rec({ s: 0xfffffffen }); // -2 as s32
    expect(accepts('s == -2', r)).toBe(true);
    expect(accepts('s < 0', r)).toBe(true);
    expect(accepts('n > 0', rec({ n: 0xfffffffen }))).toBe(true);
  });
  it('R145: && binds tighter than ||; ! negates a predicate or a group', () => {
    const r = rec({ n: 1n, s: 2n, x: 3n });
    expect(accepts('n == 0 || s == 2 && x == 3', r)).toBe(true);
    expect(accepts('(n == 0 || s == 2) && x == 4', r)).toBe(false);
    expect(accepts('!n == 0', r)).toBe(true);
    expect(accepts('!(n == 1 && s == 2)', r)).toBe(false);
    expect(accepts('!(n == 0 || s == 0) && x == 3', r)).toBe(true);
  });
  it('R147: string fields: ==, != and ~ globs; values quoted', () => {
    const r = rec({ f: 'hello.txt' });
    expect(accepts('f == "hello.txt"', r)).toBe(true);
    expect(accepts("f != 'hello.txt'", r)).toBe(false);
    expect(accepts('f ~ "hello*"', r)).toBe(true);
    expect(accepts('f ~ "*.txt"', r)).toBe(true);
    expect(accepts('f ~ "*llo*"', r)).toBe(true);
    expect(accepts('f ~ "h?llo.[st]xt"', r)).toBe(true);
    expect(accepts('f ~ "!hello*"', r)).toBe(false);
  });
  it('R148: pseudo fields CPU/cpu and COMM/comm; common_* fields', () => {
    const r = rec({ common_pid: 572 }, { cpu: 2, comm: 'sh' });
    expect(accepts('CPU == 2 && cpu >= 1', r)).toBe(true);
    expect(accepts('comm == "sh" && COMM ~ "s*"', r)).toBe(true);
    expect(accepts('common_pid != 572', r)).toBe(false);
    expect(accepts('common_pid != 572', rec({ common_pid: 606 }))).toBe(true); // seed 003 §2.2
  });
  it('R148: an event field named like a pseudo field takes precedence', () => {
    const p = define('p:ev vfs_read comm=%ax');
    const f = parseFilter('comm == 7', { findField: filterFieldTable(p) });
    expect(f.ok).toBe(true);
  });
  it('R148 (kernel source): a *suffix glob on comm only matches 15-character names', () => {
    expect(accepts('comm ~ "*sh"', rec({}, { comm: 'bash' }))).toBe(false);
    expect(accepts('comm ~ "*sh"', rec({}, { comm: 'abcdefghijklmsh' }))).toBe(true);
  });
  it('CPUS{…} lists', () => {
    expect(accepts('CPU & CPUS{1,3}', rec({}, { cpu: 3 }))).toBe(true);
    expect(accepts('CPU & CPUS{1,3}', rec({}, { cpu: 2 }))).toBe(false);
    expect(accepts('CPU == CPUS{2}', rec({}, { cpu: 2 }))).toBe(true);
  });
  it('glob_match()', () => {
    expect(globMatch('a*b?c', 'axxbyc')).toBe(true);
    expect(globMatch('[!a-c]x', 'dx')).toBe(true);
    expect(globMatch('[!a-c]x', 'bx')).toBe(false);
    expect(globMatch('\\*', '*')).toBe(true);
    expect(globMatch('a[', 'a[')).toBe(true);
  });
});

describe('R149 filter errors (kernel source positions)', () => {
  it('Field not found (position one past the name, as the kernel counts)', () => {
    expectFilterError('nosuch == 1', 'Field not found', 7);
  });
  it('Illegal operation for field type', () => {
    expectFilterError('comm < "x"', 'Illegal operation for field type', 8);
    expectFilterError('n ~ 1', 'Illegal operation for field type', 5);
  });
  it('Expecting string field / Expecting numeric field', () => {
    expectFilterError('comm == 1', 'Expecting string field', 9);
    expectFilterError('n == "x"', 'Expecting numeric field', 6);
  });
  it('Invalid value (did you forget quotes)?', () => {
    expectFilterError('comm == bash', 'Invalid value (did you forget quotes)?', 9);
  });
  it('Invalid operator', () => {
    expectFilterError('n = 1', 'Invalid operator', 3);
  });
  it('Illegal integer value', () => {
    expectFilterError('n == 12z', 'Illegal integer value', 6);
  });
  it('unbalanced parentheses and quotes', () => {
    expectFilterError('(n == 1', "Too many '('", 0);
    expectFilterError('n == 1)', "Too few '('", 6);
    expectFilterError('f == "abc', 'Missing matching quote', 5);
  });
  it('two predicates without an operator → Too many terms', () => {
    expectFilterError('n == 1 s == 2', 'Too many terms in predicate expression', 7);
  });
});

describe('R140/R149 the filter file', () => {
  it('reads none until a filter is set; 0 clears it', () => {
    expect(readFilterFile(NO_FILTER)).toBe('none\n');
    const w = writeFilterFile(NO_FILTER, 'common_pid!=572\n', opts);
    expect(w).toMatchObject({ errno: 0, logged: null });
    expect(readFilterFile(w.state)).toBe('common_pid!=572\n');
    const cleared = writeFilterFile(w.state, '0\n', opts);
    expect(readFilterFile(cleared.state)).toBe('none\n');
  });
  it('an invalid expression fails with EINVAL and shows the expression, a caret and parse_error', () => {
    const w = writeFilterFile(NO_FILTER, 'nosuch == 1\n', opts);
    expect(w.errno).toBe(22);
    expect(readFilterFile(w.state)).toBe('nosuch == 1\n       ^\nparse_error: Field not found\n\n');
    expect(w.logged).toEqual({ message: FILTER_ERROR_MESSAGES.FIELD_NOT_FOUND, command: 'nosuch == 1', pos: 7 });
  });
  it('an empty filter fails without a specific message (Error: (0))', () => {
    const w = writeFilterFile(NO_FILTER, '\n', opts);
    expect(w.errno).toBe(22);
    expect(readFilterFile(w.state)).toBe('\nError: (0)\n\n');
    expect(w.logged).toEqual({ message: 'Error', command: '', pos: 0 });
  });
});
