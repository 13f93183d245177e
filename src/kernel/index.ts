// The kernel image and its symbol table, as the rest of the simulator sees them.

import { SymbolTable } from './symbols.ts';
import { DEFAULT_KERNEL, KERNEL_VERSIONS, x86_64Image, type KernelVersion } from './x86_64.ts';

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

/** kallsyms of the reference kernel's image. */
export const BUILTIN_SYMBOLS = symbolsFor(DEFAULT_KERNEL);
