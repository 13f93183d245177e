import { isFtraceSite } from '../kprobes/resolve.ts';
import type { SymbolTable } from '../kernel/index.ts';
import { kprobeBucket } from '../kprobes/table.ts';
import type { Hex } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import type { ProbeSpec } from '../scenario/types.ts';
import { own } from '../model/own.ts';

// The files of /sys/kernel/debug/kprobes/ (spec §14), rendered from a folded state as
// kernel/kprobes.c prints them (root, so kernel addresses are shown).

const hex16 = (a: bigint) => a.toString(16).padStart(16, '0');

/**
 * R99 `list`: one line per registered probe, buckets 0..63 in order, the newest probe point of a
 * bucket first (R7), the children of an aggregated point one by one in their list order (R9):
 * `<addr>  <k|r>  <sym>+0x<off>  <module or one space> <flags>`.
 */
export function kprobesList(s: KernelState, scenario: { readonly probes: readonly ProbeSpec[] }, symbols: SymbolTable): string {
  const points = (Object.keys(s.kprobes.table) as Hex[]).map((addr, order) => ({ addr, order, bucket: kprobeBucket(BigInt(addr)) }));
  // Within a bucket the most recently inserted entry comes first; object keys keep insertion order.
  points.sort((a, b) => a.bucket - b.bucket || b.order - a.order);
  // 4.14 also marked jprobes, `j`.
  const kinds = new Map(scenario.probes.map((p) => [p.name, p.kind === 'kretprobe' ? 'r' : p.kind === 'jprobe' ? 'j' : 'k']));
  const lines: string[] = [];
  for (const { addr } of points) {
    const a = BigInt(addr);
    const sym = symbols.containing(a);
    const where = sym ? `${sym.name}+0x${(a - sym.addr).toString(16)}` : `0x${a.toString(16)}`;
    const module = sym?.kind === 'func' && sym.module !== undefined ? sym.module : ' ';
    // R99: [OPTIMIZED] (set when queued, R89) and [FTRACE] (§12) are the aggregator's.
    const ftrace = (s.kprobes.table[addr]!.opt ? '[OPTIMIZED]' : '') + (isFtraceSite(symbols, a) ? '[FTRACE]' : '');
    for (const probe of s.kprobes.table[addr]!.probes) {
      const reg = own(s.kprobes.probes, probe);
      // R1: GONE implies disabled; the list shows [DISABLED] only for a probe that is not gone.
      const flags = (reg?.gone ? '[GONE]' : reg?.disabled ? '[DISABLED]' : '') + ftrace;
      lines.push(`${hex16(a)}  ${kinds.get(probe) ?? 'k'}  ${where}  ${module} ${flags}`);
    }
  }
  return lines.map((l) => `${l}\n`).join('');
}

/** R100 `blacklist`: one line per blacklisted function, `0x<start>-0x<end>\t<symbol>`. */
export function kprobesBlacklist(symbols: SymbolTable): string {
  return symbols
    .functions()
    .filter((f) => symbols.isBlacklisted(f))
    .map((f) => `0x${hex16(f.addr)}-0x${hex16(f.addr + BigInt(f.size))}\t${f.name}\n`)
    .join('');
}

/** R101/R42 `enabled`: "1" while the global switch is on, "0" after a disarm-all. */
export function kprobesEnabled(s: KernelState): string {
  return s.kprobes.all_disarmed ? '0\n' : '1\n';
}
