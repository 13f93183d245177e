import type { DomainEvent } from '../model/events.ts';
import { evolveCpu } from '../model/evolve.ts';
import type { RunStep, Setup } from '../model/setup.ts';
import type { CpuState, KernelState, TaskState } from '../model/state.ts';

// What every part of a CPU's step works with: where it stands, and the acknowledgements a CPU
// sends on its own at the end of a step.

/** Whose code the CPU executes: the task's, or a kprobe handler's. */
export type Ctx = 'task' | 'handler';

export interface Here {
  readonly setup: Setup;
  readonly w: KernelState;
  readonly c: CpuState;
  readonly task: TaskState | undefined;
  /** The pid of the running context (0, the idle task, when none). */
  readonly pid: number;
}

/**
 * Appends what the CPU does at the end of its step on its own: acknowledge a pending text-patch
 * IPI once interrupts are on again (R55), report a quiescent state once preemption is on (R61).
 */
export function withPendingAcks(w: KernelState, c: CpuState, list: DomainEvent[]): DomainEvent[] {
  const sync = w.kprobes.sync;
  const gps = w.kprobes.gps;
  let needGp = 0;
  for (const g in gps) if (Number(g) > c.rcu_gp && gps[Number(g)]!.includes(c.id)) needGp = Math.max(needGp, Number(g));
  const needSync = sync !== null && sync.gen > c.acked_sync && sync.waiting.includes(c.id);
  if (!needSync && needGp === 0) return list;
  let after = c;
  for (const e of list) after = evolveCpu(after, e);
  if (needSync && !after.irqs_off && !after.halted) list.push({ type: 'ipi.ack', cpu: c.id, sync: sync.gen });
  if (needGp > 0 && after.preempt_count === 0 && !after.halted) list.push({ type: 'rcu.qs', cpu: c.id, gp: needGp });
  return list;
}

/** What a probe runs in a handler phase (undefined: no handler for it). */
export function stepsOf(h: Here, probe: string, phase: 'pre' | 'post' | 'ret'): readonly RunStep[] | undefined {
  return h.setup.steps.get(probe)?.[phase];
}
