import { codeOf, type Setup } from '../model/setup.ts';
import type { DomainEvent, Hex } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';

// The kprobe optimizer (spec §11, R84): deferred work that runs once a queued point's delay has
// passed. It waits, as synchronize_rcu_tasks() does, until no task stands inside the bytes the
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
  for (const [addr, point] of Object.entries(w.kprobes.table) as [Hex, NonNullable<KernelState['kprobes']['table'][Hex]>][]) {
    if (point.opt?.state !== 'queued' || point.opt.due > w.t || !point.armed) continue;
    if (w.cpus.some((c) => c.current === addr || c.trap === addr)) continue;
    if (taskInside(setup, w, BigInt(addr))) continue;
    out.push({ type: 'kprobe.opt.patch', addr });
  }
  return out;
}
