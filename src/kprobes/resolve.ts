import type { FunctionSymbol, SymbolTable } from '../kernel/index.ts';
import type { ProbeSpec } from '../scenario/types.ts';
import { EILSEQ, EINVAL, ENOENT } from './errno.ts';

// Where a probe would go and whether the kernel accepts the spot: the address-side checks of
// register_kprobe in spec order (R21 resolution, R25/R28 blacklist, R26 instruction boundary).

/** x86's kretprobe_blacklist: functions whose return cannot be hijacked (R70). */
const KRETPROBE_BLACKLIST: ReadonlySet<string> = new Set(['__switch_to']);

export type Resolution =
  | { readonly ok: true; readonly addr: bigint; readonly fn: FunctionSymbol; readonly offset: number }
  | {
      readonly ok: false;
      readonly errno: number;
      readonly reason: string;
      /**
       * R22: the address had been resolved and written to `p->addr` of a struct given by symbol
       * before this check failed (a reuse of the struct then needs addr cleared).
       */
      readonly written?: bigint;
    };

export function resolveProbe(spec: ProbeSpec, symbols: SymbolTable): Resolution {
  // R21: exactly one of addr and symbol_name.
  if ((spec.symbol === undefined) === (spec.addr === undefined)) {
    return { ok: false, errno: -EINVAL, reason: 'give exactly one of symbol and addr (R21)' };
  }
  let base: bigint;
  if (spec.symbol !== undefined) {
    const sym = symbols.lookup(spec.symbol);
    if (sym === undefined) return { ok: false, errno: -ENOENT, reason: `unknown symbol "${spec.symbol}" (R21)` };
    base = sym.addr;
  } else {
    base = BigInt(spec.addr!);
  }
  let addr = base + BigInt(spec.offset ?? 0);
  // R21: the address is re-expressed relative to the symbol that really contains it.
  const owner = symbols.containing(addr);
  if (owner === undefined) return { ok: false, errno: -ENOENT, reason: 'address is inside no known symbol (R21)' };
  // From here on the address is in the caller's struct (R22), for a struct given by symbol.
  const written = () => (spec.symbol !== undefined ? { written: addr } : {});
  if (owner.kind !== 'func') return { ok: false, errno: -EINVAL, reason: `${owner.name} is not kernel text (R25.2)`, ...written() };
  // R24: on IBT builds offsets 0 and 4 both mean the entry, and the probe goes after ENDBR64.
  if (startsWithEndbr(owner) && addr === owner.addr) addr += BigInt(ENDBR_LEN);
  const entry = addr === owner.addr + BigInt(entryOffset(owner));
  if (symbols.isBlacklisted(owner)) {
    return { ok: false, errno: -EINVAL, reason: `${owner.name} is on the kprobe blacklist (${symbols.blacklistRule(owner)})`, ...written() };
  }
  // R82: a jprobe only ever sits at a function's entry.
  if (spec.kind === 'jprobe' && !entry) {
    return { ok: false, errno: -EINVAL, reason: `${symbols.format(addr)} is not a function entry (a jprobe, R82)` };
  }
  if (spec.kind === 'kretprobe') {
    // R70: a return probe sits at a function entry, and never on the kretprobe blacklist.
    if (!entry) return { ok: false, errno: -EINVAL, reason: `${symbols.format(addr)} is not a function entry (R70)` };
    if (KRETPROBE_BLACKLIST.has(owner.name)) {
      return { ok: false, errno: -EINVAL, reason: `${owner.name} is on the kretprobe blacklist (R70)` };
    }
  }
  if (symbols.insnAt(addr) === undefined) {
    return { ok: false, errno: -EILSEQ, reason: `${symbols.format(addr)} is not an instruction boundary (R26)`, ...written() };
  }
  return { ok: true, addr, fn: owner, offset: Number(addr - owner.addr) };
}

const ENDBR_LEN = 4;

function startsWithEndbr(fn: FunctionSymbol): boolean {
  return fn.body[0]?.text === 'endbr64';
}

/** Where a function's entry is for kprobes (R24): after ENDBR64 on IBT builds, else +0. */
export function entryOffset(fn: FunctionSymbol): number {
  return startsWithEndbr(fn) ? ENDBR_LEN : 0;
}

/** R25.1: the address is the function's ftrace patch site, so the probe is ftrace-based (§12). */
export function isFtraceSite(symbols: SymbolTable, addr: bigint): boolean {
  return symbols.insnAt(addr)?.insn.op.k === 'fentry';
}
