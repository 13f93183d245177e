// The kernel image and its symbol table, as the rest of the simulator sees them.

import { SymbolTable } from './symbols.ts';
import { X86_64_IMAGE } from './x86_64.ts';

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
export { DATA_ALIGN, DATA_BASE, FUNC_ALIGN, ImageBuilder, TEXT_BASE, X86_64_IMAGE } from './x86_64.ts';
export type { FuncSpec } from './x86_64.ts';

/** kallsyms of the built-in image, shared: the table is immutable once built. */
export const BUILTIN_SYMBOLS = new SymbolTable(X86_64_IMAGE);
