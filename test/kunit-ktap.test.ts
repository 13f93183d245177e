// The KTAP printer against the kernel's own format strings (lib/kunit/test.c, assert.c,
// try-catch.c, attributes.c of v6.17; test.c and assert.c of v5.10). Every expected text below
// is worked out from those sources: KUNIT_SUBTEST_INDENT is four spaces, a suite's statistics are
// printed only for more than one case, kunit_err(test, …) prefixes "    # <case>: ".

import { describe, expect, it } from 'vitest';
import { formatKtap, ktapDialect, failureReport, type KtapDialect } from '../src/kunit/ktap.ts';
import { allPassed, type CaseResult, type FailedCheck, type SuiteResult } from '../src/kunit/results.ts';

const V6 = ktapDialect('6.17') as KtapDialect;
const V5 = ktapDialect('5.10') as KtapDialect;

const ok = (name: string): CaseResult => ({ name, status: 'success', comment: '', logs: [] });
const suite = (name: string, cases: CaseResult[], extra: Partial<SuiteResult> = {}): SuiteResult => ({ name, module: 'kprobes_kunit', cases, ...extra });
const check = (c: Partial<FailedCheck>): FailedCheck => ({ assert: false, form: 'binary', op: '==', texts: [], values: [], file: 'kprobes_kunit.c', line: 10, message: null, ...c });

describe('KTAP of a module whose cases all pass (v6.17)', () => {
  it('has the module header, the suite as a nested KTAP test with its module attribute, statistics and the result', () => {
    const names = ['case_a', 'case_b', 'case_c'];
    const text = formatKtap({ suites: [suite('kprobes', names.map(ok))] }, V6);
    expect(text).toEqual([
      'KTAP version 1',
      '1..1',
      '    KTAP version 1',
      '    # Subtest: kprobes',
      '    # module: kprobes_kunit',
      '    1..3',
      '    ok 1 case_a',
      '    ok 2 case_b',
      '    ok 3 case_c',
      '# kprobes: pass:3 fail:0 skip:0 total:3',
      '# Totals: pass:3 fail:0 skip:0 total:3',
      'ok 1 kprobes',
    ]);
  });

  it('prints no statistics for a suite of one case (kunit_should_print_stats: total > 1)', () => {
    const text = formatKtap({ suites: [suite('one', [ok('only')])] }, V6);
    expect(text.filter((l) => l.startsWith('#'))).toEqual([]);
    expect(text.at(-1)).toBe('ok 1 one');
  });

  it('numbers suites from 1 in the header and the result lines', () => {
    const text = formatKtap({ suites: [suite('s1', [ok('a')]), suite('s2', [ok('b')])] }, V6);
    expect(text.slice(0, 2)).toEqual(['KTAP version 1', '1..2']);
    expect(text.filter((l) => /^(not )?ok /.test(l))).toEqual(['ok 1 s1', 'ok 2 s2']);
  });

  it('prints nothing for a module without suites (kunit_module_init checks num_kunit_suites)', () => {
    expect(formatKtap({ suites: [] }, V6)).toEqual([]);
  });
});

describe('a failed expectation (v6.17)', () => {
  // The values of the kernel's own report of test_stacktrace_on_nested_kretprobe on arm64
  // (Mark Rutland, Nov 2024): long long values printed %lld with their %llx.
  const failed: CaseResult = {
    name: 'case_nested',
    status: 'failure',
    comment: '',
    logs: [{ kind: 'failed-check', check: check({ line: 327, texts: ['trace[i + 1]', 'ret_addrs[1]'], values: [0xffffa83733777214n, 0xffffa83733777190n] }) }],
  };

  it('reports the location, the comparison and both operands, then `not ok`, and the suite fails', () => {
    const run = { suites: [suite('kprobes', [ok('case_a'), failed])] };
    expect(formatKtap(run, V6)).toEqual([
      'KTAP version 1',
      '1..1',
      '    KTAP version 1',
      '    # Subtest: kprobes',
      '    # module: kprobes_kunit',
      '    1..2',
      '    ok 1 case_a',
      '    # case_nested: EXPECTATION FAILED at kprobes_kunit.c:327',
      '    Expected trace[i + 1] == ret_addrs[1], but',
      '        trace[i + 1] == -96519936577004 (0xffffa83733777214)',
      '        ret_addrs[1] == -96519936577136 (0xffffa83733777190)',
      '    not ok 2 case_nested',
      '# kprobes: pass:1 fail:1 skip:0 total:2',
      '# Totals: pass:1 fail:1 skip:0 total:2',
      'not ok 1 kprobes',
    ]);
    expect(allPassed(run)).toBe(false);
  });

  it('does not repeat an operand that is the literal of its value (is_literal)', () => {
    const r = failureReport(check({ texts: ['0', 'register_kprobe(&kp)'], values: [0n, -22n] }), V6);
    expect(r).toBe('EXPECTATION FAILED at kprobes_kunit.c:10\n    Expected 0 == register_kprobe(&kp), but\n        register_kprobe(&kp) == -22 (0xffffffffffffffea)');
  });

  it('says ASSERTION for KUNIT_ASSERT_*', () => {
    expect(failureReport(check({ assert: true, op: '!=', texts: ['mine', 'call_driver()'], values: [5n, 5n] }), V6).split('\n')[0]).toBe(
      'ASSERTION FAILED at kprobes_kunit.c:10',
    );
  });

  it('puts a _MSG text on a line of its own, unindented ("\\n%pV")', () => {
    const r = failureReport(check({ texts: ['a', 'b'], values: [1n, 2n], message: 'seed 7' }), V6);
    expect(r.split('\n').slice(-1)).toEqual(['seed 7']);
    expect(r.split('\n')).toHaveLength(5);
  });

  it('formats KUNIT_EXPECT_TRUE/FALSE as kunit_unary_assert_format does', () => {
    expect(failureReport(check({ form: 'bool', op: 'false', texts: ['preemptible()'], values: [1n] }), V6)).toBe(
      'EXPECTATION FAILED at kprobes_kunit.c:10\n    Expected preemptible() to be false, but is true\n',
    );
  });

  it('quotes strings and leaves out a string literal operand (is_str_literal)', () => {
    expect(failureReport(check({ form: 'str', texts: ['buf', '"passwd"'], values: ['shadow', 'passwd'] }), V6)).toBe(
      // The left operand's line keeps its "\n"; printk drops a record's last newline.
      'EXPECTATION FAILED at kprobes_kunit.c:10\n    Expected buf == "passwd", but\n        buf == "shadow"\n',
    );
    const c: CaseResult = { name: 'c', status: 'failure', comment: '', logs: [{ kind: 'failed-check', check: check({ form: 'str', texts: ['buf', '"passwd"'], values: ['shadow', 'passwd'] }) }] };
    expect(formatKtap({ suites: [suite('k', [c])] }, V6).slice(6, 10)).toEqual([
      '    # c: EXPECTATION FAILED at kprobes_kunit.c:10',
      '    Expected buf == "passwd", but',
      '        buf == "shadow"',
      '    not ok 1 c',
    ]);
  });

  it('prints pointers %px (16 hex digits) for NOT_NULL, and NULL as its text', () => {
    expect(failureReport(check({ form: 'binary-ptr', op: '!=', texts: ['p', 'NULL'], values: [0n, 0n] }), V6)).toBe(
      'EXPECTATION FAILED at kprobes_kunit.c:10\n    Expected p != NULL, but\n        p == 0000000000000000\n        NULL == 0000000000000000',
    );
  });

  it('tells an error pointer from NULL for NOT_ERR_OR_NULL', () => {
    const at = 'EXPECTATION FAILED at kprobes_kunit.c:10\n';
    expect(failureReport(check({ form: 'not-err-or-null', texts: ['p'], values: [0n] }), V6)).toBe(`${at}    Expected p is not null, but is\n`);
    expect(failureReport(check({ form: 'not-err-or-null', texts: ['p'], values: [2n ** 64n - 12n] }), V6)).toBe(`${at}    Expected p is not error, but is: -12\n`);
  });

  it('prints KUNIT_FAIL\'s message right after the location', () => {
    expect(failureReport(check({ form: 'fail', message: 'unreachable' }), V6)).toBe('EXPECTATION FAILED at kprobes_kunit.c:10\nunreachable');
  });
});

describe('other case outcomes (v6.17)', () => {
  it('a skipped case is `ok N name # SKIP reason`; a suite of only skipped cases ends `# SKIP ` with no comment', () => {
    const skipped: CaseResult = { name: 'case_s', status: 'skipped', comment: 'no kretprobes', logs: [] };
    const text = formatKtap({ suites: [suite('k', [skipped, { ...skipped, name: 'case_t' }])] }, V6);
    expect(text).toContain('    ok 1 case_s # SKIP no kretprobes');
    expect(text).toContain('# k: pass:0 fail:0 skip:2 total:2');
    expect(text.at(-1)).toBe('ok 1 k # SKIP ');
  });

  it('logs kunit_info lines, a failed .init and a dead test thread under the case', () => {
    const c: CaseResult = {
      name: 'case_x',
      status: 'failure',
      comment: '',
      logs: [
        { kind: 'log', text: 'probing kernel_clone\n' },
        { kind: 'init-failed', ret: -12 },
        { kind: 'thread-lost', how: 'faulted', lastSeen: { file: 'm.c', line: 40 } },
      ],
    };
    const text = formatKtap({ suites: [suite('k', [c])] }, V6);
    expect(text.slice(6, 11)).toEqual([
      '    # case_x: probing kernel_clone',
      '    # case_x: failed to initialize: -12',
      '    # case_x: try faulted: last line seen m.c:40',
      '    # case_x: internal error occurred preventing test case from running: -4',
      '    not ok 1 case_x',
    ]);
  });

  it('a suite whose .suite_init failed prints kunit_err(suite, …) literally and `not ok`, with no subtest', () => {
    expect(formatKtap({ suites: [suite('k', [], { initError: -19 })] }, V6)).toEqual([
      'KTAP version 1',
      '1..1',
      '    # k:     # failed to initialize (-19)',
      'not ok 1 k',
    ]);
  });
});

describe('KTAP of v5.10', () => {
  it('has no module header, no version line in the suite, ` - ` in result lines and no statistics', () => {
    const failed: CaseResult = {
      name: 'case_b',
      status: 'failure',
      comment: '',
      logs: [{ kind: 'failed-check', check: check({ line: 9, texts: ['0', 'ret'], values: [0n, -2n] }) }],
    };
    expect(formatKtap({ suites: [suite('kprobes', [ok('case_a'), failed])] }, V5)).toEqual([
      '    # Subtest: kprobes',
      '    1..2',
      '    ok 1 - case_a',
      '    # case_b: EXPECTATION FAILED at kprobes_kunit.c:9',
      '    Expected 0 == ret, but',
      // v5.10's kunit_binary_assert_format prints both operands, %lld only.
      '        0 == 0',
      '        ret == -2',
      '    not ok 2 - case_b',
      'not ok 1 - kprobes',
    ]);
  });

  it('prints strings unquoted, and a dead thread as the 300 s timeout', () => {
    expect(failureReport(check({ form: 'str', texts: ['buf', '"a"'], values: ['b', 'a'] }), V5)).toBe(
      'EXPECTATION FAILED at kprobes_kunit.c:10\n    Expected buf == "a", but\n        buf == b\n        "a" == a',
    );
    const c: CaseResult = { name: 'c', status: 'failure', comment: '', logs: [{ kind: 'thread-lost', how: 'faulted' }] };
    expect(formatKtap({ suites: [suite('k', [c])] }, V5).slice(2, 4)).toEqual(['    # c: try timed out', '    # c: test case timed out']);
  });

  it('has no KUnit before v5.5', () => {
    expect(ktapDialect('4.14')).toBeNull();
  });
});
