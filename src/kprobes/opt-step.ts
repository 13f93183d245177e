import type { DomainEvent, Hex } from '../model/events.ts';
import { pointDisabled } from '../model/queries.ts';
import type { Ctx, Here } from './here.ts';
import { withPendingAcks } from './here.ts';
import { recGet } from '../model/fold/record.ts';

// Optimized probes (spec §11), once the optimizer has replaced the breakpoint with a jump: the
// CPU jumps to the detour buffer, which calls the optimized callback and then runs the copied
// instructions; there is no trap, no single-step and no post-handler (R86).

/** Whether the kprobe running on this CPU came through an optimized point's jump. */
export function inOptimizedRun(h: Here): boolean {
  const { c } = h;
  return c.status !== 'idle' && c.trampoline === null && c.opt_run === true;
}

/** optimized_callback(): R86: the jump at an optimized point, through the detour buffer. */
export function optimized_callback(h: Here, ctx: Ctx, addr: Hex): DomainEvent[] {
  const { c, pid } = h;
  const point = recGet(h.w.kprobes.table, addr)!;
  // The detour runs the original instruction after the callback, whatever the callback did.
  const copy: DomainEvent = { type: 'insn.exec', cpu: c.id, pid, ip: addr, ctx };
  // A disabled aggregator (its unoptimization queued, R87) does nothing and counts nothing.
  if (pointDisabled(h.w.kprobes, point)) return [copy];
  // A kprobe already running on this CPU: a miss on every child, and nothing else.
  if (c.status !== 'idle') return [{ type: 'kprobe.opt.miss', cpu: c.id, pid, addr, probes: point.probes }, copy];
  return [{ type: 'kprobe.opt.hit', cpu: c.id, pid, addr, probes: point.probes }];
}

/** After the pre-handlers (their return values ignored): current_kprobe := NULL, run the copy. */
export function optDone(h: Here): DomainEvent[] {
  const { c, pid } = h;
  const addr = c.current!;
  return withPendingAcks(h.w, c, [
    { type: 'kprobe.opt.done', cpu: c.id, addr },
    { type: 'insn.exec', cpu: c.id, pid, ip: addr, ctx: 'task' },
  ]);
}
