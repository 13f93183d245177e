import { currentTask, preemptible, taskReady } from '../model/queries.ts';
import type { CpuState, KernelState } from '../model/state.ts';

// The scheduler's menu: which CPU may take its next step, and which context switches are
// allowed. Strategies choose among these and nothing else, so every strategy respects
// INV-preempt by construction.

export interface Choice {
  readonly cpu: number;
  /** null: the CPU takes its next step; a pid: switch that task onto the CPU first. */
  readonly switch_to: number | null;
}

/** Mirrors planCpuStep: a CPU has a step unless it is halted, idle, or its task waits. */
export function cpuCanStep(w: KernelState, c: CpuState): boolean {
  if (c.halted) return false;
  if (c.trap !== null || c.status !== 'idle') return true;
  const task = currentTask(w, c.id);
  return task !== undefined && taskReady(w, task);
}

export function enabledChoices(w: KernelState): Choice[] {
  const out: Choice[] = [];
  // Tasks waiting for a CPU: ready and on none.
  const queued = w.tasks.filter((t) => t.cpu === null && taskReady(w, t));
  for (const c of w.cpus) {
    if (cpuCanStep(w, c)) out.push({ cpu: c.id, switch_to: null });
    if (queued.length === 0 || !preemptible(w, c)) continue;
    for (const t of queued) if (t.pinned === null || t.pinned === c.id) out.push({ cpu: c.id, switch_to: t.pid });
  }
  return out;
}

export function sameChoice(a: Choice, b: Choice): boolean {
  return a.cpu === b.cpu && a.switch_to === b.switch_to;
}
