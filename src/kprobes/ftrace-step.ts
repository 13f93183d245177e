import type { DomainEvent, Hex } from '../model/events.ts';
import { pointDisabled } from '../model/queries.ts';
import { stepsOf, withPendingAcks, type Ctx, type Here } from './here.ts';
import { isFtraceSite } from './resolve.ts';
import { recGet } from '../model/fold/record.ts';

// Probes on ftrace sites (spec §12): the fentry call reaches kprobe_ftrace_handler instead of a
// breakpoint, so there is no trap, no kprobe_int3_handler step, no single-step and no REENTER.

/** Whether the kprobe running on this CPU was entered through kprobe_ftrace_handler. */
export function inFtraceHandler(h: Here): boolean {
  const { c } = h;
  return c.status !== 'idle' && c.trampoline === null && c.current !== null && isFtraceSite(h.setup.symbols, BigInt(c.current));
}

/** kprobe_ftrace_handler(): R91: the fentry call of a function with an armed ftrace-based probe. */
export function kprobe_ftrace_handler(h: Here, ctx: Ctx, addr: Hex): DomainEvent[] {
  const { c, pid } = h;
  const point = recGet(h.w.kprobes.table, addr)!;
  // The NOP itself: what runs when the handler declines, after a miss, and after the handlers.
  const nop: DomainEvent = { type: 'insn.exec', cpu: c.id, pid, ip: addr, ctx };
  // A disabled probe (the aggregator's DISABLED, R13) does nothing; nor does any once ftrace has
  // shut itself down (R94).
  if (h.w.ftrace_dead || pointDisabled(h.w.kprobes, point)) return [nop];
  if (c.status !== 'idle') {
    // ftrace's recursion guard: a call nested in the same context as the ftrace handler that is
    // running (its own code) is dropped silently, before kprobes is asked (no handler, no miss);
    // from an interrupt that arrived meanwhile it is another context, and a miss.
    if (inFtraceHandler(h) && ctx === 'handler') return [{ type: 'kprobe.ftrace.recursion', cpu: c.id, pid, addr }, nop];
    // A kprobe is already running on this CPU (from another context): a miss and nothing else;
    // there is no REENTER for ftrace-based probes.
    return [{ type: 'kprobe.ftrace.miss', cpu: c.id, pid, addr, probes: point.probes }, nop];
  }
  return [{ type: 'kprobe.ftrace.hit', cpu: c.id, pid, addr, probes: point.probes }];
}

/** R92: after the pre-handlers returned 0: the post-handlers if there are any, else done. */
export function ftraceAfterPre(h: Here): DomainEvent[] {
  const { c } = h;
  const addr = c.current!;
  if (c.probes.some((p) => stepsOf(h, p, 'post') !== undefined)) return [{ type: 'kprobe.ftrace.post', cpu: c.id, addr }];
  return ftraceDone(h);
}

/** current_kprobe := NULL; the NOP is deemed executed and the function goes on. */
export function ftraceDone(h: Here): DomainEvent[] {
  const { c, pid } = h;
  const addr = c.current!;
  return withPendingAcks(h.w, c, [
    { type: 'kprobe.done', cpu: c.id, addr },
    { type: 'insn.exec', cpu: c.id, pid, ip: addr, ctx: 'task' },
  ]);
}

