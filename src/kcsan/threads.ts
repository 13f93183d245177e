import type { KernelState } from '../model/state.ts';

// The threads of the race checker: what runs code in program order. A task is one (its kprobe
// handlers run inside it: a breakpoint hit is part of the task's own instruction stream, so a
// handler and its task never race), whichever CPUs it migrates between; a CPU's interrupt context
// is another, as KCSAN keeps a per-CPU context for interrupts; and a CPU's idle task (pid 0).

/** A thread's key: `task 123`, `irq 1` (CPU 1's interrupt context), `idle 0`. */
export type ThreadKey = `task ${number}` | `irq ${number}` | `idle ${number}`;

/** The thread running on `cpu` in the state before an event (`pid`: the event's, when it names one). */
export function threadOn(w: KernelState, cpu: number, pid?: number): ThreadKey {
  if ((w.cpus[cpu]?.in_irq ?? 0) > 0) return `irq ${cpu}`;
  const p = pid ?? w.sched.curr[cpu] ?? null;
  return p === null || p === 0 ? `idle ${cpu}` : `task ${p}`;
}

export function taskThread(pid: number): ThreadKey {
  return `task ${pid}`;
}
