// `kprobesim kunit` runs a module's KUnit cases on the simulated CPUs (src/kunit/simulated.ts,
// src/cexec/kunit.ts). The module is examples/modules/kunit/kprobes_kunit.c, the seven cases of
// the kernel's lib/tests/test_kprobes.c written for the simulator; each passes for the reason the
// kernel's does (cited per case below), and a copy with a wrong expectation fails as the kernel
// reports it.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModule } from '../src/c/index.ts';
import { symbolsFor, type Arch, type KernelVersion } from '../src/kernel/index.ts';
import { allPassed, formatKtap, ktapDialect, runKunit } from '../src/kunit/index.ts';
import { loadForKunit } from '../src/kunit/simulated.ts';
import { cliInProcess } from './cli-in-process.ts';

const EXAMPLE = 'examples/modules/kunit/kprobes_kunit.c';
const SOURCE = readFileSync(EXAMPLE, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'kprobesim-kunit-exec-'));

/** The module's KTAP as `kprobesim kunit` prints it, and whether every case passed. */
function kunit(file: string, code: string, arch: Arch = 'x86_64', kernel: KernelVersion = '6.17', seed = 42): { ktap: string[]; passed: boolean } {
  const r = compileModule(code, file, { arch, kernel });
  if (!r.ok) throw new Error(`does not compile: ${JSON.stringify(r.diagnostics.map((d) => d.message))}`);
  const d = ktapDialect(kernel)!;
  const loaded = loadForKunit(r.module, code, { arch, kernel, cpus: 2, seed });
  if (!loaded.ok) throw new Error(loaded.message);
  try {
    const result = runKunit(r.module, loaded.target, d);
    return { ktap: formatKtap(result, d), passed: allPassed(result) };
  } finally {
    loaded.unload();
  }
}

const CASES = ['case_one_kprobe', 'case_two_kprobes', 'case_missed', 'case_one_kretprobe', 'case_two_kretprobes', 'case_trace', 'case_nested_trace'];

describe('kprobesim kunit: the kprobes cases on the simulated CPUs', () => {
  // Why each case holds (spec rule numbers):
  // - case_one_kprobe: the pre-handler runs before first_target's first instruction and the
  //   post-handler after its single-step (R47), both with preemption off (R50), and its call of
  //   reentrant_target (no probe there in this case) returns v/3, the same in both (R3: flags 0).
  // - case_two_kprobes: register_kprobes() registers both in order (R32); each probe's handlers
  //   run for its own function only.
  // - case_missed: both handlers call the probed reentrant_target: each hit comes while the
  //   probe's handler runs on the CPU, so it is missed (R50) and p->nmissed counts it (R12),
  //   which register_kprobe() had reset to 0 (R2): exactly 2.
  // - case_one_kretprobe, case_two_kretprobes: the entry handler runs at the call (R73), the
  //   return handler once at the return with the call's own value (R75, R76).
  // - case_trace, case_nested_trace: a return handler's regs IP is the real return address (R75),
  //   and since v5.16 the unwinder puts real addresses back for kretprobed frames (R79), so the
  //   recorded return addresses show in stack_trace_save() and stack_trace_save_regs().
  it('6.17 x86_64: seven cases ok, KTAP version 1 with the module attribute and the totals', () => {
    const r = kunit(EXAMPLE, SOURCE);
    expect(r.ktap).toEqual([
      'KTAP version 1',
      '1..1',
      '    KTAP version 1',
      '    # Subtest: kprobesim_kprobes',
      '    # module: kprobes_kunit',
      '    1..7',
      ...CASES.map((c, i) => `    ok ${i + 1} ${c}`),
      '# kprobesim_kprobes: pass:7 fail:0 skip:0 total:7',
      '# Totals: pass:7 fail:0 skip:0 total:7',
      'ok 1 kprobesim_kprobes',
    ]);
    expect(r.passed).toBe(true);
  });

  it('6.17 arm64: seven cases ok (a module address does not fit 32 bits there: regs_return_value is the full value, R76)', () => {
    const r = kunit(EXAMPLE, SOURCE, 'arm64');
    expect(r.ktap.filter((l) => /^ {4}(not )?ok /.test(l))).toEqual(CASES.map((c, i) => `    ok ${i + 1} ${c}`));
    expect(r.passed).toBe(true);
  });

  it('5.10: the TAP of that release, and the stack trace cases are not built (no CONFIG_ARCH_CORRECT_STACKTRACE_ON_KRETPROBE before v5.16, R79)', () => {
    for (const arch of ['x86_64', 'arm64'] as const) {
      const r = kunit(EXAMPLE, SOURCE, arch, '5.10');
      expect(r.ktap).toEqual(['    # Subtest: kprobesim_kprobes', '    1..5', ...CASES.slice(0, 5).map((c, i) => `    ok ${i + 1} - ${c}`), 'ok 1 - kprobesim_kprobes']);
    }
  });

  it('5.10 with the stack trace cases built anyway: the unwinder shows the kretprobe trampoline where the return address was (R79)', () => {
    const unguarded = SOURCE.replace(/^#(ifdef CONFIG_ARCH_CORRECT_STACKTRACE_ON_KRETPROBE|endif)$/gm, '');
    const r = kunit(join(dir, 'unguarded_kunit.c'), unguarded, 'x86_64', '5.10');
    const tramp = symbolsFor('5.10', 'x86_64', {}).lookup('kretprobe_trampoline')!.addr;
    // In the nested case the inner return handler's trace has the trampoline after the inner
    // function's own return address, where outer_target's real one would be.
    const at = r.ktap.indexOf('    Expected trace[i + 1] == ret_addrs[1], but');
    expect(at).toBeGreaterThan(0);
    expect(r.ktap[at + 1]).toBe(`        trace[i + 1] == ${BigInt.asIntN(64, tramp)}`);
    expect(r.ktap).toContain('    not ok 7 - case_nested_trace');
    expect(r.passed).toBe(false);
  });

  it('the same seed prints the same KTAP; the cases do not depend on the random seed_value', () => {
    const a = kunit(EXAMPLE, SOURCE, 'x86_64', '6.17', 7);
    expect(kunit(EXAMPLE, SOURCE, 'x86_64', '6.17', 7)).toEqual(a);
    expect(kunit(EXAMPLE, SOURCE, 'x86_64', '6.17', 8).ktap).toEqual(a.ktap);
  });
});

describe('kprobesim kunit: failures as the kernel reports them', () => {
  it('a wrong expectation: the EXPECTATION FAILED lines with the value the struct holds, not ok, exit 1', async () => {
    const wrong = join(dir, 'wrong_kunit.c');
    writeFileSync(wrong, SOURCE.replace('KUNIT_EXPECT_EQ(test, 2, probe_reentrant.nmissed);', 'KUNIT_EXPECT_EQ(test, 3, probe_reentrant.nmissed);'));
    const line = SOURCE.split('\n').findIndex((l) => l.includes('KUNIT_EXPECT_EQ(test, 2, probe_reentrant.nmissed);')) + 1;
    const r = await cliInProcess(['kunit', wrong]);
    expect(r.code).toBe(1);
    const out = r.out.split('\n');
    // kunit_binary_assert_format(): the literal 3 is not repeated; nmissed is 2 (R50, R12).
    const at = out.indexOf(`    # case_missed: EXPECTATION FAILED at ${wrong}:${line}`);
    expect(at).toBeGreaterThan(0);
    expect(out.slice(at + 1, at + 4)).toEqual(['    Expected 3 == probe_reentrant.nmissed, but', '        probe_reentrant.nmissed == 2 (0x2)', '    not ok 3 case_missed']);
    // The other cases are unaffected.
    expect(out.filter((l) => /^ {4}ok /.test(l))).toHaveLength(6);
    expect(out).toContain('not ok 1 kprobesim_kprobes');
  });

  it('the example itself: exit 0 through the command line', async () => {
    const r = await cliInProcess(['kunit', EXAMPLE, '--arch', 'arm64']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('# Totals: pass:7 fail:0 skip:0 total:7\nok 1 kprobesim_kprobes\n');
  });

  it('a failed assertion ends the case there (kunit_try_catch_throw); expectations before it are reported, the next case runs', () => {
    const code = `#include <kunit/test.h>
static int reached;
static void case_a(struct kunit *test)
{
\tKUNIT_EXPECT_EQ(test, 1, 2);
\tKUNIT_ASSERT_TRUE(test, reached);
\treached = 5;
\tKUNIT_EXPECT_EQ(test, 1, 3);
}
static void case_b(struct kunit *test)
{
\tKUNIT_EXPECT_EQ(test, reached, 0);
\tkunit_info(test, "reached %d", reached);
}
static struct kunit_case cases[] = { KUNIT_CASE(case_a), KUNIT_CASE(case_b), {} };
static struct kunit_suite suite = { .name = "abort", .test_cases = cases };
kunit_test_suites(&suite);
MODULE_LICENSE("GPL");
`;
    const f = join(dir, 'abort_kunit.c');
    const r = kunit(f, code);
    // v6.x prints no operand that is the literal of its value (kunit_binary_assert_format).
    expect(r.ktap.slice(6)).toEqual([
      `    # case_a: EXPECTATION FAILED at ${f}:5`,
      '    Expected 1 == 2, but',
      `    # case_a: ASSERTION FAILED at ${f}:6`,
      '    Expected reached to be true, but is false',
      '    not ok 1 case_a',
      '    # case_b: reached 0',
      '    ok 2 case_b',
      '# abort: pass:1 fail:1 skip:0 total:2',
      '# Totals: pass:1 fail:1 skip:0 total:2',
      'not ok 1 abort',
    ]);
  });
});

describe('kprobesim kunit: a case that oopses', () => {
  const code = `#include <kunit/test.h>
static int *nowhere;
static void case_oops(struct kunit *test)
{
\t*nowhere = 1;
}
static void case_after(struct kunit *test)
{
\tKUNIT_EXPECT_EQ(test, 2, 2);
}
static struct kunit_case cases[] = { KUNIT_CASE(case_oops), KUNIT_CASE(case_after), {} };
static struct kunit_suite suite = { .name = "oops", .test_cases = cases };
kunit_test_suites(&suite);
MODULE_LICENSE("GPL");
`;
  it('the NULL store oopses the thread: try faulted on 6.17 (timed out on 5.10, whose try-catch waits for the thread), and the next case runs on a booted kernel', () => {
    const f = join(dir, 'oops_kunit.c');
    expect(kunit(f, code).ktap.slice(6, 10)).toEqual(['    # case_oops: try faulted', '    # case_oops: internal error occurred preventing test case from running: -4', '    not ok 1 case_oops', '    ok 2 case_after']);
    expect(kunit(f, code, 'x86_64', '5.10').ktap.slice(2, 6)).toEqual(['    # case_oops: try timed out', '    # case_oops: test case timed out', '    not ok 1 - case_oops', '    ok 2 - case_after']);
  });
});
