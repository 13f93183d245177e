// A small in-memory ParseContext over a symbol list: the test double of the tracefs parser, and a
// stand-in until the simulator implements ParseContext over its kernel image.

import type { Arch, BtfFuncProto, ParseContext } from './types.ts';

export interface SimpleSymbol {
  readonly name: string;
  /** Owning module; absent for vmlinux. */
  readonly module?: string;
  /** Offsets that count as "function entry" (R24); default [0] (x86 IBT builds: [0, 4]). */
  readonly entryOffsets?: readonly number[];
  /** Size in bytes; offsets at or past it are not resolvable. Default: unbounded. */
  readonly size?: number;
}

export interface SimpleContextOptions {
  readonly arch?: Arch;
  readonly symbols: readonly (string | SimpleSymbol)[];
  /** Loaded modules. */
  readonly modules?: readonly string[];
  /** BTF prototypes by function name; presence of this option means the kernel supports BTF args. */
  readonly btf?: Readonly<Record<string, BtfFuncProto>>;
  readonly maxactiveLimit?: number;
  readonly threadSize?: number;
}

export function simpleContext(options: SimpleContextOptions): ParseContext {
  const symbols: SimpleSymbol[] = options.symbols.map((s) => (typeof s === 'string' ? { name: s } : s));
  const modules = new Set(options.modules ?? []);
  const visible = (s: SimpleSymbol): boolean => s.module === undefined || modules.has(s.module);
  const matching = (name: string, module?: string): SimpleSymbol[] =>
    symbols.filter((s) => s.name === name && visible(s) && (module === undefined || s.module === module));
  const btf = options.btf;
  const ctx: ParseContext = {
    arch: options.arch ?? 'x86_64',
    symbolExists: (name, module) => matching(name, module).length > 0,
    symbolCount: (name, module) => matching(name, module).length,
    isModuleLoaded: (m) => modules.has(m),
    isFunctionEntry: (symbol, module, offset) => {
      if (module !== null && !modules.has(module)) return undefined;
      const s = matching(symbol, module ?? undefined)[0];
      if (!s) return undefined;
      if (s.size !== undefined && offset >= s.size) return undefined;
      return (s.entryOffsets ?? [0]).includes(offset);
    },
    ...(options.maxactiveLimit !== undefined ? { maxactiveLimit: options.maxactiveLimit } : {}),
    ...(options.threadSize !== undefined ? { threadSize: options.threadSize } : {}),
    ...(btf !== undefined ? { btf: { funcProto: (name: string) => (Object.prototype.hasOwnProperty.call(btf, name) ? btf[name] : undefined) } } : {}),
  };
  return ctx;
}
