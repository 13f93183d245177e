import type { DomainEvent, Hex } from '../model/events.ts';
import { recGet } from '../model/fold/record.ts';
import { toHex } from '../model/hex.ts';
import { pointDisabled, probePoints } from '../model/queries.ts';
import { codeOf, type Setup } from '../model/setup.ts';
import type { KernelState, KprobesState, ProbePoint } from '../model/state.ts';

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

/** Whether `a` lies in bytes 1.. of the jump at `b` (the breakpoint byte itself is `b`'s own). */
function insideJump(b: bigint, a: bigint): boolean {
  return a > b && a < b + JUMP_BYTES;
}

/**
 * The points at `a + d` for d in `ds`, looked up by address: the few a jump can cover or be
 * covered by, without a walk over the whole table.
 */
function pointsNear(k: KprobesState, a: bigint, ds: readonly bigint[]): ProbePoint[] {
  const out: ProbePoint[] = [];
  for (const d of ds) {
    const point = recGet(k.table, toHex(a + d));
    if (point !== undefined) out.push(point);
  }
  return out;
}
/** Offsets of the points whose jump would cover an address: a - 4 … a - 1. */
const COVERING = [-4n, -3n, -2n, -1n];
/** Offsets of the points inside the jump at an address: a + 1 … a + 4. */
const INSIDE = [1n, 2n, 3n, 4n];

/**
 * kprobe_optimizer(): what the optimizer does now (nothing most of the time). It works under
 * kprobe_mutex, first the queued unoptimizations (R87: breakpoint back, then removed from a
 * disabled aggregator, and an emptied aggregator leaves the table, R68), then the queued
 * optimizations (R84). The model leaves a point alone while a CPU is handling it or a task stands
 * inside its jump region: the RCU-tasks wait the kernel does before patching and before freeing.
 */
export function kprobe_optimizer(setup: Setup, w: KernelState): DomainEvent[] {
  if (setup.scenario.config?.optprobes !== true || w.kprobes.mutex.owner !== null) return [];
  const ready = (addr: Hex, due: number) => due <= w.t && !handling(w, addr) && !taskInside(setup, w, BigInt(addr));
  const points = probePoints(w.kprobes);
  const out: DomainEvent[] = [];
  for (const [addr, point] of points) {
    if (point.opt?.state === 'unopt' && ready(addr, point.opt.due)) out.push({ type: 'kprobe.opt.unpatch', addr });
  }
  for (const [addr, point] of points) {
    if (point.opt?.state === 'queued' && point.armed && ready(addr, point.opt.due)) out.push({ type: 'kprobe.opt.patch', addr });
  }
  return out;
}

/** Whether a CPU is handling a hit at `addr` (the model leaves such a point alone). */
function handling(w: KernelState, addr: Hex): boolean {
  return w.cpus.some((c) => c.current === addr || c.trap === addr || c.prev?.current === addr);
}

/**
 * wait_for_kprobe_optimizer(), as disarming everything (R42) and the sysctl (R40) end: the queued
 * unoptimizations run now rather than when due.
 */
export function flushUnoptimizations(w: KernelState): DomainEvent[] {
  return probePoints(w.kprobes)
    .filter(([addr, point]) => point.opt?.state === 'unopt' && !handling(w, addr))
    .map(([addr]): DomainEvent => ({ type: 'kprobe.opt.unpatch', addr }));
}

/** The optimizer runs 5 jiffies after a point is queued (OPTIMIZE_DELAY); a jiffy is 1 ms here. */
export const OPTIMIZE_DELAY_TICKS = 5 * 1000;

/**
 * optimize_kprobe(), R83/R84: right after a point was armed (registration, enable_kprobe, arm-all, the sysctl, an
 * unregister that took a post-handler or a neighbour away), queue it for the optimizer when it can
 * be optimized: CONFIG_OPTPROBES (x86_64), not ftrace-based, armed, not already OPTIMIZED, no child
 * with a post-handler, and the 5-byte jump fits: inside one function, over ordinary instructions
 * only (no call, ret or fentry site to relocate), with no armed probe inside it.
 */
export function optimize_kprobe(setup: Setup, w: KernelState, cpu: number, pid: number, addr: Hex, children: readonly string[], disabled: boolean, sysctl = !w.kprobes.opt_off): DomainEvent[] {
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
  // arch_check_optimized_kprobe(): a disarmed probe in the region does not block.
  if (pointsNear(k, a, INSIDE).some((point) => point.armed)) return [];
  return [{ type: 'kprobe.opt.queue', cpu, pid, addr, due: w.t + OPTIMIZE_DELAY_TICKS }];
}

/** R87: queue every armed, enabled point that can be optimized now (after something that blocked it went). */
export function requeueOptimizer(setup: Setup, w: KernelState, cpu: number, pid: number, where: (addr: Hex) => boolean = () => true, sysctl = !w.kprobes.opt_off): DomainEvent[] {
  // optimize_kprobe() queues nothing then: no walk over the table.
  if (setup.scenario.config?.optprobes !== true || setup.symbols.image.arch !== 'x86_64' || !sysctl) return [];
  return probePoints(w.kprobes)
    .filter(([addr, point]) => where(addr) && point.armed && !pointDisabled(w.kprobes, point))
    .flatMap(([addr, point]) => optimize_kprobe(setup, w, cpu, pid, addr, point.probes, false, sysctl));
}

/** R87: "a probe that was blocked by a neighbour is re-optimized once the neighbour is gone". */
export function requeueCovering(setup: Setup, w: KernelState, cpu: number, pid: number, addr: Hex): DomainEvent[] {
  if (pointsNear(w.kprobes, BigInt(addr), COVERING).length === 0) return [];
  return requeueOptimizer(setup, w, cpu, pid, (b) => insideJump(BigInt(b), BigInt(addr)));
}

/**
 * R87 (__arm_kprobe): arming a probe inside another point's jump region unoptimizes that point at
 * once. One whose unoptimization was already queued is unpatched at once (the kernel restores its
 * breakpoint at once and leaves the disarm to the optimizer; the model does both).
 */
export function unoptimizeCovering(w: KernelState, cpu: number, pid: number, addr: Hex): DomainEvent[] {
  const a = BigInt(addr);
  // Most of the time no point near is optimized; otherwise the walk keeps the table's order.
  if (!pointsNear(w.kprobes, a, COVERING).some((point) => point.opt !== undefined)) return [];
  return probePoints(w.kprobes)
    .filter(([b, point]) => point.opt !== undefined && insideJump(BigInt(b), a))
    .map(([b, point]): DomainEvent => (point.opt?.state === 'unopt' ? { type: 'kprobe.opt.unpatch', addr: b } : { type: 'kprobe.opt.unopt', cpu, pid, addr: b }));
}

/**
 * register_aggr_kprobe() at an OPTIMIZED point (R87, R15): an emptied aggregator still waiting for
 * the optimizer is revived (enabled, its unoptimization dequeued: the code stays as it is),
 * whatever the new child is; an enabled child at one with children re-arms it (arm_kprobe(): int3
 * over the jump, the unoptimization dequeued); a child with a post-handler unoptimizes at once
 * instead; arming a probe inside another point's jump unoptimizes that one.
 */
export function joinOptimized(setup: Setup, w: KernelState, cpu: number, pid: number, probe: string, addr: Hex, disabled: boolean): DomainEvent[] {
  const point = w.kprobes.table[addr];
  const out: DomainEvent[] = [];
  const post = setup.steps.get(probe)?.post !== undefined;
  const pending = point?.opt?.state === 'unopt';
  const revive = pending && point!.probes.length === 0;
  if (revive) out.push({ type: 'kprobe.opt.revive', cpu, pid, addr });
  else if (pending && !disabled && !post) out.push({ type: 'kprobe.opt.rearm', cpu, pid, addr });
  if (point?.opt !== undefined && post) {
    // A disabled child leaves the aggregator disabled: the optimizer would disarm it; done here.
    out.push(pending && !revive && disabled ? { type: 'kprobe.opt.unpatch', addr } : { type: 'kprobe.opt.unopt', cpu, pid, addr });
  }
  // __arm_kprobe() runs only for a point that gets armed now (R29, R30).
  const arming = point?.armed !== true && !disabled && !w.kprobes.all_disarmed;
  return [...(arming ? unoptimizeCovering(w, cpu, pid, addr) : []), ...out];
}

/**
 * R87 (__disarm_kprobe): the last enabled child of a point goes (disable or unregister). A patched
 * point's unoptimization is queued and the jump stays until the optimizer runs (hits on it then do
 * nothing, R86); a point only queued for optimization is taken off the queue and disarmed now.
 * Returns the unoptimization events and whether the breakpoint is to be removed now.
 */
export function disarmOptimized(w: KernelState, cpu: number, pid: number, addr: Hex): { events: DomainEvent[]; disarm: boolean } {
  const opt = w.kprobes.table[addr]?.opt;
  if (opt === undefined) return { events: [], disarm: true };
  if (opt.state === 'queued') return { events: [{ type: 'kprobe.opt.unopt', cpu, pid, addr }], disarm: true };
  if (opt.state === 'optimized' || opt.state === 'trapping') return { events: [{ type: 'kprobe.opt.unopt.queue', cpu, pid, addr, due: w.t + OPTIMIZE_DELAY_TICKS }], disarm: false };
  return { events: [], disarm: false };
}

/**
 * R40: `echo 0|1 > /proc/sys/debug/kprobes-optimization`. Off unoptimizes every optimized or
 * queued point; on queues every point that can be optimized. Probes keep working either way.
 * (The kernel queues the unoptimizations and waits for the optimizer; the model does it at once.)
 */
export function optimizationSysctl(setup: Setup, w: KernelState, cpu: number, pid: number, value: boolean): DomainEvent[] {
  const out: DomainEvent[] = [{ type: 'kprobes.optimization', cpu, pid, value }];
  if (value) return [...out, ...requeueOptimizer(setup, w, cpu, pid, () => true, true)];
  for (const [addr, point] of probePoints(w.kprobes)) {
    if (point.opt !== undefined && point.opt.state !== 'unopt') out.push({ type: 'kprobe.opt.unopt', cpu, pid, addr });
  }
  return [...out, ...flushUnoptimizations(w)];
}
