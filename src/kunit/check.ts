// What a KUNIT_EXPECT_* / KUNIT_ASSERT_* does when the module's code reaches it (include/kunit/
// test.h): evaluate its operands once each, test them, and only when the test fails evaluate the
// _MSG variant's format arguments and report (kunit_do_failed_assertion). The executor runs this
// with its own expression evaluator and memory (src/cexec), and turns a failure into what the
// KUnit runner reports (KunitEvent `check-failed`); an assertion also ends the test thread.

import type { Expr, KunitCheck } from '../c/index.ts';

/** What evaluating a check needs from the executor. */
export interface CheckEvaluator {
  /** An operand's value (integers and pointers as bigint; anything else counts as 0). */
  value(e: Expr): bigint;
  /** The NUL-terminated string at `addr` (a bounded read), or null when it cannot be read. */
  string(addr: bigint): string | null;
  /** The message of a _MSG variant: vsprintf of the format (a pointer) with the arguments' values. */
  format(fmt: bigint, args: readonly Expr[]): string;
}

export interface CheckOutcome {
  readonly passed: boolean;
  /** The operands' values as the failure report prints them: bigint, or the strings for STREQ (null: NULL). */
  readonly values: readonly (bigint | string | null)[];
  /** The formatted message (a failed _MSG variant or KUNIT_FAIL), else null. */
  readonly message: string | null;
}

/** IS_ERR_OR_NULL(): NULL or one of the top 4095 addresses (an error code in a pointer). */
const isErrOrNull = (v: bigint): boolean => {
  const u = BigInt.asUintN(64, v);
  return u === 0n || u >= 2n ** 64n - 4095n;
};

function compare(op: string, l: bigint, r: bigint): boolean {
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '<':
      return l < r;
    case '<=':
      return l <= r;
    case '>':
      return l > r;
    case '>=':
      return l >= r;
    default:
      return false;
  }
}

type OperandType = Expr['type'] | undefined;

/** The usual arithmetic conversions of two integer (or pointer) operands on LP64: signedness and width. */
function commonType(a: OperandType, b: OperandType): { readonly signed: boolean; readonly width: number } {
  const rank = (t: OperandType): { signed: boolean; size: number } =>
    t?.kind === 'int' ? (t.size < 4 ? { signed: true, size: 4 } : { signed: t.signed, size: t.size }) : { signed: false, size: 8 };
  const x = rank(a);
  const y = rank(b);
  if (x.signed === y.signed) return { signed: x.signed, width: 8 * Math.max(x.size, y.size) };
  const [u, s] = x.signed ? [y, x] : [x, y];
  // An unsigned operand at least as wide wins; else the wider signed type holds every value.
  return u.size >= s.size ? { signed: false, width: 8 * u.size } : { signed: true, width: 8 * s.size };
}

/** Runs one check the way the kernel's macro does. */
export function evaluateCheck(check: KunitCheck, ev: CheckEvaluator): CheckOutcome {
  let passed: boolean;
  let values: (bigint | string | null)[];
  switch (check.form) {
    case 'binary': {
      // The comparison is made in the operands' common type (C's usual arithmetic conversions:
      // -1 < 0u is false); the compiler may have folded a constant operand without converting it.
      const [l, r] = check.operands.map((o) => ev.value(o)) as [bigint, bigint];
      const { signed, width } = commonType(check.operands[0]?.type, check.operands[1]?.type);
      const norm = (v: bigint): bigint => (signed ? BigInt.asIntN(width, v) : BigInt.asUintN(width, v));
      passed = compare(check.op, norm(l), norm(r));
      values = [l, r];
      break;
    }
    case 'bool': {
      const v = ev.value(check.operands[0]!) !== 0n;
      passed = v === (check.op === 'true');
      values = [v ? 1n : 0n];
      break;
    }
    case 'ptr': {
      const v = ev.value(check.operands[0]!);
      const u = BigInt.asUintN(64, v);
      passed = check.op === 'null' ? u === 0n : check.op === 'not_null' ? u !== 0n : !isErrOrNull(v);
      values = [v];
      break;
    }
    case 'str': {
      const [l, r] = check.operands.map((o) => ev.string(ev.value(o))) as [string | null, string | null];
      const same = l !== null && r !== null && l === r;
      passed = check.op === '==' ? same : l !== null && r !== null && !same;
      values = [l, r];
      break;
    }
    case 'fail':
      passed = false;
      values = [];
      break;
  }
  if (passed) return { passed, values, message: null };
  const [fmt, ...args] = check.message;
  return { passed, values, message: fmt === undefined ? null : ev.format(ev.value(fmt), args) };
}
