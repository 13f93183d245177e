// The KUnit executor of a loaded module (lib/kunit/test.c: kunit_run_tests() and
// kunit_run_case_catch_errors()): for each suite of kunit_test_suites(), .suite_init, then for
// each KUNIT_CASE a fresh struct kunit on which .init, the case and .exit run, then
// .suite_exit. What the module's functions do is the simulated kernel's business: it runs them
// on its CPUs behind the KunitTarget interface below and reports what KUnit saw.

import type { CheckedModule, KunitCheck, KunitSuite } from '../c/index.ts';
import type { KtapDialect } from './ktap.ts';
import type { CaseLog, CaseResult, CaseStatus, FailedCheck, KunitRunResult, SuiteResult } from './results.ts';

/** What KUnit records while a module function runs, in order. */
export type KunitEvent =
  /** A KUNIT_EXPECT_* or KUNIT_ASSERT_* whose test was false: its operands' values and the _MSG text. */
  | { readonly kind: 'check-failed'; readonly check: KunitCheck; readonly values: readonly (bigint | string | null)[]; readonly message: string | null }
  /** kunit_info/kunit_warn/kunit_err: the formatted text. */
  | { readonly kind: 'log'; readonly text: string }
  /** kunit_skip/kunit_mark_skipped: the formatted reason. */
  | { readonly kind: 'skip'; readonly reason: string };

/** One call of a module function on a KUnit thread (kunit_try_catch_run). */
export interface KunitCall {
  readonly events: readonly KunitEvent[];
  /** An int-returning function's value (.init, .suite_init); 0 for void ones. */
  readonly ret: number;
  /**
   * `returned`; `aborted` by a failed KUNIT_ASSERT_* or kunit_skip (the thread exits there);
   * `faulted`: the thread died (an oops or BUG); `timeout`: it never finished.
   */
  readonly end: 'returned' | 'aborted' | 'faulted' | 'timeout';
  /** The last check the thread reached (test->last_seen), if any. */
  readonly lastSeen?: { readonly file: string; readonly line: number };
}

/** A struct kunit of one case: every call of the case gets it as its argument. */
export interface KunitTest {
  call(fn: string): KunitCall;
}

/**
 * The loaded module, as KUnit drives it. The simulated kernel implements it: each call runs the
 * named module function on a kthread on the simulated CPUs, interleaved with everything else.
 */
export interface KunitTarget {
  /** `suite->suite_init(suite)` or `suite->suite_exit(suite)`. */
  callSuite(fn: string, suite: KunitSuite): KunitCall;
  /** kunit_init_test(): a fresh struct kunit named after the case. */
  newTest(suite: KunitSuite, caseName: string): KunitTest;
}

/** Runs every suite of `module` on `target`, as the kernel does when the module goes live. */
export function runKunit(module: CheckedModule, target: KunitTarget, d: KtapDialect): KunitRunResult {
  return { suites: module.kunitSuites.map((s) => runSuite(module, s, target, d)) };
}

function runSuite(module: CheckedModule, suite: KunitSuite, target: KunitTarget, d: KtapDialect): SuiteResult {
  const base = { name: suite.name, module: module.name };
  if (suite.suiteInit !== undefined) {
    const c = target.callSuite(suite.suiteInit, suite);
    // A suite_init that does not come back is a failed init too (it never returned 0).
    const err = c.end === 'returned' ? c.ret : c.end === 'aborted' ? c.ret || -14 : -4;
    if (err !== 0) return { ...base, initError: err, cases: [] };
  }
  const cases = suite.cases.map((kcase) => runCase(suite, kcase, target, d));
  if (suite.suiteExit !== undefined) target.callSuite(suite.suiteExit, suite);
  return { ...base, cases };
}

/** kunit_run_case_catch_errors(): .init and the case on one thread, .exit (v6.x: on another). */
function runCase(suite: KunitSuite, kcase: { readonly name: string; readonly run: string }, target: KunitTarget, d: KtapDialect): CaseResult {
  const test = target.newTest(suite, kcase.name);
  const logs: CaseLog[] = [];
  let status: CaseStatus = 'success';
  let comment = '';
  const take = (c: KunitCall): void => {
    for (const e of c.events) {
      if (e.kind === 'check-failed') {
        logs.push({ kind: 'failed-check', check: failedCheck(e.check, e.values, e.message) });
        status = 'failure';
      } else if (e.kind === 'log') {
        logs.push({ kind: 'log', text: e.text });
      } else if (d.skip) {
        // kunit_mark_skipped(): the last of a failure and a skip decides the status.
        status = 'skipped';
        comment = e.reason;
      }
    }
  };
  const lost = (c: KunitCall): boolean => c.end === 'faulted' || c.end === 'timeout';

  // The try thread: .init, then the case if .init returned 0.
  let tryLost: KunitCall | null = null;
  let ran = true;
  if (suite.init !== undefined) {
    const c = test.call(suite.init);
    take(c);
    if (lost(c)) tryLost = c;
    else if (c.end === 'aborted') ran = false;
    else if (c.ret !== 0) {
      logs.push({ kind: 'init-failed', ret: c.ret });
      status = 'failure';
      ran = false;
    }
  }
  if (tryLost === null && ran) {
    const c = test.call(kcase.run);
    take(c);
    if (lost(c)) tryLost = c;
  }
  if (tryLost !== null) {
    logs.push({ kind: 'thread-lost', how: tryLost.end as 'faulted' | 'timeout', ...(tryLost.lastSeen ? { lastSeen: tryLost.lastSeen } : {}) });
    status = 'failure';
  }
  // The cleanup: v6.x always runs .exit on a thread of its own; v5.10 runs it on the try thread
  // (or from the catch after an assertion), so not after the thread died.
  if (suite.exit !== undefined && (d.faultDetected || tryLost === null)) {
    const c = test.call(suite.exit);
    take(c);
    if (d.faultDetected && c.end !== 'returned') {
      logs.push({ kind: 'cleanup-lost', how: c.end, ...(c.lastSeen ? { lastSeen: c.lastSeen } : {}) });
      status = 'failure';
    } else if (lost(c)) {
      logs.push({ kind: 'thread-lost', how: c.end as 'faulted' | 'timeout' });
      status = 'failure';
    }
  }
  return { name: kcase.name, status, comment, logs };
}

/** The formatter a check's failure goes through, and its parts, from the compiled check. */
export function failedCheck(check: KunitCheck, values: readonly (bigint | string | null)[], message: string | null): FailedCheck {
  const base = { assert: check.assert, file: check.file, line: check.line, message };
  switch (check.form) {
    case 'binary': {
      // KUNIT_EXPECT_PTR_EQ/NE compare pointers: kunit_binary_ptr_assert_format prints them %px.
      const ptr = check.operands.some((o) => o.type.kind === 'pointer');
      return { ...base, form: ptr ? 'binary-ptr' : 'binary', op: check.op, texts: check.texts, values };
    }
    case 'ptr':
      // KUNIT_EXPECT_NULL/NOT_NULL are KUNIT_BINARY_PTR_ASSERTION(ptr, ==/!=, NULL).
      if (check.op === 'not_err_or_null') return { ...base, form: 'not-err-or-null', op: check.op, texts: check.texts, values };
      return { ...base, form: 'binary-ptr', op: check.op === 'null' ? '==' : '!=', texts: [check.texts[0] ?? '', 'NULL'], values: [values[0] ?? 0n, 0n] };
    case 'bool':
      return { ...base, form: 'bool', op: check.op, texts: check.texts, values };
    case 'str':
      return { ...base, form: 'str', op: check.op, texts: check.texts, values };
    case 'fail':
      return { ...base, form: 'fail', op: 'fail', texts: [], values: [] };
  }
}
