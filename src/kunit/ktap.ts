// KTAP as the kernel's KUnit prints it when a module's suites run (lib/kunit/test.c, assert.c,
// try-catch.c, attributes.c), line for line, for the releases the model follows:
//
//   v6.17 (KTAP version 1):                     v5.10 (TAP 14 style, no header for a module):
//   KTAP version 1                                  # Subtest: kprobes
//   1..1                                            1..2
//       KTAP version 1                              ok 1 - case_a
//       # Subtest: kprobes                          # case_b: EXPECTATION FAILED at m.c:9
//       # module: kprobes_kunit                     Expected a == b, but
//       1..2                                            a == 1
//       ok 1 case_a                                     b == 2
//       # case_b: EXPECTATION FAILED at m.c:9       not ok 2 - case_b
//       Expected a == b, but                    not ok 1 - kprobes
//           a == 1 (0x1)
//           b == 2 (0x2)
//       not ok 2 case_b
//   # kprobes: pass:1 fail:1 skip:0 total:2
//   # Totals: pass:1 fail:1 skip:0 total:2
//   not ok 1 kprobes
//
// Lines are what the console shows without printk's timestamp prefix. A multi-line kunit_err()
// (a failed check's report) is one printk whose later lines carry their own indentation.

import { atLeast, type KernelVersion } from '../kernel/releases.ts';
import { suiteStatus, type CaseLog, type CaseStatus, type FailedCheck, type KunitRunResult, type SuiteResult } from './results.ts';

/** KUNIT_SUBTEST_INDENT and KUNIT_SUBSUBTEST_INDENT. */
const INDENT = '    ';
const INDENT2 = '        ';

/** How a release prints KTAP: the two formats of the releases the model follows. */
export interface KtapDialect {
  readonly name: 'v5.10' | 'v6.17';
  /**
   * KTAP version 1 (v6.2's "improve KTAP compliance"): a version line opens each suite, result
   * lines have no ` - `, and (v6.6) a module prints `KTAP version 1` and `1..N` when its suites
   * start and each suite its `# module:` attribute.
   */
  readonly ktap1: boolean;
  /** kunit_print_suite_stats() (v5.16): `# NAME: pass:…` and `# Totals: …` after more than one case. */
  readonly stats: boolean;
  /** Skipped cases (v5.14): `ok N name # SKIP reason`. */
  readonly skip: boolean;
  /**
   * The v6.x binary formats: an operand that is the literal of its value is not repeated, values
   * are followed by their hex, strings are quoted. v5.10 prints every operand, decimal only.
   */
  readonly compactOperands: boolean;
  /** try-catch.c: a dead test thread is `try faulted` (v6.10); before, its completion times out. */
  readonly faultDetected: boolean;
}

const V5_10: KtapDialect = { name: 'v5.10', ktap1: false, stats: false, skip: false, compactOperands: false, faultDetected: false };
const V6_17: KtapDialect = { name: 'v6.17', ktap1: true, stats: true, skip: true, compactOperands: true, faultDetected: true };

/** The KTAP a release prints, or null for a release without KUnit (it came in v5.5). */
export function ktapDialect(kernel: KernelVersion): KtapDialect | null {
  if (atLeast(kernel, '6.6')) return V6_17;
  if (atLeast(kernel, '5.5')) return V5_10;
  return null;
}

/** The whole KTAP document of a module's suites, one string per line. */
export function formatKtap(run: KunitRunResult, d: KtapDialect): string[] {
  const out: string[] = [];
  // kunit_module_init(): the module's own header, only when it has suites.
  if (d.ktap1 && run.suites.length > 0) out.push('KTAP version 1', `1..${run.suites.length}`);
  run.suites.forEach((s, i) => out.push(...formatSuite(s, i + 1, d)));
  return out;
}

/** kunit_run_tests() for one suite: its header, its cases, its statistics and its result line. */
export function formatSuite(s: SuiteResult, number: number, d: KtapDialect): string[] {
  const out: string[] = [];
  if (s.initError !== undefined) {
    // kunit_err(suite, KUNIT_SUBTEST_INDENT "# failed to initialize (%d)"), then straight to the end.
    out.push(...printk(`${INDENT}# ${s.name}: `, `${INDENT}# failed to initialize (${s.initError})`));
  } else {
    if (d.ktap1) out.push(`${INDENT}KTAP version 1`);
    out.push(`${INDENT}# Subtest: ${s.name}`);
    if (d.ktap1) out.push(`${INDENT}# module: ${s.cases.length > 0 ? s.module : ''}`);
    out.push(`${INDENT}1..${s.cases.length}`);
    s.cases.forEach((c, i) => {
      for (const log of c.logs) out.push(...formatLog(c.name, log, d));
      out.push(INDENT + resultLine(c.status, i + 1, c.name, c.comment, d));
    });
    if (d.stats) {
      const count = (st: CaseStatus): number => s.cases.filter((c) => c.status === st).length;
      const stats = `pass:${count('success')} fail:${count('failure')} skip:${count('skipped')} total:${s.cases.length}`;
      // kunit_should_print_stats(): only for more than one case (stats_enabled=1, the default).
      if (s.cases.length > 1) out.push(`# ${s.name}: ${stats}`, `# Totals: ${stats}`);
    }
  }
  // The suite's own comment is never set for a module's suite: a skipped suite ends `# SKIP `.
  out.push(resultLine(suiteStatus(s), number, s.name, '', d));
  return out;
}

/** kunit_print_ok_not_ok(): `ok 1 name`, `not ok 2 name`, `ok 3 name # SKIP why` (v5.10: `ok 1 - name`). */
export function resultLine(status: CaseStatus, number: number, name: string, comment: string, d: KtapDialect): string {
  const skipped = status === 'skipped' && d.skip;
  const ok = status === 'failure' ? 'not ok' : 'ok';
  return `${ok} ${number} ${d.ktap1 ? '' : '- '}${name}${skipped ? ` # SKIP ${comment}` : ''}`;
}

/** The lines one logged thing of case `test` prints (kunit_err/kunit_info: `    # test: …`). */
export function formatLog(test: string, log: CaseLog, d: KtapDialect): string[] {
  const prefix = `${INDENT}# ${test}: `;
  switch (log.kind) {
    case 'failed-check':
      return printk(prefix, failureReport(log.check, d));
    case 'log':
      return printk(prefix, log.text);
    case 'init-failed':
      return printk(prefix, `failed to initialize: ${log.ret}\n`);
    case 'thread-lost': {
      if (log.how === 'faulted' && d.faultDetected) {
        const seen = log.lastSeen === undefined ? '' : `: last line seen ${log.lastSeen.file}:${log.lastSeen.line}`;
        // try-catch.c reports -EINTR, then kunit_catch_run_case() the internal error.
        return [...printk(prefix, `try faulted${seen}\n`), ...printk(prefix, 'internal error occurred preventing test case from running: -4\n')];
      }
      // A thread that died before v6.10 never completes either: KUnit's 300 s timeout ends the wait.
      return [...printk(prefix, 'try timed out\n'), ...printk(prefix, 'test case timed out\n')];
    }
    case 'cleanup-lost': {
      // kunit_catch_run_case_cleanup(): the try's own line first, then the cleanup's.
      if (log.how === 'aborted') return printk(prefix, 'test aborted during cleanup. continuing without cleaning up\n');
      if (log.how === 'timeout') return [...printk(prefix, 'try timed out\n'), ...printk(prefix, 'test case cleanup timed out\n')];
      const seen = log.lastSeen === undefined ? '' : `: last line seen ${log.lastSeen.file}:${log.lastSeen.line}`;
      return [...printk(prefix, `try faulted${seen}\n`), ...printk(prefix, 'internal error occurred during test case cleanup: -4\n')];
    }
  }
}

/**
 * The report kunit_fail() builds in a string stream and prints with one kunit_err(): the
 * prologue (kunit_assert_prologue), then the form's own lines, then the message of a _MSG
 * variant on a line of its own (kunit_assert_print_msg: "\n%pV").
 */
export function failureReport(c: FailedCheck, d: KtapDialect): string {
  let s = `${c.assert ? 'ASSERTION' : 'EXPECTATION'} FAILED at ${c.file}:${c.line}\n`;
  const [lt = '', rt = ''] = c.texts;
  const [lv = null, rv = null] = c.values;
  const msg = (): string => (c.message === null ? '' : `\n${c.message}`);
  switch (c.form) {
    case 'fail':
      return s + (c.message ?? '');
    case 'bool':
      return s + `${INDENT}Expected ${lt} to be ${c.op}, but is ${c.op === 'true' ? 'false' : 'true'}\n` + msg();
    case 'not-err-or-null': {
      const v = BigInt.asIntN(64, typeof lv === 'bigint' ? lv : 0n);
      if (v === 0n) s += `${INDENT}Expected ${lt} is not null, but is\n`;
      // IS_ERR(): the top 4095 values are error codes.
      else if (v < 0n && v >= -4095n) s += `${INDENT}Expected ${lt} is not error, but is: ${v}\n`;
      return s + msg();
    }
    case 'binary': {
      s += `${INDENT}Expected ${lt} ${c.op} ${rt}, but\n`;
      const show = (text: string, value: bigint | string | null): string | null => {
        const n = BigInt.asIntN(64, typeof value === 'bigint' ? value : 0n);
        if (!d.compactOperands) return `${INDENT2}${text} == ${n}`;
        // is_literal(): the text is exactly the value's %lld.
        if (text === String(n)) return null;
        return `${INDENT2}${text} == ${n} (0x${BigInt.asUintN(64, n).toString(16)})`;
      };
      return s + joinOperands(show(lt, lv), show(rt, rv)) + msg();
    }
    case 'binary-ptr': {
      const px = (v: bigint | string | null): string => BigInt.asUintN(64, typeof v === 'bigint' ? v : 0n).toString(16).padStart(16, '0');
      s += `${INDENT}Expected ${lt} ${c.op} ${rt}, but\n`;
      return s + joinOperands(`${INDENT2}${lt} == ${px(lv)}`, `${INDENT2}${rt} == ${px(rv)}`) + msg();
    }
    case 'str': {
      s += `${INDENT}Expected ${lt} ${c.op} ${rt}, but\n`;
      const show = (text: string, value: bigint | string | null): string | null => {
        const v = typeof value === 'string' ? value : '(null)';
        if (!d.compactOperands) return `${INDENT2}${text} == ${v}`;
        // is_str_literal(): the text is the value in double quotes.
        if (text.length >= 2 && text.startsWith('"') && text.endsWith('"') && text.slice(1, -1) === v) return null;
        return `${INDENT2}${text} == "${v}"`;
      };
      return s + joinOperands(show(lt, lv), show(rt, rv)) + msg();
    }
  }
}

/** The left operand's line ends with "\n", the right one's does not (assert.c's format strings). */
function joinOperands(left: string | null, right: string | null): string {
  return (left === null ? '' : `${left}\n`) + (right ?? '');
}

/**
 * One printk of `prefix` + `text`, as the console shows it: a line per "\n", the final newline
 * not making an empty line (printk ends every record with one).
 */
function printk(prefix: string, text: string): string[] {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  return `${prefix}${body}`.split('\n');
}
