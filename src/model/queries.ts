import type { Hex } from './events.ts';
import type { CpuState, KernelState, KprobesState, ProbePoint, ProbeReg, TaskState } from './state.ts';
import { own } from './own.ts';

// Read-only questions about a folded state that several actors and views ask.

/** The task running on a CPU, if any (a task that exited leaves its CPU idle). */
export function currentTask(w: KernelState, cpu: number): TaskState | undefined {
  const pid = w.sched.curr[cpu];
  if (pid === null || pid === undefined) return undefined;
  for (const t of w.tasks) if (t.pid === pid) return t.cpu === cpu ? t : undefined;
  return undefined;
}

export function findTask(w: KernelState, pid: number): TaskState | undefined {
  for (const t of w.tasks) if (t.pid === pid) return t;
  return undefined;
}

/** Every CPU the current text-patch sync waits for has taken the IPI. */
export function syncComplete(w: KernelState): boolean {
  const s = w.kprobes.sync;
  return s === null || s.waiting.every((c) => (w.cpus[c]?.acked_sync ?? Infinity) >= s.gen);
}

/** Every CPU grace period `gp` waits for has passed a quiescent state. */
export function gpComplete(w: KernelState, gp: number): boolean {
  const waiting = w.kprobes.gps[gp];
  return waiting === undefined || waiting.every((c) => (w.cpus[c]?.rcu_gp ?? Infinity) >= gp);
}

/** A task may run: it waits for nothing, or what it waited for has happened. */
export function taskReady(w: KernelState, t: TaskState): boolean {
  const wait = t.wait;
  if (wait === null) return true;
  switch (wait.on) {
    case 'time':
      return w.t >= wait.until;
    case 'mutex':
      return w.kprobes.mutex.owner === t.pid;
    case 'sync':
      return syncComplete(w);
    case 'gp':
      return gpComplete(w, wait.gp);
    case 'input':
      return false;
    case 'children':
      return (w.c?.kids[t.pid]?.length ?? 0) === 0;
  }
}

/**
 * Whether the scheduler may take this CPU's task off it now: only outside every kprobe path and
 * with preemption enabled (INV-preempt), and not while its task spins on a text-patch sync.
 */
export function preemptible(w: KernelState, c: CpuState): boolean {
  if (c.halted || c.preempt_count > 0 || c.status !== 'idle' || c.trap !== null || c.handler !== null) return false;
  const t = currentTask(w, c.id);
  // Without CONFIG_PREEMPTION kernel code runs until it blocks or returns to user space.
  if (w.sched.voluntary && t !== undefined && t.frames !== null && t.wait === null) return false;
  return t?.wait?.on !== 'sync';
}

/** CPUs inside a region a grace period must wait for (preemption disabled). */
export function cpusInReadSection(w: KernelState, except: number): number[] {
  return w.cpus.filter((c) => c.id !== except && c.preempt_count > 0).map((c) => c.id);
}

/** CPUs that cannot take an IPI now (inside the int3 handler or single-stepping, IF clear). */
export function cpusWithIrqsOff(w: KernelState, except: number): number[] {
  return w.cpus.filter((c) => c.id !== except && c.irqs_off && !c.halted).map((c) => c.id);
}

/** The kernel's `kprobe_disabled()`: DISABLED or GONE (R1); a GONE probe never runs (R14, R95). */
export function kprobeDisabled(reg: ProbeReg | undefined): boolean {
  return reg !== undefined && (reg.disabled || reg.gone === true);
}

/** R13: the aggregator's DISABLED flag: no enabled child, except where R15 or R36 set it apart. */
export function pointDisabled(k: KprobesState, point: ProbePoint): boolean {
  return point.aggr_disabled ?? point.probes.every((p) => kprobeDisabled(own(k.probes, p)));
}

/** §11: the optimizer's jump replaces the breakpoint (patched, and maybe queued for unoptimization). */
export function jumpInPlace(point: ProbePoint | undefined): boolean {
  return point?.opt?.state === 'optimized' || (point?.opt?.state === 'unopt' && point.opt.int3 !== true);
}

/**
 * When the optimizer's queued work is next due (Infinity when there is none): with every CPU idle,
 * logical time moves on to it, so a run does not end with the kernel's deferred work undone.
 */
export function optimizerDue(w: KernelState): number {
  let due = Infinity;
  for (const [, point] of probePoints(w.kprobes)) {
    const opt = point.opt;
    if ((opt?.state === 'queued' || opt?.state === 'unopt') && opt.due > w.t) due = Math.min(due, opt.due);
  }
  return due;
}

/** The probe table's points with their addresses, in insertion order. */
export function probePoints(k: KprobesState): [Hex, ProbePoint][] {
  return Object.entries(k.table) as [Hex, ProbePoint][];
}
