// What a KUnit run of a module found, as the KTAP printer (ktap.ts) takes it: per suite, per case,
// the case's status and, in the order they happened, the lines KUnit logged for it (failed
// checks, kunit_info/kunit_err, an init that failed, a test thread that died). Built by the
// runner (run.ts) from what the simulated kernel reports, or by hand in the printer's tests.

/** KUnit's enum kunit_status. */
export type CaseStatus = 'success' | 'failure' | 'skipped';

/**
 * A KUNIT_EXPECT_* / KUNIT_ASSERT_* that failed, with the values the case computed. `form` picks
 * the kernel's formatter (lib/kunit/assert.c): `binary` kunit_binary_assert_format (integers),
 * `binary-ptr` kunit_binary_ptr_assert_format (PTR_EQ/NE, NULL/NOT_NULL), `bool`
 * kunit_unary_assert_format, `not-err-or-null` kunit_ptr_not_err_assert_format, `str`
 * kunit_binary_str_assert_format, `fail` kunit_fail_assert_format (KUNIT_FAIL).
 */
export interface FailedCheck {
  /** KUNIT_ASSERTION (the case stops) or KUNIT_EXPECTATION. */
  readonly assert: boolean;
  readonly form: 'binary' | 'binary-ptr' | 'bool' | 'not-err-or-null' | 'str' | 'fail';
  /** `==`, `!=`, `<`, … (binary, binary-ptr, str); `true`/`false` (bool). */
  readonly op: string;
  /** The operands' source text, as the macro stringified them (#left, #right, #condition). */
  readonly texts: readonly string[];
  /**
   * The operands' values: integers and pointers as bigint (any width; printed as the kernel's
   * long long), strings for `str` (null: a NULL pointer).
   */
  readonly values: readonly (bigint | string | null)[];
  readonly file: string;
  readonly line: number;
  /** The _MSG variant's formatted message (KUNIT_FAIL's text), or null. */
  readonly message: string | null;
}

/** One thing KUnit logged for a case, in order. */
export type CaseLog =
  | { readonly kind: 'failed-check'; readonly check: FailedCheck }
  /** kunit_info/kunit_warn/kunit_err(test, ...): the formatted text. */
  | { readonly kind: 'log'; readonly text: string }
  /** The suite's .init returned non-zero: the case did not run. */
  | { readonly kind: 'init-failed'; readonly ret: number }
  /**
   * The case's thread did not come back: it died (an oops or BUG in the case: `faulted`) or
   * never finished (`timeout`). `lastSeen`: the last check it reached (file:line), if any.
   */
  | { readonly kind: 'thread-lost'; readonly how: 'faulted' | 'timeout'; readonly lastSeen?: { readonly file: string; readonly line: number } }
  /**
   * v6.x runs the suite's .exit on a thread of its own: it died, never finished, or stopped at a
   * failed assertion (`aborted`).
   */
  | { readonly kind: 'cleanup-lost'; readonly how: 'faulted' | 'timeout' | 'aborted'; readonly lastSeen?: { readonly file: string; readonly line: number } };

export interface CaseResult {
  readonly name: string;
  readonly status: CaseStatus;
  /** kunit_skip()'s reason (printed after `# SKIP` when the case was skipped). */
  readonly comment: string;
  readonly logs: readonly CaseLog[];
}

export interface SuiteResult {
  readonly name: string;
  /** The module (KBUILD_MODNAME) its cases name: KUnit's `module` attribute. */
  readonly module: string;
  /** .suite_init returned non-zero: no case ran. */
  readonly initError?: number;
  readonly cases: readonly CaseResult[];
}

export interface KunitRunResult {
  readonly suites: readonly SuiteResult[];
}

/** KUnit's kunit_suite_has_succeeded(): failed if its init or any case failed, skipped if none ran. */
export function suiteStatus(s: SuiteResult): CaseStatus {
  if (s.initError !== undefined) return 'failure';
  if (s.cases.some((c) => c.status === 'failure')) return 'failure';
  return s.cases.some((c) => c.status === 'success') ? 'success' : 'skipped';
}

/** Whether `kprobesim kunit` exits 0: no suite failed (a skipped case is not a failure, as for kunit.py). */
export function allPassed(r: KunitRunResult): boolean {
  return r.suites.every((s) => suiteStatus(s) !== 'failure');
}
