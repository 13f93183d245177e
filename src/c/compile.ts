// compileModule: a kernel module's C source to the checked program the simulated kernel loads,
// or gcc's diagnostics. A module with any error is bad input (nothing of it runs).

import { atLeast, type KernelVersion } from '../kernel/releases.ts';
import type { BuildConfig } from '../kernel/image.ts';
import { check } from './check.ts';
import { formatDiagnostics, isError, type Diagnostic } from './diagnostics.ts';
import { kernelHeader } from './kernel-api-headers.ts';
import { charIsSigned, kernelConfig, moduleNameOf, predefines, werrorOptions, type CArch } from './kernel-api.ts';
import { parse } from './parser.ts';
import { preprocess, type ConfigValue } from './preprocess.ts';
import type { CheckedModule } from './program.ts';
import { sourceFile } from './source.ts';

export interface CompileOptions {
  readonly arch: CArch;
  readonly kernel: KernelVersion;
  /** Options added to (or overriding) the kernel's configuration: CONFIG_X → 'y' | 'm' | value; null unsets. */
  readonly config?: Readonly<Record<string, ConfigValue | null>>;
  /** The image's build options (ftrace, optprobes, preempt) the configuration follows. */
  readonly build?: BuildConfig;
  /** insmod's parameters (name=value), checked against the module's module_param()s. */
  readonly params?: Readonly<Record<string, string>>;
}

export type CompileResult =
  | { readonly ok: true; readonly module: CheckedModule; readonly warnings: readonly Diagnostic[]; readonly paramErrors: readonly string[] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

export function compileModule(source: string, fileName: string, options: CompileOptions): CompileResult {
  const { arch, kernel } = options;
  const config = kernelConfig(arch, kernel, options.build);
  for (const [k, v] of Object.entries(options.config ?? {})) {
    if (v === null) config.delete(k);
    else config.set(k, v);
  }
  const modName = moduleNameOf(fileName);
  const file = sourceFile(fileName, source);
  const pp = preprocess(file, {
    header: (name) => kernelHeader(name, arch, kernel),
    config,
    predefines: predefines(arch, kernel, config, modName),
    charSigned: charIsSigned(arch, kernel),
  });
  const diagnostics: Diagnostic[] = [...pp.diagnostics];
  if (pp.fatal) return { ok: false, diagnostics };
  const parsed = parse(pp.tokens);
  const checked = check(parsed.decls, {
    moduleName: modName, fileName, arch, kernel, charSigned: charIsSigned(arch, kernel), werror: werrorOptions(kernel),
  });
  // gcc reports in source order as it goes; the checker's findings before the syntax error come first.
  diagnostics.push(...checked.diagnostics, ...parsed.diagnostics);
  const all = orderDiagnostics(diagnostics, file);
  if (all.some(isError)) return { ok: false, diagnostics: all };
  return { ok: true, module: checked.module, warnings: all, paramErrors: checkParams(checked.module, options.params ?? {}) };
}

/** Diagnostics in the order gcc prints them: by position in the module's file. */
function orderDiagnostics(diags: readonly Diagnostic[], file: ReturnType<typeof sourceFile>): Diagnostic[] {
  const key = (d: Diagnostic): number => (d.span && d.span.file === file ? d.span.start : -1);
  const topLevelLast = (d: Diagnostic): number => (d.option === 'unused-function' ? 1 : 0);
  return diags
    .map((d, i) => ({ d, i }))
    .sort((a, b) => topLevelLast(a.d) - topLevelLast(b.d) || key(a.d) - key(b.d) || a.i - b.i)
    .map((x) => x.d);
}

/**
 * What the kernel's module loader says of insmod's parameters (kernel/params.c): an unknown
 * one is ignored with a warning; a value the parameter's type cannot take fails the load.
 */
export function checkParams(module: CheckedModule, params: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    const p = module.params.find((x) => x.name === name);
    if (!p) {
      out.push(`${module.name}: unknown parameter '${name}' ignored`);
      continue;
    }
    if (p.kind === 'string' && p.maxlen !== undefined && value.length + 1 > p.maxlen) {
      out.push(`${module.name}: string parameter too long`);
    } else if (['byte', 'short', 'ushort', 'int', 'uint', 'long', 'ulong', 'ullong', 'hexint'].includes(p.kind) && !/^[-+]?(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(value)) {
      out.push(`${module.name}: '${value}' invalid for parameter '${name}'`);
    } else if ((p.kind === 'bool' || p.kind === 'invbool') && !/^([yYnN01]|on|off)$/.test(value)) {
      out.push(`${module.name}: '${value}' invalid for parameter '${name}'`);
    }
  }
  return out;
}

export { formatDiagnostics };
void atLeast;
