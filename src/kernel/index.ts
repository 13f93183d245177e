// The kernel image and its symbol table, as the rest of the simulator sees them.

import { SymbolTable } from './symbols.ts';
import { DEFAULT_KERNEL, ImageBuilder, KERNEL_VERSIONS, MODULE_BASE, MODULE_SPAN, x86_64Image, type KernelVersion } from './x86_64.ts';

export type {
  AliasSymbol,
  DataSymbol,
  Effect,
  FunctionSymbol,
  Insn,
  KernelImage,
  KernelSymbol,
  Op,
  Section,
} from './image.ts';
export { SymbolTable } from './symbols.ts';
export type { AddressedSymbol, BlacklistRule, InsnRef, Resolved } from './symbols.ts';
export {
  DATA_ALIGN,
  DATA_BASE,
  DEFAULT_KERNEL,
  FUNC_ALIGN,
  atLeast,
  ImageBuilder,
  JUST_RETURN_FUNC,
  KERNEL_VERSIONS,
  RENAMED,
  TEXT_BASE,
  X86_64_IMAGE,
  x86_64Image,
} from './x86_64.ts';
export type { KernelVersion } from './x86_64.ts';
export type { FuncSpec } from './x86_64.ts';

const TABLES = new Map<KernelVersion, SymbolTable>(KERNEL_VERSIONS.map((v) => [v, new SymbolTable(x86_64Image(v))]));

/** kallsyms of a kernel release's built-in image, shared: the table is immutable once built. */
export function symbolsFor(version: KernelVersion): SymbolTable {
  return TABLES.get(version)!;
}

/** A loadable module's text, as a scenario describes it. */
export interface ModuleText {
  readonly name: string;
  readonly functions: readonly { readonly name: string; readonly calls?: readonly string[]; readonly ret?: number; readonly init?: boolean }[];
}

/**
 * kallsyms of a release's image plus the text of the scenario's modules, each in its own slot of
 * the module area (whether a module is loaded is the kernel state's business, not kallsyms').
 */
export function symbolsWithModules(version: KernelVersion, modules: readonly ModuleText[]): SymbolTable {
  const core = symbolsFor(version);
  if (modules.length === 0) return core;
  const external = new Set(core.functions().map((f) => f.name));
  const extra = modules.flatMap((m, i) => {
    const b = new ImageBuilder({ textBase: MODULE_BASE + BigInt(i) * MODULE_SPAN, module: m.name, external });
    for (const f of m.functions) b.func({ name: f.name, calls: f.calls ?? [], ret: f.ret ?? 0, ...(f.init ? { init: true } : {}) });
    return b.build().symbols;
  });
  return new SymbolTable({ arch: 'x86_64', symbols: [...core.image.symbols, ...extra] });
}

/** kallsyms of the reference kernel's image. */
export const BUILTIN_SYMBOLS = symbolsFor(DEFAULT_KERNEL);
