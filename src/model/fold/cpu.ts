import { statusEffect, type StatusEffect, type StatusEventType } from '../../machines/kprobe-status.ts';
import type { DomainEvent } from '../events.ts';
import type { CpuState, Frame, KprobeStatus } from '../state.ts';
import { fail } from './errors.ts';
import { callFrame, retFrame, stepFrame } from './frames.ts';
import { afterReturn, cFrameEffect } from '../../cexec/fold.ts';

// ── the CPU slice (owned by cpu/N) ─────────────────────────────────────────────────────────

// The statuses the events assign come from the kprobe_status graph, the CPU machine's config
// (src/machines/kprobe-status.ts): from REENTER the graph's own move (stay, or restore the saved
// status), from any other status the one status the event's transitions lead to. Off the graph
// the fold still records what the event did; INV-status, derived from the same graph, reports it.

/** The status `type` moves a CPU to from any status but REENTER (fixed per event type). */
function target(type: StatusEventType): KprobeStatus {
  const to = statusEffect(type, false);
  if (to === undefined || to === 'stay' || to === 'restore') throw new Error(`internal: ${type} leads to no one status in the kprobe_status graph`);
  return to;
}

/** What `type` does to the status of a CPU in `status`. */
function effect(status: KprobeStatus, type: StatusEventType): StatusEffect {
  const eff = statusEffect(type, status === 'KPROBE_REENTER');
  if (eff === undefined) throw new Error(`internal: ${type} sets no status in the kprobe_status graph`);
  return eff;
}

const ON_HIT = target('kprobe.hit');
const ON_FTRACE_HIT = target('kprobe.ftrace.hit');
const ON_FTRACE_POST = target('kprobe.ftrace.post');
const ON_MISS = target('kprobe.miss');
const ON_REDIRECT = { 'kprobe.redirect': target('kprobe.redirect'), 'kprobe.override': target('kprobe.override'), 'kprobe.jump': target('kprobe.jump') } as const;
const ON_OPT_HIT = target('kprobe.opt.hit');
const ON_OPT_DONE = target('kprobe.opt.done');
const ON_DONE = target('kprobe.done');
const ON_RET_HANDLER = target('kretprobe.ret_handler');
const ON_RETURNED = target('kretprobe.put');

function withHandlerFrames(c: CpuState, frames: Frame | null): CpuState {
  if (c.handler === null) return fail(`cpu ${c.id} runs no handler`);
  return { ...c, handler: { ...c.handler, frames } };
}

/** R49/R51: restore the outer probe exactly as it was; the nested trap returns. */
function restorePreviousKprobe(c: CpuState): CpuState {
  if (c.prev === null) return fail(`cpu ${c.id}: REENTER with an empty prev_kprobe slot`);
  const p = c.prev;
  const { opt_run: _reentry, ...rest } = c;
  const restored: CpuState = { ...rest, current: p.current, probes: p.probes, status: p.status, next: p.next, prev: null, stepped: false, preempt_count: c.preempt_count - 1, ...(p.opt_run ? { opt_run: true } : {}) };
  return p.irq === undefined ? restored : { ...restored, kprobe_irq: p.irq };
}

/** A kprobe run starts at the current interrupt level (only tracked when there is a timer). */
function atIrqLevel(c: CpuState): CpuState {
  return c.in_irq === undefined || c.kprobe_irq === c.in_irq ? c : { ...c, kprobe_irq: c.in_irq };
}

/**
 * The interrupted context's IF, which a returning trap restores: off in hard interrupt context
 * (a probe hit by the timer interrupt's code), on in a task.
 */
function interruptedIrqsOff(c: CpuState): boolean {
  return (c.in_irq ?? 0) > 0;
}

/** current_kprobe := NULL; the trap returns with the probed context's IF restored. */
function resetCurrentKprobe(c: CpuState, status: KprobeStatus): CpuState {
  const { opt_run: _over, ...rest } = c;
  return withoutRegs({ ...rest, current: null, probes: [], status, next: 0, preempt_count: c.preempt_count - 1, irqs_off: interruptedIrqsOff(c) });
}

/** The hit is over: the registers its handlers wrote go back into the code's own state. */
function withoutRegs(c: CpuState): CpuState {
  if (c.regs_set === undefined) return c;
  const { regs_set: _done, ...rest } = c;
  return rest;
}

/** Applies an event emitted by this CPU to its own slice. Events of other sources leave it as is. */
export function evolveCpu(c: CpuState, e: DomainEvent): CpuState {
  switch (e.type) {
    case 'insn.exec':
      return e.ctx === 'handler' ? withHandlerFrames(c, stepFrame(c.handler?.frames ?? null)) : c;
    case 'func.call':
      return e.ctx === 'handler'
        ? withHandlerFrames(c, callFrame(c.handler?.frames ?? null, e.fn, e.ip !== null))
        : c;
    case 'func.ret':
      return e.ctx === 'handler' ? withHandlerFrames(c, afterReturn(retFrame(c.handler?.frames ?? null, e.fn), e.ret)) : c;
    // C code holding a spinlock, or between preempt_disable() and preempt_enable() (src/cexec).
    case 'c.preempt':
      return { ...c, preempt_count: c.preempt_count + e.delta };
    // A handler's C code (src/cexec): its frames' locals, pc and memo.
    case 'c.frame':
    case 'c.step':
    case 'c.ret':
      return e.ctx === 'handler' ? withHandlerFrames(c, cFrameEffect(c.handler?.frames ?? null, e)) : c;
    case 'kprobe.trap':
      return { ...c, trap: e.addr, preempt_count: c.preempt_count + 1, irqs_off: true };
    case 'kprobe.hit':
      return atIrqLevel({ ...c, trap: null, current: e.addr, probes: e.probes, status: ON_HIT, next: 0 });
    case 'kprobe.ftrace.hit':
      // R92/R93: the ftrace handler runs with preemption disabled and interrupts as they were.
      return atIrqLevel({ ...c, current: e.addr, probes: e.probes, status: ON_FTRACE_HIT, next: 0, preempt_count: c.preempt_count + 1 });
    case 'kprobe.ftrace.post':
      // R92: the 5-byte NOP is deemed executed; the post-handlers run in HIT_SSDONE.
      return { ...c, status: ON_FTRACE_POST, next: 0 };
    case 'kprobe.miss': {
      if (c.current === null) return fail(`cpu ${c.id}: reentrant hit with no running kprobe`);
      // The reentering hit is a breakpoint hit; an optimized outer run is saved with the rest.
      const { opt_run: _outer, ...rest } = c;
      return atIrqLevel({
        ...rest,
        trap: null,
        prev: {
          current: c.current,
          probes: c.probes,
          status: c.status,
          next: c.next,
          ...(c.kprobe_irq === undefined ? {} : { irq: c.kprobe_irq }),
          ...(c.opt_run ? { opt_run: true } : {}),
        },
        current: e.addr,
        probes: e.probes,
        status: ON_MISS,
        next: 0,
      });
    }
    case 'kprobe.bug':
    case 'kernel.oops':
      return { ...c, trap: null, halted: true };
    case 'kprobe.redirect':
    case 'kprobe.override':
    case 'kprobe.jump':
      // R46: a pre-handler returned non-zero: no single-step, no post-handler, current_kprobe
      // NULL, and the trap returns to whatever IP the handler left.
      return withoutRegs({ ...c, current: null, probes: [], status: ON_REDIRECT[e.type], next: 0, handler: null, preempt_count: c.preempt_count - 1, irqs_off: interruptedIrqsOff(c) });
    case 'kprobe.recovered':
      // R54 (before v6.3): IP back to the trap address, the trap returns; the original
      // instruction runs next, with no handler and no miss.
      return { ...c, trap: null, preempt_count: c.preempt_count - 1, irqs_off: c.current !== null || interruptedIrqsOff(c) };
    case 'handler.enter':
      return { ...c, next: c.next + 1, handler: { probe: e.probe, phase: e.phase, instance: null, step: 0, spin: 0, frames: null } };
    case 'handler.skip':
      return { ...c, next: c.next + 1 };
    case 'handler.callback':
      if (c.handler === null) return fail(`cpu ${c.id} runs no handler`);
      return { ...c, handler: { ...c.handler, expansions: [...(c.handler.expansions ?? []), { at: c.handler.step, steps: e.steps }] } };
    case 'kprobe.set_reg':
      return { ...c, regs_set: { ...c.regs_set, [e.reg]: e.value } };
    case 'handler.spin':
      if (c.handler === null) return fail(`cpu ${c.id} runs no handler`);
      return { ...c, handler: { ...c.handler, spin: e.left } };
    case 'handler.step':
      if (c.handler === null) return fail(`cpu ${c.id} runs no handler`);
      return { ...c, handler: { ...c.handler, step: e.step + 1, spin: 0 } };
    case 'handler.exit':
      return { ...c, handler: null };
    case 'kprobe.ss': {
      const to = effect(c.status, e.type);
      return { ...c, stepped: true, status: to === 'stay' || to === 'restore' ? c.status : to };
    }
    case 'kprobe.ss.done': {
      const to = effect(c.status, e.type);
      if (to === 'restore') return restorePreviousKprobe(c);
      return { ...c, status: to === 'stay' ? c.status : to, next: 0, stepped: false };
    }
    case 'kprobe.opt.hit':
      // R86: the optimized callback: preemption disabled, interrupts as they were.
      return atIrqLevel({ ...c, current: e.addr, probes: e.probes, status: ON_OPT_HIT, next: 0, preempt_count: c.preempt_count + 1, opt_run: true });
    case 'kprobe.opt.done':
      return resetCurrentKprobe(c, ON_OPT_DONE);
    case 'kprobe.detour':
    case 'kprobe.boost':
    // R47.2: a boosted reentry never touched the control block: the outer run is as it was.
    case 'kprobe.ss.fault': {
      // R57: the same two exits, taken early; IP goes back to the probe address.
      const to = effect(c.status, e.type);
      if (to === 'restore') return restorePreviousKprobe(c);
      return { ...resetCurrentKprobe(c, to === 'stay' ? c.status : to), stepped: false };
    }
    case 'kprobe.done':
      return resetCurrentKprobe(c, ON_DONE);
    case 'kretprobe.take':
      if (c.handler === null) return fail(`cpu ${c.id} runs no handler`);
      return { ...c, handler: { ...c.handler, instance: e.instance } };
    case 'kretprobe.hook':
      if (c.handler === null) return fail(`cpu ${c.id} runs no handler`);
      return { ...c, handler: { ...c.handler, instance: null } };
    case 'kretprobe.trampoline':
      // R75: the trampoline walks the frame's instances with preemption disabled.
      return { ...c, trampoline: { fn: e.fn, ret: e.ret, pending: e.instances }, preempt_count: c.preempt_count + 1 };
    case 'kretprobe.ret_handler':
      return atIrqLevel({ ...c, current: e.addr, probes: [e.probe], status: ON_RET_HANDLER, next: 0 });
    case 'kretprobe.put': {
      const t = c.trampoline;
      const walked = t !== null && t.pending[0] === e.instance ? { ...t, pending: t.pending.slice(1) } : t;
      if (e.reason === 'entry_handler') return { ...c, handler: c.handler && { ...c.handler, instance: null } };
      // R75: after a return handler current_kprobe goes back to NULL, not to an earlier value.
      if (e.reason === 'returned') return withoutRegs({ ...c, trampoline: walked, current: null, probes: [], status: ON_RETURNED, next: 0 });
      return { ...c, trampoline: walked };
    }
    case 'kretprobe.set_retval':
      if (c.trampoline === null) return fail(`cpu ${c.id}: set_retval outside the kretprobe trampoline`);
      return { ...c, trampoline: { ...c.trampoline, ret: e.value } };
    case 'kretprobe.return':
      return { ...c, trampoline: null, preempt_count: c.preempt_count - 1 };
    case 'irq.enter':
      // Hard interrupt context: preempt_count carries HARDIRQ_OFFSET, interrupts are off.
      return { ...c, preempt_count: c.preempt_count + 1, irqs_off: true, in_irq: (c.in_irq ?? 0) + 1 };
    case 'irq.exit':
      // The next tick counts from here, so a slow handler cannot starve the task (no storm).
      return { ...c, preempt_count: c.preempt_count - 1, irqs_off: false, in_irq: (c.in_irq ?? 1) - 1, next_timer: e.next };
    case 'ipi.ack':
      return { ...c, acked_sync: e.sync };
    case 'rcu.qs':
      return { ...c, rcu_gp: e.gp };
    default:
      return c;
  }
}
