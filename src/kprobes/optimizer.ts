import type { DomainEvent, Hex } from '../model/events.ts';
import { kprobeDisabled, probePoints } from '../model/queries.ts';
import { codeOf, type Setup } from '../model/setup.ts';
import type { KernelState } from '../model/state.ts';

// Optimized probes (spec §11): which points are queued at registration (R83, R84), what
// unoptimizes them (R87, R40), and the optimizer itself: deferred work that runs once a queued
// point's delay has passed. It waits, as synchronize_rcu_tasks() does, until no task stands inside the bytes the
// jump will overwrite (and no CPU is handling that probe), then replaces the breakpoint with a
// jump to the detour buffer. It is a function of the state: the simulation asks it before each
// scheduling decision, so a replay makes the same patches at the same place in the log.

/** The size of the jump (x86 `jmp rel32`). */
const JUMP_BYTES = 5n;

function taskInside(setup: Setup, w: KernelState, a: bigint): boolean {
  for (const t of w.tasks) {
    const f = t.frames;
    if (f === null) continue;
    const { fn, addrs } = codeOf(setup, f.fn);
    const pc = addrs[f.pc];
    if (pc === undefined || fn.module !== undefined) continue;
    const at = BigInt(pc);
    if (at > a && at < a + JUMP_BYTES) return true;
  }
  return false;
}

/** The points the optimizer patches now (none most of the time). */
export function planOptimizer(setup: Setup, w: KernelState): DomainEvent[] {
  if (setup.scenario.config?.optprobes !== true) return [];
  const out: DomainEvent[] = [];
  for (const [addr, point] of probePoints(w.kprobes)) {
    if (point.opt?.state !== 'queued' || point.opt.due > w.t || !point.armed) continue;
    if (w.cpus.some((c) => c.current === addr || c.trap === addr)) continue;
    if (taskInside(setup, w, BigInt(addr))) continue;
    out.push({ type: 'kprobe.opt.patch', addr });
  }
  return out;
}

/** The optimizer runs 5 jiffies after a point is queued (OPTIMIZE_DELAY); a jiffy is 1 ms here. */
export const OPTIMIZE_DELAY_TICKS = 5 * 1000;

/**
 * R83/R84: right after registration armed a point, queue it for the optimizer when it can be
 * optimized: CONFIG_OPTPROBES (x86_64), not ftrace-based, armed, no child with a post-handler,
 * and the 5-byte jump fits: inside one function, over ordinary instructions only (no call, ret
 * or fentry site to relocate), with no other probe inside it.
 */
export function queueOptimizer(setup: Setup, w: KernelState, cpu: number, pid: number, addr: Hex, children: readonly string[], disabled: boolean, sysctl = !w.kprobes.opt_off): DomainEvent[] {
  if (setup.scenario.config?.optprobes !== true || setup.symbols.image.arch !== 'x86_64' || !sysctl) return [];
  const k = w.kprobes;
  if (disabled || k.all_disarmed || k.table[addr]?.opt !== undefined) return [];
  if (children.some((p) => setup.steps.get(p)?.post !== undefined)) return [];
  const a = BigInt(addr);
  const at = setup.symbols.insnAt(a);
  if (at === undefined || a + JUMP_BYTES > at.fn.addr + BigInt(at.fn.size)) return [];
  for (const insn of at.fn.body) {
    const start = at.fn.addr + BigInt(insn.off);
    if (start >= a && start < a + JUMP_BYTES && insn.op.k !== 'insn') return [];
  }
  for (const other of Object.keys(k.table)) {
    const b = BigInt(other);
    if (b !== a && b > a - JUMP_BYTES && b < a + JUMP_BYTES) return [];
  }
  return [{ type: 'kprobe.opt.queue', cpu, pid, addr, due: w.t + OPTIMIZE_DELAY_TICKS }];
}

/** R87: what registering `probe` at `addr` unoptimizes at once. */
export function forcedUnoptimize(setup: Setup, w: KernelState, cpu: number, pid: number, probe: string, addr: Hex): DomainEvent[] {
  const out: DomainEvent[] = [];
  const a = BigInt(addr);
  for (const [other, point] of probePoints(w.kprobes)) {
    if (point.opt === undefined) continue;
    const b = BigInt(other);
    const withPost = b === a && setup.steps.get(probe)?.post !== undefined;
    const inside = a > b && a < b + JUMP_BYTES;
    if (withPost || inside) out.push({ type: 'kprobe.opt.unopt', cpu, pid, addr: other });
  }
  return out;
}

/**
 * R40: `echo 0|1 > /proc/sys/debug/kprobes-optimization`. Off unoptimizes every optimized or
 * queued point; on queues every point that can be optimized. Probes keep working either way.
 * (The kernel does it under kprobe_mutex and waits for the optimizer; the model does it at once.)
 */
export function optimizationSysctl(setup: Setup, w: KernelState, cpu: number, pid: number, value: boolean): DomainEvent[] {
  const out: DomainEvent[] = [{ type: 'kprobes.optimization', cpu, pid, value }];
  for (const [addr, point] of probePoints(w.kprobes)) {
    if (!value && point.opt !== undefined) out.push({ type: 'kprobe.opt.unopt', cpu, pid, addr });
    const enabled = point.probes.some((p) => !kprobeDisabled(w.kprobes.probes[p]));
    if (value && point.armed && enabled) out.push(...queueOptimizer(setup, w, cpu, pid, addr, point.probes, false, true));
  }
  return out;
}
