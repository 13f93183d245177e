// What a module's compile sees of the kernel besides its headers: the kernel configuration
// (CONFIG_X86 or CONFIG_ARM64 by arch, CONFIG_KRETPROBES, CONFIG_KPROBES_ON_FTRACE, ...), the
// compiler's and kbuild's predefined macros, the build's warning flags per release, and the
// data model of the arch (LP64 on both, char signedness).

import type { BuildConfig } from '../kernel/image.ts';
import { atLeast, type KernelVersion } from '../kernel/releases.ts';
import type { ConfigValue } from './preprocess.ts';

export type CArch = 'x86_64' | 'arm64';

/** The kernel's configuration for a module built against `kernel` on `arch`. */
export function kernelConfig(arch: CArch, kernel: KernelVersion, build: BuildConfig = {}): Map<string, ConfigValue> {
  const c = new Map<string, ConfigValue>();
  const y = (name: string): void => void c.set(name, 'y');
  for (const n of [
    'CONFIG_64BIT', 'CONFIG_MMU', 'CONFIG_SMP', 'CONFIG_MODULES', 'CONFIG_MODULE_UNLOAD', 'CONFIG_KALLSYMS', 'CONFIG_KALLSYMS_ALL',
    'CONFIG_KPROBES', 'CONFIG_KRETPROBES', 'CONFIG_HAVE_KPROBES', 'CONFIG_HAVE_KRETPROBES', 'CONFIG_STACKTRACE', 'CONFIG_PRINTK',
    'CONFIG_KPROBE_EVENTS', 'CONFIG_FTRACE', 'CONFIG_TRACING', 'CONFIG_KUNIT', 'CONFIG_GENERIC_BUG', 'CONFIG_BUG',
  ]) {
    y(n);
  }
  c.set('CONFIG_NR_CPUS', 64);
  c.set('CONFIG_HZ', 250);
  y('CONFIG_HZ_250');
  if (build.preempt !== false) {
    y('CONFIG_PREEMPT');
    y('CONFIG_PREEMPTION');
    y('CONFIG_PREEMPT_COUNT');
  } else {
    y('CONFIG_PREEMPT_NONE');
  }
  if (arch === 'x86_64') {
    for (const n of ['CONFIG_X86', 'CONFIG_X86_64', 'CONFIG_HAVE_KPROBES_ON_FTRACE', 'CONFIG_HAVE_OPTPROBES']) y(n);
    if (build.ftrace) {
      y('CONFIG_DYNAMIC_FTRACE');
      y('CONFIG_KPROBES_ON_FTRACE');
    }
    if (build.optprobes) y('CONFIG_OPTPROBES');
    if (build.ibt) y('CONFIG_X86_KERNEL_IBT');
    // v5.16: x86's kretprobe trampoline has an ORC entry, so stack traces through it are correct.
    if (atLeast(kernel, '5.16')) y('CONFIG_ARCH_CORRECT_STACKTRACE_ON_KRETPROBE');
    if (atLeast(kernel, '5.19')) y('CONFIG_KRETPROBE_ON_RETHOOK');
  } else {
    y('CONFIG_ARM64');
    if (atLeast(kernel, '5.16')) y('CONFIG_ARCH_CORRECT_STACKTRACE_ON_KRETPROBE');
    if (atLeast(kernel, '6.0')) y('CONFIG_KRETPROBE_ON_RETHOOK');
  }
  if (atLeast(kernel, '5.19')) y('CONFIG_RETHOOK');
  return c;
}

/**
 * kbuild's warning flags that turn a gcc warning into an error, by release (top-level Makefile):
 * -Werror=implicit-function-declaration in all three; -Werror=implicit-int, -Werror=strict-prototypes
 * from v4.20; -Werror=return-type by v5.10 (a 5.10.52 Makefile has it, 4.14's does not).
 */
export function werrorOptions(kernel: KernelVersion): ReadonlySet<string> {
  const s = new Set(['implicit-function-declaration']);
  if (atLeast(kernel, '4.20')) {
    s.add('implicit-int');
    s.add('strict-prototypes');
  }
  if (atLeast(kernel, '5.10')) s.add('return-type');
  return s;
}

/** Plain `char` is signed on x86_64 and unsigned on arm64, and unsigned everywhere from v6.2 (-funsigned-char). */
export const charIsSigned = (arch: CArch, kernel: KernelVersion): boolean => arch === 'x86_64' && !atLeast(kernel, '6.2');

/** LINUX_VERSION_CODE of a release. */
export function versionCode(kernel: KernelVersion): number {
  const [a, b] = kernel.split('.').map(Number) as [number, number];
  return (a << 16) + (b << 8);
}

/** The -D options of gcc 12 and kbuild for a module file: `#define` lines. */
export function predefines(arch: CArch, kernel: KernelVersion, config: ReadonlyMap<string, ConfigValue>, modName: string): string {
  const lines: string[] = [
    '#define __STDC__ 1',
    '#define __STDC_VERSION__ ' + (atLeast(kernel, '5.18') ? '201112L' : '199901L'),
    '#define __STDC_HOSTED__ 0',
    '#define __GNUC__ 12',
    '#define __GNUC_MINOR__ 2',
    '#define __GNUC_PATCHLEVEL__ 0',
    '#define __CHAR_BIT__ 8',
    '#define __SIZEOF_INT__ 4',
    '#define __SIZEOF_LONG__ 8',
    '#define __SIZEOF_LONG_LONG__ 8',
    '#define __SIZEOF_SHORT__ 2',
    '#define __SIZEOF_POINTER__ 8',
    '#define __SIZEOF_SIZE_T__ 8',
    '#define __LP64__ 1',
    '#define _LP64 1',
    '#define __linux__ 1',
    '#define __KERNEL__ 1',
    '#define MODULE 1',
    `#define KBUILD_MODNAME "${modName}"`,
    `#define KBUILD_BASENAME "${modName}"`,
    '#define __ORDER_LITTLE_ENDIAN__ 1234',
    '#define __BYTE_ORDER__ __ORDER_LITTLE_ENDIAN__',
    '#define __LITTLE_ENDIAN 1234',
  ];
  if (arch === 'x86_64') lines.push('#define __x86_64__ 1', '#define __x86_64 1', '#define __amd64__ 1');
  else lines.push('#define __aarch64__ 1', '#define __ARM_64BIT_STATE 1');
  if (!charIsSigned(arch, kernel)) lines.push('#define __CHAR_UNSIGNED__ 1');
  // include/generated/autoconf.h, which kbuild -includes into every file.
  for (const [k, v] of config) {
    if (v === 'y') lines.push(`#define ${k} 1`);
    else if (v === 'm') lines.push(`#define ${k}_MODULE 1`);
    else if (typeof v === 'number') lines.push(`#define ${k} ${v}`);
    else lines.push(`#define ${k} "${v.replace(/["\\]/g, '\\$&')}"`);
  }
  return lines.join('\n') + '\n';
}

/** The module's name as kbuild derives it from the file: `kprobe_example.c` → kprobe_example. */
export function moduleNameOf(fileName: string): string {
  const base = fileName.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
  return base.replace(/-/g, '_') || 'module';
}
