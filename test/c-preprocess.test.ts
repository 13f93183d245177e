import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileModule } from '../src/c/compile.ts';
import { lineCol } from '../src/c/source.ts';
import { intBinary, T, usualArithmetic, typeName } from '../src/c/types.ts';

// The preprocessor through compileModule (its tokens reach the checker), C's integer rules the
// interpreter will follow, and properties: arbitrary text never throws, every diagnostic's
// position is inside the file.

function ok(src: string, arch: 'x86_64' | 'arm64' = 'x86_64', kernel: '4.14' | '5.10' | '6.17' = '6.17') {
  const r = compileModule(src, 'm.c', { arch, kernel });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.module;
}

const globalInt = (src: string, name: string, arch: 'x86_64' | 'arm64' = 'x86_64', kernel: '4.14' | '5.10' | '6.17' = '6.17'): bigint => {
  const g = ok(src, arch, kernel).globals.find((x) => x.name === name)!;
  const v = g.init[0]?.value;
  return v?.k === 'int' ? v.value : 0n;
};

describe('preprocessor', () => {
  it('function-like macros, # and ##, multi-line with backslashes, do { } while (0)', () => {
    const src = [
      '#define CAT(a, b) a##b',
      '#define STR(x) #x',
      '#define SET(p, v) \\',
      'do { \\',
      '\t(p) = (v); \\',
      '} while (0)',
      'static int CAT(my, var) = 7;',
      'static const char name[] = STR(hello world);',
      'int f(void);',
      'int f(void) { SET(myvar, 3); return myvar; }',
    ].join('\n');
    const m = ok(src);
    expect(m.globals.map((g) => g.name)).toEqual(['myvar', 'name']);
    expect(m.globals[1]!.size).toBe('hello world'.length + 1);
  });

  it('#if arithmetic, defined(), #elif/#else, IS_ENABLED / IS_MODULE over the configuration', () => {
    const src = [
      '#if defined(CONFIG_X86) && (1 << 4) == 16',
      'static int arch = 1;',
      '#elif defined CONFIG_ARM64',
      'static int arch = 2;',
      '#else',
      'static int arch = 3;',
      '#endif',
      'static int kret = IS_ENABLED(CONFIG_KRETPROBES) + 2 * IS_MODULE(CONFIG_KRETPROBES);',
      'int g(void);',
      'int g(void) { return arch + kret; }',
    ].join('\n');
    expect(globalInt(src, 'arch', 'x86_64')).toBe(1n);
    expect(globalInt(src, 'arch', 'arm64')).toBe(2n);
    expect(globalInt(src, 'kret')).toBe(1n);
  });

  it('LINUX_VERSION_CODE and KERNEL_VERSION() from <linux/version.h>', () => {
    const src = '#include <linux/version.h>\n#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 14, 0)\nstatic int old = 1;\n#else\nstatic int old = 0;\n#endif\nint h(void);\nint h(void) { return old; }\n';
    expect(globalInt(src, 'old', 'x86_64', '4.14')).toBe(1n);
    expect(globalInt(src, 'old', 'x86_64', '6.17')).toBe(0n);
  });

  it('__LINE__ and __func__ as printk sees them', () => {
    const m = ok('#include <linux/kernel.h>\nvoid f(void);\nvoid f(void)\n{\n\tprintk("%s %d\\n", __func__, __LINE__);\n}\n');
    const f = m.functions.find((x) => x.name === 'f')!;
    const call = f.code[0]!.op === 'expr' ? f.code[0]!.e : undefined;
    expect(call?.k).toBe('call');
    if (call?.k !== 'call') return;
    expect(call.args[2]).toMatchObject({ k: 'const', value: 5n });
    const fn = m.strings.find((s) => String.fromCharCode(...s.bytes) === 'f\0');
    expect(fn).toBeDefined();
  });

  it('pr_info concatenates KERN_INFO with the format', () => {
    const m = ok('#include <linux/printk.h>\nvoid f(void);\nvoid f(void) { pr_info("x=%d\\n", 1); }\n');
    expect(m.strings.map((s) => String.fromCharCode(...s.bytes))).toContain('\x016x=%d\n\0');
  });

  it('#warning is a warning; #error an error', () => {
    const r = compileModule('#warning check this\nint x;\n', 'w.c', { arch: 'x86_64', kernel: '6.17' });
    expect(r.ok && r.warnings.map((d) => `${d.severity}: ${d.message} [-W${d.option}]`)).toEqual(['warning: #warning check this [-Wcpp]']);
  });
});

describe("C's integer rules (decided for the interpreter)", () => {
  it('wrap at the width, signed included; truncating division; shifts modulo the width', () => {
    expect(intBinary('+', 0x7fffffffn, 1n, T.int)).toBe(-0x80000000n);
    expect(intBinary('-', 0n, 1n, T.uint)).toBe(0xffffffffn);
    expect(intBinary('/', -7n, 2n, T.int)).toBe(-3n);
    expect(intBinary('%', -7n, 2n, T.int)).toBe(-1n);
    expect(intBinary('<<', 1n, 33n, T.int)).toBe(2n);
    expect(intBinary('/', 1n, 0n, T.int)).toBeUndefined();
  });

  it('usual arithmetic conversions', () => {
    expect(typeName(usualArithmetic(T.int, T.uint))).toBe('unsigned int');
    expect(typeName(usualArithmetic(T.uint, T.long))).toBe('long int');
    expect(typeName(usualArithmetic(T.ulong, T.llong))).toBe('long unsigned int');
    expect(typeName(usualArithmetic(T.uchar, T.short))).toBe('int');
  });

  it('a module\'s constant expressions fold with them', () => {
    expect(globalInt('static int x = 0x7fffffff + 1;\nint f(void);\nint f(void) { return x; }\n', 'x')).toBe(-0x80000000n);
    expect(globalInt('static unsigned int y = -1;\nunsigned f(void);\nunsigned f(void) { return y; }\n', 'y')).toBe(0xffffffffn);
  });
});

describe('properties', () => {
  const fragments = fc.constantFrom(
    '#include <linux/module.h>\n', '#define X(a) a + 1\n', '#if 1\n', '#endif\n', '#ifdef CONFIG_X86\n', '#else\n', 'static int x = ', '3', ';',
    'int f(void) {', '}', 'return', ' x', '(', ')', '{', '"str', "'c'", '\\\n', '/*', '*/', 'X(2)', '->', 'struct kprobe kp', '.', '\t', '\n', 'asm',
    '__attribute__((', '))', 'sizeof', 'if (', 'goto out;', 'out:', '[', ']', '=', ',', '#', '##', '@',
  );
  const source = fc.oneof(fc.string({ maxLength: 200 }), fc.array(fragments, { maxLength: 40 }).map((a) => a.join('')));

  it('never throws on arbitrary input, and every diagnostic points inside the file', () => {
    fc.assert(
      fc.property(source, (src) => {
        const r = compileModule(src, 'fuzz.c', { arch: 'x86_64', kernel: '6.17' });
        const diags = r.ok ? r.warnings : r.diagnostics;
        if (!r.ok) expect(diags.length).toBeGreaterThan(0);
        for (const d of diags) {
          if (!d.span) continue;
          expect(d.span.start).toBeGreaterThanOrEqual(0);
          expect(d.span.start).toBeLessThanOrEqual(d.span.file.text.length);
          const { line, col } = lineCol(d.span.file, d.span.start);
          expect(line).toBeGreaterThanOrEqual(1);
          expect(col).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 300 },
    );
  });
});
