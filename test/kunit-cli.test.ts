// `kprobesim kunit FILE.c`: bad input is exit 2 with a message and nothing run: a module that does
// not build (gcc's diagnostics, as the C front end formats them, on standard error; nothing on
// standard output), a release without KUnit (v4.14: KUnit came in v5.5), a module without
// kunit_test_suites(), a file that is not there.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliInProcess } from './cli-in-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'kprobesim-kunit-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('kprobesim kunit: bad input', () => {
  it('a module with a syntax error: gcc-style diagnostics naming FILE:LINE:COL, exit 2, no KTAP', async () => {
    const p = file('broken_kunit.c', '#include <kunit/test.h>\nstatic void case_a(struct kunit *test)\n{\n\tKUNIT_EXPECT_EQ(test, 1, 1)\n}\n');
    const r = await cliInProcess(['kunit', p]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    const lines = r.err.split('\n');
    // gcc's layout: the function context, FILE:LINE:COL: error: …, the source line (the tab
    // expanded to column 9) with the line number in its margin, the caret and the fix-it.
    expect(lines[0]).toBe(`${p}: In function 'case_a':`);
    expect(lines[1]).toMatch(new RegExp(`^${p.replace(/[.]/g, '\\.')}:4:\\d+: error: expected ';' before '}' token$`));
    expect(lines[2]).toBe('    4 |         KUNIT_EXPECT_EQ(test, 1, 1)');
    expect(lines[3]).toMatch(/^ {6}\| +\^$/);
    expect(lines[4]).toMatch(/^ {6}\| +;$/);
  });

  it('a type error is reported the same way, before anything runs', async () => {
    const p = file('type_kunit.c', '#include <kunit/test.h>\nstatic void case_a(struct kunit *test)\n{\n\ttest->nonesuch = 1;\n}\n');
    const r = await cliInProcess(['kunit', p]);
    expect(r.code).toBe(2);
    // The member starts at column 15: the tab takes columns 1-8, `test->` 9-14.
    expect(r.err).toContain(`${p}:4:15: error: 'struct kunit' has no member named 'nonesuch'`);
    expect(r.out).toBe('');
  });

  it('--kernel 4.14 has no KUnit', async () => {
    const r = await cliInProcess(['kunit', 'examples/modules/kunit/kprobes_kunit.c', '--kernel', '4.14']);
    expect(r).toEqual({ code: 2, out: '', err: 'kprobesim: --kernel: 4.14 has no KUnit (it came in v5.5); choose 5.10 or 6.17\n' });
  });

  it('a module without suites, and a missing file', async () => {
    const p = file('plain.c', '#include <linux/module.h>\nMODULE_LICENSE("GPL");\n');
    expect(await cliInProcess(['kunit', p])).toEqual({ code: 2, out: '', err: `kprobesim: ${p}: declares no KUnit suite (kunit_test_suites(&suite) at file scope)\n` });
    const missing = join(dir, 'missing.c');
    expect(await cliInProcess(['kunit', missing])).toEqual({ code: 2, out: '', err: `kprobesim: ${missing}: No such file or directory\n` });
  });

  it('bad options are usage errors naming the option', async () => {
    const r = await cliInProcess(['kunit', 'x.c', '--cpus', '0']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("option '--cpus <N>' argument '0' is invalid");
  });
});
