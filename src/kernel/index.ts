// The kernel image and its symbol table, as the rest of the simulator sees them.

import { ImageBuilder, MODULE_SPAN, type RawInsn } from './builder.ts';
import type { Arch, BuildConfig } from './image.ts';
import { buildKey, deepFreeze, ISAS, kernelImage } from './images.ts';
import { DEFAULT_KERNEL, type KernelVersion } from './releases.ts';
import { SymbolTable } from './symbols.ts';

export type {
  AliasSymbol,
  Arch,
  BuildConfig,
  DataSymbol,
  Effect,
  FunctionSymbol,
  Insn,
  KernelImage,
  KernelSymbol,
  Op,
  Section,
} from './image.ts';
export { ARCHES } from './image.ts';
export { SymbolTable } from './symbols.ts';
export type { AddressedSymbol, BlacklistRule, InsnRef, Resolved } from './symbols.ts';
export { DATA_ALIGN, FUNC_ALIGN, ImageBuilder, type FuncSpec, type Isa } from './builder.ts';
export { DATA_BASE, TEXT_BASE, X86_64_ISA } from './x86_64.ts';
export { ARM64_ISA } from './arm64.ts';
export { JUST_RETURN_FUNC, kernelImage, kretprobeTrampolineChain, X86_64_IMAGE, x86_64Image } from './images.ts';
export { atLeast, DEFAULT_KERNEL, KERNEL_VERSIONS, RENAMED, type KernelVersion } from './releases.ts';

const TABLES = new Map<string, SymbolTable>();

/** kallsyms of a kernel release's built-in image, shared: the table is immutable once built. */
export function symbolsFor(version: KernelVersion, arch: Arch = 'x86_64', config: BuildConfig = {}): SymbolTable {
  const key = buildKey(version, arch, config);
  let t = TABLES.get(key);
  if (t === undefined) TABLES.set(key, (t = new SymbolTable(kernelImage(version, arch, config))));
  return t;
}

/** A loadable module's text, as a scenario describes it. */
export interface ModuleText {
  readonly name: string;
  readonly functions: readonly {
    readonly name: string;
    readonly calls?: readonly string[];
    readonly ret?: number;
    readonly init?: boolean;
    /** A C function's own instructions after the arch's entry (src/cexec: one per lowered C instruction). */
    readonly raw?: readonly { readonly text: string; readonly len: number }[];
  }[];
}

/** Tables with modules, by build and module text: scenarios of one process share a few. */
const MODULE_TABLES = new Map<string, SymbolTable>();
/** Distinct module sets kept (a generated scenario may bring its own; the oldest go first). */
const MODULE_TABLES_KEPT = 64;

/**
 * kallsyms of a release's image plus the text of the scenario's modules, each in its own slot of
 * the module area (whether a module is loaded is the kernel state's business, not kallsyms').
 * Built once per build and module text, and shared: the table and its image are immutable.
 */
export function symbolsWithModules(version: KernelVersion, modules: readonly ModuleText[], arch: Arch = 'x86_64', config: BuildConfig = {}): SymbolTable {
  const core = symbolsFor(version, arch, config);
  if (modules.length === 0) return core;
  // Everything the module images are built from: their names, functions, calls, returns, init.
  const key = `${buildKey(version, arch, config)} ${JSON.stringify(modules.map((m) => [m.name, m.functions.map((f) => [f.name, f.calls ?? [], f.ret ?? 0, f.init === true, f.raw?.map((i) => [i.text, i.len]) ?? null])]))}`;
  let table = MODULE_TABLES.get(key);
  if (table === undefined) {
    table = buildWithModules(core, modules, arch, config);
    if (MODULE_TABLES.size >= MODULE_TABLES_KEPT) MODULE_TABLES.delete(MODULE_TABLES.keys().next().value!);
    MODULE_TABLES.set(key, table);
  }
  return table;
}

function buildWithModules(core: SymbolTable, modules: readonly ModuleText[], arch: Arch, config: BuildConfig): SymbolTable {
  const external = new Set(core.functions().map((f) => f.name));
  const extra = modules.flatMap((m, i) => {
    const isa = ISAS[arch];
    const b = new ImageBuilder(isa, { textBase: isa.moduleBase + BigInt(i) * MODULE_SPAN, module: m.name, external, config });
    for (const f of m.functions) b.func({ name: f.name, calls: f.calls ?? [], ret: f.ret ?? 0, ...(f.init ? { init: true } : {}), ...(f.raw ? { raw: f.raw.map((i): RawInsn => [i.text, i.len]) } : {}) });
    return b.build().symbols;
  });
  return new SymbolTable(deepFreeze({ ...core.image, symbols: [...core.image.symbols, ...extra] }));
}

/** kallsyms of the reference kernel's image. */
export const BUILTIN_SYMBOLS = symbolsFor(DEFAULT_KERNEL);
