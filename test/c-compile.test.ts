import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileModule, type CompileOptions } from '../src/c/compile.ts';
import { formatDiagnostics } from '../src/c/diagnostics.ts';

// The C front end on the seeds' modules, our KUnit module and malformed inputs: what gcc (12,
// LANG=C) prints, with kbuild's flags of each release.

const read = (p: string): string => readFileSync(new URL(`../examples/modules/${p}`, import.meta.url), 'utf8');

function compile(source: string, file: string, options: CompileOptions) {
  return compileModule(source, file, options);
}

function errors(source: string, options: Partial<CompileOptions> = {}): string {
  const r = compile(source, 'mod.c', { arch: 'x86_64', kernel: '6.17', ...options });
  if (r.ok) return `ok\n${formatDiagnostics(r.warnings)}`;
  return formatDiagnostics(r.diagnostics);
}

describe('seed 000: kprobe_example.c on _do_fork (4.14)', () => {
  const src = read('seed-000/kprobe_example.c');

  it('compiles on 4.14 with gcc\'s warning for `return 0;` in the void post handler', () => {
    const r = compile(src, 'kprobe_example.c', { arch: 'x86_64', kernel: '4.14' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(formatDiagnostics(r.warnings)).toBe(
      [
        "kprobe_example.c: In function 'handler_post':",
        "kprobe_example.c:23:16: warning: 'return' with a value, in function returning void [-Wreturn-type]",
        '   23 |         return 0;',
        '      |                ^',
        'kprobe_example.c:20:13: note: declared here',
        '   20 | static void handler_post(struct kprobe *p, struct pt_regs *regs, unsigned long flags)',
        '      |             ^~~~~~~~~~~~',
        '',
      ].join('\n'),
    );
    const m = r.module;
    expect(m.name).toBe('kprobe_example');
    expect([m.init, m.exit, m.license]).toEqual(['kprobe_init', 'kprobe_exit', 'GPL']);
    expect(m.params).toEqual([{ name: 'symbol', kind: 'string', perm: 0o644, variable: 'symbol', maxlen: 64 }]);
    expect(m.probes).toEqual([{ global: 'kp', kind: 'kprobe', symbolName: '_do_fork', handlers: {} }]);
    expect(m.kernelFunctions).toEqual(['printk', 'register_kprobe', 'unregister_kprobe']);
  });

  it('is an error where kbuild has -Werror=return-type (5.10)', () => {
    const out = errors(src, { kernel: '5.10' });
    expect(out).toContain("kprobe_example.c:23:16: error: 'return' with a value, in function returning void [-Werror=return-type]".replace('kprobe_example.c', 'mod.c'));
    expect(out.trimEnd().endsWith('cc1: some warnings being treated as errors')).toBe(true);
  });
});

describe('seed 003: kprobe_example.c on kernel_clone with its #ifdef CONFIG_ARM64 branch', () => {
  const src = read('seed-003/kprobe_example.c');

  for (const arch of ['x86_64', 'arm64'] as const) {
    it(`compiles on 5.10 ${arch} without a diagnostic`, () => {
      const r = compile(src, 'kprobe_example.c', { arch, kernel: '5.10' });
      expect(r.ok && r.warnings).toEqual([]);
      if (!r.ok) return;
      expect(r.module.nokprobe).toEqual(['handler_fault']);
      expect(r.module.probes[0]!.symbolName).toBe('kernel_clone');
      // The branch of the arch: pre_handler prints regs->ip on x86_64, regs->pc on arm64.
      const pre = r.module.functions.find((f) => f.name === 'handler_pre')!;
      const fields = JSON.stringify(pre.code, (k, v) => (k === 'span' || k === 'type' ? undefined : typeof v === 'bigint' ? String(v) : v));
      expect(fields.includes('"field":"pc"')).toBe(arch === 'arm64');
      expect(fields.includes('"field":"ip"')).toBe(arch === 'x86_64');
    });
  }

  it("on a kernel after 5.14: 'struct kprobe' has no member named 'fault_handler' at 119:12 (tab, 'kp.', then the member)", () => {
    const r = compile(src, 'kprobe_example.c', { arch: 'arm64', kernel: '6.17' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatDiagnostics(r.diagnostics)).toBe(
      [
        "kprobe_example.c: In function 'kprobe_init':",
        "kprobe_example.c:119:12: error: 'struct kprobe' has no member named 'fault_handler'; did you mean 'post_handler'?",
        '  119 |         kp.fault_handler = handler_fault;',
        '      |            ^~~~~~~~~~~~~',
        '      |            post_handler',
        '',
      ].join('\n'),
    );
  });
});

describe("seed 004's openat module", () => {
  it('compiles on 4.14 and needs strncpy_from_user from the kernel', () => {
    const r = compile(read('seed-004/openat_probe.c'), 'openat_probe.c', { arch: 'x86_64', kernel: '4.14' });
    expect(r.ok && r.warnings).toEqual([]);
    if (!r.ok) return;
    expect(r.module.kernelFunctions).toEqual(['printk', 'register_kprobe', 'strncpy_from_user', 'unregister_kprobe']);
    expect(r.module.init).toBe('kprobe_init');
  });
});

describe('a KUnit module with the seven cases of the kernel\'s kprobes test', () => {
  const src = read('kunit/kprobes_kunit.c');
  for (const arch of ['x86_64', 'arm64'] as const) {
    it(`declares its suite and cases on ${arch} 6.17`, () => {
      const r = compile(src, 'kprobes_kunit.c', { arch, kernel: '6.17' });
      expect(r.ok && formatDiagnostics(r.warnings)).toBe('');
      if (!r.ok) return;
      const [suite] = r.module.kunitSuites;
      expect(suite?.name).toBe('kprobesim_kprobes');
      expect(suite?.init).toBe('suite_case_init');
      expect(suite?.cases.map((c) => c.name)).toEqual([
        'case_one_kprobe', 'case_two_kprobes', 'case_missed', 'case_one_kretprobe', 'case_two_kretprobes', 'case_trace', 'case_nested_trace',
      ]);
      expect(r.module.probes.find((p) => p.global === 'rprobe_first')).toEqual({
        global: 'rprobe_first', kind: 'kretprobe', symbolName: 'first_target', handlers: { handler: 'ret_first', entry_handler: 'ret_entry' },
      });
    });
  }

  it('on 4.14, which predates stack_trace_save (v5.2): implicit declarations, errors in kbuild', () => {
    // The example builds its stack trace cases only where the unwinder is right about kretprobes (v5.16).
    const unguarded = src.replace(/^#(ifdef CONFIG_ARCH_CORRECT_STACKTRACE_ON_KRETPROBE|endif)$/gm, '');
    expect(errors(unguarded, { kernel: '4.14' })).toContain("error: implicit declaration of function 'stack_trace_save' [-Werror=implicit-function-declaration]");
  });

  it('a KUNIT_EXPECT_EQ compares in the operands\' common type and keeps their source text', () => {
    const r = compile(src, 'kprobes_kunit.c', { arch: 'x86_64', kernel: '6.17' });
    if (!r.ok) throw new Error(formatDiagnostics(r.diagnostics));
    const f = r.module.functions.find((x) => x.name === 'case_missed')!;
    const checks = f.code.flatMap((i) => (i.op === 'expr' && i.e.k === 'builtin' && i.e.kunit ? [i.e.kunit] : []));
    const missed = checks.find((c) => c.texts[1] === 'probe_reentrant.nmissed')!;
    expect(missed).toMatchObject({ assert: false, form: 'binary', op: '==', texts: ['2', 'probe_reentrant.nmissed'], file: 'kprobes_kunit.c' });
    expect(missed.operands.map((o) => o.type.kind === 'int' && o.type.name)).toEqual(['long unsigned int', 'long unsigned int']);
  });
});

// One malformed module per error class, each with the place gcc names.
const CASES: ReadonlyArray<readonly [string, string, string]> = [
  ['missing semicolon after a declaration', 'static int f(void)\n{\n\tint ret\n\tret = 1;\n\treturn ret;\n}\n', "mod.c:5:9: error: expected '=', ',', ';', 'asm' or '__attribute__' before 'ret'"],
  ['missing )', 'static int f(void)\n{\n\treturn (1 + 2;\n}\n', "mod.c:4:22: error: expected ')' before ';' token"],
  ['missing ; before }', 'int f(void);\nint f(void)\n{\n\tint x = 1;\n\treturn x\n}\n', "mod.c:6:17: error: expected ';' before '}' token"],
  ['undeclared identifier', 'int f(void);\nint f(void)\n{\n\treturn undefined_var + 1;\n}\n', "mod.c:5:16: error: 'undefined_var' undeclared (first use in this function)"],
  ['unknown header', '#include <linux/foo.h>\n', 'mod.c:2:10: fatal error: linux/foo.h: No such file or directory'],
  ['inline assembly', 'int f(void);\nint f(void)\n{\n\tasm volatile("nop");\n\treturn 0;\n}\n', 'mod.c:5:9: error: inline assembly is not supported'],
  ['unknown member in a designated initializer', '#include <linux/kprobes.h>\nstatic struct kprobe kp = {\n\t.fault_handler = 0,\n};\n', "mod.c:4:10: error: 'struct kprobe' has no member named 'fault_handler'; did you mean 'post_handler'?"],
  ['implicit declaration', 'int f(void);\nint f(void)\n{\n\treturn g(3);\n}\n', "mod.c:5:16: error: implicit declaration of function 'g' [-Werror=implicit-function-declaration]"],
  ['too many arguments', '#include <linux/kprobes.h>\nstatic struct kprobe kp;\nint f(void);\nint f(void)\n{\n\treturn register_kprobe(&kp, 1);\n}\n', "mod.c:7:16: error: too many arguments to function 'register_kprobe'"],
  ["another arch's register", '#include <linux/kprobes.h>\nunsigned long f(struct pt_regs *regs);\nunsigned long f(struct pt_regs *regs)\n{\n\treturn regs->pc;\n}\n', "mod.c:6:22: error: 'struct pt_regs' has no member named 'pc'"],
  ['break outside a loop', 'int f(void);\nint f(void)\n{\n\tbreak;\n\treturn 0;\n}\n', 'mod.c:5:9: error: break statement not within loop or switch'],
  ['unknown type name', 'int f(void);\nint f(void)\n{\n\tfoo bar;\n\treturn 0;\n}\n', "mod.c:5:9: error: unknown type name 'foo'"],
  ['#error', '#error this module needs CONFIG_FOO\n', 'mod.c:2:2: error: #error this module needs CONFIG_FOO'],
  ['assignment to a const', 'int f(void);\nint f(void)\n{\n\tconst int y = 1;\n\ty = 2;\n\treturn y;\n}\n', "mod.c:6:11: error: assignment of read-only variable 'y'"],
  ['label used but not defined', 'int f(void);\nint f(void)\n{\n\tgoto out;\n}\n', "mod.c:5:14: error: label 'out' used but not defined"],
  ['#if without #endif', '#ifdef CONFIG_X86\nint x;\n', 'mod.c:2:2: error: unterminated #ifdef'],
];

describe('errors name the right place', () => {
  for (const [what, body, first] of CASES) {
    it(what, () => {
      // Line 1 includes the module header so that line numbers start at 2.
      const out = errors(`#include <linux/module.h>\n${body}`);
      const lines = out.split('\n').filter((l) => /^mod\.c:\d+:\d+: (error|fatal error)/.test(l));
      expect(lines[0]).toBe(first);
    });
  }

  it('quotes the line with a caret under the whole token and gcc\'s fix-it for a missing ;', () => {
    expect(errors('int f(void);\nint f(void)\n{\n\tint x = 1;\n\treturn x\n}\n')).toBe(
      [
        "mod.c: In function 'f':",
        "mod.c:5:17: error: expected ';' before '}' token",
        '    5 |         return x',
        '      |                 ^',
        '      |                 ;',
        '    6 | }',
        '      | ~                ',
        '',
      ].join('\n'),
    );
  });

  it("underlines the '(' a missing ')' would close", () => {
    expect(errors('int f(void);\nint f(void)\n{\n\treturn (1 + 2;\n}\n')).toContain(
      ['    4 |         return (1 + 2;', '      |                ~     ^', '      |                      )'].join('\n'),
    );
  });
});

describe('module parameters as insmod gives them', () => {
  it('an unknown parameter is ignored with the kernel\'s warning; a bad value is reported', () => {
    const src = '#include <linux/module.h>\nstatic int count = 3;\nmodule_param(count, int, 0444);\nMODULE_LICENSE("GPL");\n';
    const r = compileModule(src, 'p.c', { arch: 'x86_64', kernel: '6.17', params: { count: 'abc', nosuch: '1' } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.module.params).toEqual([{ name: 'count', kind: 'int', perm: 0o444, variable: 'count' }]);
    expect(r.paramErrors).toEqual(["p: 'abc' invalid for parameter 'count'", "p: unknown parameter 'nosuch' ignored"]);
  });
});
