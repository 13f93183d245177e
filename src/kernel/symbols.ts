// kallsyms for the simulated kernel: name → symbol, address → symbol, and the kprobe blacklist
// (spec R21, R26, R28). Built once per image; every query is read-only.

import { distance } from 'fastest-levenshtein';
import type { AliasSymbol, DataSymbol, FunctionSymbol, Insn, KernelImage, KernelSymbol } from './image.ts';

/** A symbol that occupies addresses (aliases do not: they borrow their target's). */
export type AddressedSymbol = FunctionSymbol | DataSymbol;

/** The result of a name lookup, remembering which name was asked for. */
export interface Resolved {
  /** The name the caller asked for, e.g. "_do_fork". */
  readonly asked: string;
  /** Set when `asked` was an alias. */
  readonly alias?: AliasSymbol;
  /** The symbol that really holds the address, e.g. kernel_clone. */
  readonly symbol: AddressedSymbol;
}

export interface InsnRef {
  readonly fn: FunctionSymbol;
  readonly index: number;
  readonly insn: Insn;
}

/** Which item of spec R28 puts a function on the blacklist. */
export type BlacklistRule = 'R28.1' | 'R28.2' | 'R28.3' | 'R28.4' | 'R28.6';

export class SymbolTable {
  private readonly byName = new Map<string, KernelSymbol>();
  /** Addressed symbols sorted by address, for binary search. */
  private readonly ordered: readonly AddressedSymbol[];
  private readonly funcs: readonly FunctionSymbol[];
  /** All names, sorted, so suggest() breaks ties the same way whatever the layout. */
  private readonly names: readonly string[];

  constructor(readonly image: KernelImage) {
    for (const s of image.symbols) this.byName.set(s.name, s);
    this.ordered = image.symbols
      .filter((s): s is AddressedSymbol => s.kind !== 'alias')
      .sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
    this.funcs = this.ordered.filter((s): s is FunctionSymbol => s.kind === 'func');
    this.names = [...this.byName.keys()].sort();
  }

  /** Name lookup following aliases; undefined for unknown names (the -ENOENT of R21). */
  resolve(name: string): Resolved | undefined {
    // MOD:SYM names a symbol of a loadable module (R21).
    const colon = name.indexOf(':');
    if (colon > 0) {
      const sym = this.byName.get(name.slice(colon + 1));
      return sym?.kind === 'func' && sym.module === name.slice(0, colon) ? { asked: name, symbol: sym } : undefined;
    }
    let s = this.byName.get(name);
    let alias: AliasSymbol | undefined;
    // Follow alias chains, bounded so a malformed image cannot loop forever.
    for (let hops = 0; s?.kind === 'alias' && hops < 8; hops++) {
      alias ??= s;
      s = this.byName.get(s.target);
    }
    if (s === undefined || s.kind === 'alias') return undefined;
    return alias === undefined ? { asked: name, symbol: s } : { asked: name, alias, symbol: s };
  }

  lookup(name: string): AddressedSymbol | undefined {
    return this.resolve(name)?.symbol;
  }

  /** The symbol whose [addr, addr+size) holds `addr`; alignment padding belongs to none. */
  containing(addr: bigint): AddressedSymbol | undefined {
    let lo = 0;
    let hi = this.ordered.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.ordered[mid]!;
      if (addr < s.addr) hi = mid - 1;
      else if (addr >= s.addr + BigInt(s.size)) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  /** The instruction starting exactly at `addr`; undefined mid-instruction (the -EILSEQ of R26). */
  insnAt(addr: bigint): InsnRef | undefined {
    const fn = this.containing(addr);
    if (fn?.kind !== 'func') return undefined;
    const off = Number(addr - fn.addr); // safe: bounded by the function's size
    let lo = 0;
    let hi = fn.body.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const insn = fn.body[mid]!;
      if (off < insn.off) hi = mid - 1;
      else if (off > insn.off) lo = mid + 1;
      else return { fn, index: mid, insn };
    }
    return undefined;
  }

  /** Kernel `%pS`-style text, `vfs_read+0x4/0x16`; undefined outside every symbol. */
  format(addr: bigint): string | undefined {
    const s = this.containing(addr);
    if (s === undefined) return undefined;
    return `${s.name}+0x${(addr - s.addr).toString(16)}/0x${s.size.toString(16)}`;
  }

  /**
   * The closest known name for a "did you mean" hint, or undefined when nothing is close:
   * accepted within max(2, floor(len/3)) edits, ties going to the alphabetically first name.
   */
  suggest(name: string): string | undefined {
    const limit = Math.max(2, Math.floor(name.length / 3));
    let best: string | undefined;
    let bestDist = limit + 1;
    for (const candidate of this.names) {
      // Names far longer or shorter cannot be within the limit; skip the O(n·m) distance.
      if (Math.abs(candidate.length - name.length) > limit) continue;
      const d = distance(name, candidate);
      if (d < bestDist) {
        best = candidate;
        bestDist = d;
      }
    }
    return best;
  }

  /**
   * Which R28 item forbids probing `fn`, if any. A string may name a function or a compiler
   * clone of one (`foo.isra.0`, `foo.cold`, ...). Like the kernel's within_kprobe_blacklist(),
   * a clone is cut at its first '.', and the base name decides (R28.6).
   */
  blacklistRule(fn: FunctionSymbol | string): BlacklistRule | undefined {
    const sym = typeof fn === 'string' ? this.lookup(fn) : fn;
    if (sym?.kind === 'func') {
      if (sym.section === 'kprobes.text') return 'R28.1';
      if (sym.nokprobe) return 'R28.2';
      if (sym.section === 'noinstr') return 'R28.3';
      if (sym.section === 'entry.text') return 'R28.4';
    }
    const name = typeof fn === 'string' ? fn : fn.name;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const base = this.lookup(name.slice(0, dot));
      if (base?.kind === 'func' && this.blacklistRule(base) !== undefined) return 'R28.6';
    }
    return undefined;
  }

  isBlacklisted(fn: FunctionSymbol | string): boolean {
    return this.blacklistRule(fn) !== undefined;
  }

  /** Every function, in address order. */
  functions(): readonly FunctionSymbol[] {
    return this.funcs;
  }
}
