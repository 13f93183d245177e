// A KUNIT_EXPECT_*/KUNIT_ASSERT_* evaluated as include/kunit/test.h does: the operands in the
// common type the compiler chose (C's usual arithmetic conversions: -1 < 0u is false), a failed
// check's values and _MSG text, IS_ERR_OR_NULL for NOT_ERR_OR_NULL, strcmp for STREQ. The checks
// come from a module compiled by the C front end; the evaluator here knows constants and casts.

import { describe, expect, it } from 'vitest';
import { compileModule, type Expr, type KunitCheck } from '../src/c/index.ts';
import { evaluateCheck, type CheckEvaluator } from '../src/kunit/check.ts';

function checksOf(body: string): KunitCheck[] {
  const src = `#include <kunit/test.h>\nstatic void case_a(struct kunit *test)\n{\n${body}\n}\nstatic struct kunit_case cases[] = { KUNIT_CASE(case_a), {} };\nstatic struct kunit_suite s = { .name = "s", .test_cases = cases };\nkunit_test_suites(&s);\nMODULE_LICENSE("GPL");\n`;
  const r = compileModule(src, 'checks.c', { arch: 'x86_64', kernel: '6.17' });
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics.map((d) => d.message)));
  const found: KunitCheck[] = [];
  const walk = (x: unknown): void => {
    if (typeof x !== 'object' || x === null) return;
    if ((x as { k?: string; kunit?: KunitCheck }).k === 'builtin' && (x as { kunit?: KunitCheck }).kunit) found.push((x as { kunit: KunitCheck }).kunit);
    for (const v of Object.values(x)) if (typeof v === 'object' && v !== null && !('file' in v && 'lineStarts' in v)) walk(v);
  };
  walk(r.module.functions.find((f) => f.name === 'case_a')!.code);
  return found;
}

/** Constants and casts of constants, wrapped to their type as C converts. */
const value = (e: Expr): bigint => {
  if (e.k === 'const') return e.value;
  if (e.k === 'cast') {
    const v = value(e.operand);
    const t = e.type;
    if (t.kind === 'int') return t.signed ? BigInt.asIntN(t.size * 8, v) : BigInt.asUintN(t.size * 8, v);
    return BigInt.asUintN(64, v);
  }
  if (e.k === 'unary' && e.op === '-') return -value(e.operand);
  // A string literal's address: the test's format() does not read it.
  if (e.k === 'decay') return 0n;
  throw new Error(`not a constant: ${e.k}`);
};
const ev: CheckEvaluator = { value, string: (a) => (a === 0n ? null : `s${a}`), format: (_fmt, args) => `msg ${args.map((a) => value(a)).join(',')}` };

describe('evaluateCheck', () => {
  it('compares in the operands\' common type: -1 < 0u is false (unsigned), -1 < 0 is true', () => {
    const [u, s] = checksOf('\tKUNIT_EXPECT_LT(test, -1, 0u);\n\tKUNIT_EXPECT_LT(test, -1, 0);');
    expect(evaluateCheck(u!, ev)).toMatchObject({ passed: false, message: null });
    expect(evaluateCheck(s!, ev).passed).toBe(true);
  });

  it('gives a failed _MSG variant its formatted message, and none when it passes', () => {
    const [bad, good] = checksOf('\tKUNIT_EXPECT_EQ_MSG(test, 1, 2, "seed %d", 7);\n\tKUNIT_EXPECT_EQ_MSG(test, 2, 2, "seed %d", 7);');
    expect(evaluateCheck(bad!, ev)).toMatchObject({ passed: false, values: [1n, 2n], message: 'msg 7' });
    expect(evaluateCheck(good!, ev)).toEqual({ passed: true, values: [2n, 2n], message: null });
  });

  it('TRUE/FALSE test truth; NULL, NOT_NULL and NOT_ERR_OR_NULL test the pointer', () => {
    const checks = checksOf(
      '\tKUNIT_EXPECT_TRUE(test, 0);\n\tKUNIT_EXPECT_FALSE(test, 0);\n\tKUNIT_EXPECT_NULL(test, (void *)0);\n\tKUNIT_EXPECT_NOT_NULL(test, (void *)0);\n\tKUNIT_EXPECT_NOT_ERR_OR_NULL(test, (void *)-22L);\n\tKUNIT_EXPECT_NOT_ERR_OR_NULL(test, (void *)4096);',
    );
    expect(checks.map((c) => evaluateCheck(c, ev).passed)).toEqual([false, true, true, false, false, true]);
  });

  it('STREQ compares the strings the pointers lead to; KUNIT_FAIL always fails with its message', () => {
    const [eq, fail] = checksOf('\tKUNIT_EXPECT_STREQ(test, (char *)8, (char *)9);\n\tKUNIT_FAIL(test, "never %d", 3);');
    expect(evaluateCheck(eq!, ev)).toEqual({ passed: false, values: ['s8', 's9'], message: null });
    expect(evaluateCheck(fail!, ev)).toEqual({ passed: false, values: [], message: 'msg 3' });
  });
});
