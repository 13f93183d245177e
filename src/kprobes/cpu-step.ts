import type { FunctionSymbol, Insn } from '../kernel/index.ts';
import type { DomainEvent, Hex } from '../model/events.ts';
import { currentTask, jumpInPlace, kprobeDisabled, taskReady } from '../model/queries.ts';
import { codeOf, programOf, type Setup } from '../model/setup.ts';
import { instanceOfCurrentPool, instanceProbe, slotOf } from '../model/evolve.ts';
import { toHex } from '../model/hex.ts';
import { atLeast, DEFAULT_KERNEL, JUST_RETURN_FUNC } from '../kernel/index.ts';
import type { CpuState, Frame, KernelState, ProbePoint } from '../model/state.ts';
import type { TaskOp } from '../scenario/types.ts';
import { InputError } from '../errors.ts';

import { asJson, checkCallbackSteps, contextPhase, effectiveSteps } from './callbacks.ts';
import { renderTemplate } from './printk-format.ts';
import { isFtraceSite } from './resolve.ts';
import { dumpStackLines } from './stack.ts';
import { ftraceAfterPre, ftraceDone, inFtraceHandler, kprobe_ftrace_handler } from './ftrace-step.ts';
import { stepsOf, withPendingAcks, type Ctx, type Here } from './here.ts';
import { inOptimizedRun, optDone, optimized_callback } from './opt-step.ts';
import { breakpointPc, probedContext, resumeAddress, returnAddress, taskStatus } from './regs.ts';
import { own } from '../model/own.ts';
import { recGet } from '../model/fold/record.ts';
import { cHandlerCall, cKunitInit, cLoadModule, cPerform, cTaskCall, isCFunction, setHandlerReturned } from '../cexec/step.ts';
import { syscallArgs } from '../cexec/user-memory.ts';

// What one CPU does in one scheduler step, as events. The breakpoint path follows spec §6 (x86-64,
// reference kernel v6.3+) and is named after arch/x86/kernel/kprobes/core.c and kernel/kprobes.c:
// trap → kprobe_int3_handler (get_kprobe) → aggr_pre_handler (HIT_ACTIVE) → setup_singlestep
// (HIT_SS) → second int3 → kprobe_post_process → aggr_post_handler (HIT_SSDONE) → done; a hit
// while a kprobe runs is reenter_kprobe's miss (R50).

/** A CPU's next step: its own events, or a kprobes API call to hand to the manager. */
export type CpuPlan =
  | { readonly kind: 'events'; readonly events: DomainEvent[] }
  | { readonly kind: 'api'; readonly pid: number };

export { withPendingAcks } from './here.ts';

/**
 * Where CPU `c` (the CPU actor's own slice) stands against the world `w`: what the guards of the
 * CPU machine (src/machines/cpu.ts) test and its kernel steps run on. The machine decides which
 * step runs from its state (the kprobe_status) and these guards; the functions below only do it.
 */
export function hereOf(setup: Setup, w: KernelState, c: CpuState): Here {
  const task = currentTask(w, c.id);
  return { setup, w, c, task, pid: task?.pid ?? 0 };
}

// ── what the machine's guards test ─────────────────────────────────────────────────────────

/** A breakpoint trap is pending on this CPU (the int3 was taken, its handler not yet run). */
export const trapped = (h: Here): boolean => h.c.trap !== null;

/**
 * An interrupt arrived during a kprobe run (an ftrace-based handler, interrupts on): its code
 * runs to its end before the run goes on.
 */
export const irqInKprobe = (h: Here): boolean => h.c.current !== null && (h.c.in_irq ?? 0) > (h.c.kprobe_irq ?? 0);

/** A hooked function returned into the kretprobe trampoline: it runs to its end first (R75). */
export const onTrampoline = (h: Here): boolean => h.c.trampoline !== null;

/** The probed instruction's copy has been stepped: the trap after it is next (R48). */
export const stepped = (h: Here): boolean => h.c.stepped === true;

/**
 * The local timer interrupt is due on this CPU and interrupts are on there: in task code, or
 * inside an ftrace-based probe's handlers (R93); the breakpoint path has them off (R60).
 */
export function timerDue(h: Here): boolean {
  const { c, w, task, setup } = h;
  const period = setup.scenario.timer?.period;
  if (period === undefined || c.next_timer === undefined || w.t < c.next_timer) return false;
  if (c.irqs_off || c.trap !== null || c.trampoline !== null) return false;
  const quiet = c.status === 'idle' && c.handler === null;
  if (!quiet && !(inFtraceHandler(h) && (c.in_irq ?? 0) === (c.kprobe_irq ?? 0))) return false;
  if (task === undefined || task.wait !== null || w.kprobes.calls[task.pid] !== undefined) return false;
  return setup.symbols.image.timerEntry !== undefined;
}

// ── what the machine's actions run ─────────────────────────────────────────────────────────

/** The local timer interrupt's entry (when timerDue). */
export function timer_interrupt(h: Here): DomainEvent[] {
  return [{ type: 'irq.enter', cpu: h.c.id, pid: h.task!.pid, fn: h.setup.symbols.image.timerEntry! }];
}

// ── the breakpoint path ────────────────────────────────────────────────────────────────────

/** get_kprobe(): the probe point at `addr` in kprobe_table, if any (R6: a lockless read). */
function get_kprobe(h: Here, addr: Hex): ProbePoint | undefined {
  return recGet(h.w.kprobes.table, addr);
}

/** kprobe_int3_handler(): the pending breakpoint trap's step: find the point, then hit it or reenter. */
export function kprobe_int3_handler(h: Here): DomainEvent[] {
  const { c, pid } = h;
  const addr = c.trap!;
  const point = get_kprobe(h, addr);
  if (point === undefined) {
    // R54 (before v6.3): the breakpoint byte is no longer there, so another CPU just removed the
    // probe: go back and run the original instruction.
    if (h.setup.legacyInt3) return withPendingAcks(h.w, c, [{ type: 'kprobe.recovered', cpu: c.id, pid, addr }]);
    // R54 (v6.3+): kprobes declines a trap it does not own; nobody else claims it here.
    return [
      { type: 'printk', cpu: c.id, pid, text: 'Oops: int3: 0000 [#1] PREEMPT SMP NOPTI' },
      { type: 'kernel.oops', cpu: c.id, pid, addr, message: 'int3 with no kprobe behind it' },
    ];
  }
  const status = c.status;
  // MUTANT no-reenter-check: no kprobe_running() test, against R50: a hit on a CPU that already
  // runs a kprobe starts it over as a new hit, handlers and all (INV-status reports the move).
  if (status === 'idle' || h.setup.mutant === 'no-reenter-check') return [{ type: 'kprobe.hit', cpu: c.id, pid, addr, probes: point.probes }];
  return reenter_kprobe(h, addr, point, status);
}

/** reenter_kprobe(): a hit while a kprobe already runs on this CPU. */
function reenter_kprobe(h: Here, addr: Hex, point: ProbePoint, status: Exclude<CpuState['status'], 'idle'>): DomainEvent[] {
  const { c, pid } = h;
  switch (status) {
    case 'KPROBE_REENTER':
      // R50: a hit while single-stepping a reentrant probe cannot be recovered.
      return [
        { type: 'printk', cpu: c.id, pid, text: 'Unrecoverable kprobe detected.' },
        { type: 'printk', cpu: c.id, pid, text: 'Dumping kprobe:' },
        { type: 'printk', cpu: c.id, pid, text: `Name: ${point.probes.join(',')}` },
        { type: 'printk', cpu: c.id, pid, text: `Offset: ${h.setup.symbols.format(BigInt(addr)) ?? addr}` },
        { type: 'kprobe.bug', cpu: c.id, pid, addr, message: 'Unrecoverable kprobe detected.' },
      ];
    default: {
      const miss: DomainEvent = { type: 'kprobe.miss', cpu: c.id, pid, addr, probes: point.probes, running: c.current!, status };
      // R47.1/R47.2: a reentry at an OPTIMIZED or boosted point runs the copy at once, leaving the
      // control block as it was.
      if (point.opt) return withPendingAcks(h.w, c, [miss, ...boosted(h, addr, 'kprobe.detour')]);
      if (point.boost) return withPendingAcks(h.w, c, [miss, ...boosted(h, addr)]);
      return [miss];
    }
  }
}

/**
 * kprobe_post_process(): the trap after the single-stepped copy (x86 v6.x: the int3 that
 * follows the copy) ends HIT_SS or REENTER; the post-handlers, if any, come next.
 */
export function kprobe_post_process(h: Here): DomainEvent[] {
  return [{ type: 'kprobe.ss.done', cpu: h.c.id, addr: h.c.current! }];
}

/** aggr_pre_handler(): the pre-handlers of the point's children (HIT_ACTIVE), one step at a time. */
export function aggr_pre_handler(h: Here): DomainEvent[] {
  return aggr_handler_step(h, 'pre');
}

/** aggr_post_handler(): the post-handlers of the point's children (HIT_SSDONE), one step at a time. */
export function aggr_post_handler(h: Here): DomainEvent[] {
  return aggr_handler_step(h, 'post');
}

/**
 * The loop of aggr_pre_handler/aggr_post_handler (R10/R11): run each child's handler of this
 * phase in list order, skipping disabled children; one call is one step of that loop.
 */
function aggr_handler_step(h: Here, phase: 'pre' | 'post'): DomainEvent[] {
  const { c } = h;
  const run = c.handler;
  if (run !== null) return handlerStep(h, run.probe, phase);
  const probe = c.probes[c.next];
  if (probe === undefined) {
    // Every handler of the phase is done.
    const ftrace = isFtraceSite(h.setup.symbols, BigInt(c.current!));
    if (phase === 'pre' && inOptimizedRun(h)) return optDone(h);
    if (phase === 'pre') return ftrace ? ftraceAfterPre(h) : setup_singlestep(h);
    if (ftrace) return ftraceDone(h);
    return withPendingAcks(h.w, c, [{ type: 'kprobe.done', cpu: c.id, addr: c.current! }]);
  }
  // R10/R11: an aggregated point skips its disabled children. A standalone probe's handler is
  // called without looking at the flag: a hit already in flight when unregister_kprobe disables
  // it runs normally, and the text-patch sync waits for it (R55).
  // A GONE child (its module was unloaded, then reloaded and probed again, R14) counts as disabled.
  // An OPTIMIZED point is an aggregator even with one child (the optimized callback checks too, R86).
  const reg = recGet(h.w.kprobes.probes, probe);
  const aggregated = c.probes.length > 1 || c.opt_run === true || recGet(h.w.kprobes.table, c.current!)?.opt !== undefined;
  if (aggregated && kprobeDisabled(reg)) {
    return [{ type: 'handler.skip', cpu: c.id, probe, phase, reason: reg?.gone ? 'gone' : 'disabled' }];
  }
  const steps = stepsOf(h, probe, phase);
  if (steps === undefined) return [{ type: 'handler.skip', cpu: c.id, probe, phase, reason: 'no_handler' }];
  return [{ type: 'handler.enter', cpu: c.id, probe, phase }];
}

/**
 * R46/R10: a pre-handler returned non-zero: the later children do not run, there is no
 * single-step and no post-handler. The handler left regs->ip alone, so execution resumes at
 * the byte after the int3: the next instruction when the probed one is 1 byte long, otherwise
 * the middle of an instruction, which the CPU cannot decode.
 */
function redirect(h: Here): DomainEvent[] {
  const { c, pid, setup } = h;
  const addr = c.current!;
  const ip = BigInt(addr) + 1n;
  const at = setup.symbols.insnAt(ip);
  const frames = h.task?.frames ?? null;
  const skipped = c.probes.slice(c.next);
  if (at === undefined || frames === null || at.fn.name !== frames.fn) {
    return [
      { type: 'printk', cpu: c.id, pid, text: 'invalid opcode: 0000 [#1] PREEMPT SMP NOPTI' },
      { type: 'kernel.oops', cpu: c.id, pid, addr: toHex(ip), message: 'invalid opcode after a kprobe redirection' },
    ];
  }
  return [{ type: 'kprobe.redirect', cpu: c.id, pid, addr, ip: toHex(ip), pc: at.index, skipped }];
}

// ── kretprobes (spec §9) ───────────────────────────────────────────────────────────────────

/** rethook_trampoline_handler(), R75: the frame's instances newest first, then return for real. */
export function rethook_trampoline_handler(h: Here): DomainEvent[] {
  const { c, pid } = h;
  const t = c.trampoline!;
  const instance = t.pending[0];
  if (instance === undefined) return withPendingAcks(h.w, c, [{ type: 'kretprobe.return', cpu: c.id, pid, fn: t.fn, ret: t.ret }]);
  const probe = instanceProbe(instance);
  const pool = recGet(h.w.kretprobes, probe);
  const addr = recGet(h.w.kprobes.probes, probe)?.addr ?? null;
  // R69/R80: a detached pool's instances are freed without a handler call.
  if (!pool?.attached || addr === null || !instanceOfCurrentPool(pool, instance)) {
    return [{ type: 'kretprobe.put', cpu: c.id, pid, probe, instance, reason: 'detached' }];
  }
  if (stepsOf(h, probe, 'ret') === undefined) return [{ type: 'kretprobe.put', cpu: c.id, pid, probe, instance, reason: 'no_handler' }];
  return [{ type: 'kretprobe.ret_handler', cpu: c.id, pid, probe, instance, addr }];
}

/** kretprobe_rethook_handler(), R75: current_kprobe := &rp->kp, HIT_ACTIVE, the handler, NULL. */
export function kretprobe_rethook_handler(h: Here): DomainEvent[] {
  const { c, pid } = h;
  const t = c.trampoline!;
  const probe = c.probes[0]!;
  if (c.handler !== null) return handlerStep(h, probe, 'ret');
  if (c.next === 0) return [{ type: 'handler.enter', cpu: c.id, probe, phase: 'ret' }];
  return [{ type: 'kretprobe.put', cpu: c.id, pid, probe, instance: t.pending[0]!, reason: 'returned' }];
}

/**
 * regs->ip (x86) or regs->pc (arm64) as a handler of `phase` sees it. At a breakpoint it is
 * where the arch's trap left it (src/kprobes/regs.ts). In a kretprobe return handler it is the
 * real return address: the trampoline sets it before calling the handlers (R75), so the handler
 * is where the call returns to, in the caller, not at the probed function.
 */
function handlerPc(h: Here, phase: 'pre' | 'post' | 'ret'): bigint {
  const { c, task, setup } = h;
  const frame = task?.frames ?? null;
  if (phase === 'ret' && c.trampoline !== null && frame !== null) return returnAddress(setup.symbols, frame);
  if (c.current === null) return 0n;
  const addr = BigInt(c.current);
  if (phase === 'post') {
    // A post-handler runs after the probed instruction: regs->ip is where execution goes on.
    // kprobe_ftrace_handler() sets it past the fentry call (ip + MCOUNT_INSN_SIZE) before the
    // post-handlers, the model's NOP still to run; after a single-step (x86 resume_execution(),
    // arm64's simulation or XOL step) it is the task's next instruction, a call's target included.
    if (isFtraceSite(setup.symbols, addr)) {
      const at = setup.symbols.insnAt(addr);
      return at === undefined ? addr : addr + BigInt(at.insn.len);
    }
    if (frame !== null) return resumeAddress(setup.symbols, frame);
  }
  return breakpointPc(setup.symbols.image.arch, addr);
}

/**
 * A register of the probed context as a handler reads it: what an earlier handler of the hit
 * wrote, else the register model (src/kprobes/regs.ts) with the IP of handlerPc().
 */
export function registerOf(h: Here, phase: 'pre' | 'post' | 'ret', name: string): bigint {
  const { c, task, setup } = h;
  const written = c.regs_set?.[name === 'lr' ? 'x30' : name];
  if (written !== undefined) return BigInt(written);
  const frame = task?.frames ?? null;
  if (task === undefined || frame === null) return 0n;
  const addr = c.current === null ? 0n : BigInt(c.current);
  const fn = setup.symbols.lookup(frame.fn);
  const retval = phase === 'ret' && c.trampoline !== null ? BigInt(c.trampoline.ret) : null;
  // A system call's arguments (an openat's filename in the task's user memory, src/cexec).
  const args = syscallArgs(setup, task, frame.fn);
  return probedContext(setup.symbols, { task, frame, ip: handlerPc(h, phase), atEntry: fn !== undefined && fn.addr === addr, retval, ...(args ? { args } : {}) }).reg(name);
}

/** The kretprobe instance a handler works with: the one its entry took, or the one returning. */
export function runningInstance(h: Here, phase: 'pre' | 'post' | 'ret'): string | undefined {
  const { c } = h;
  if (phase === 'ret') return c.trampoline?.pending[0];
  return c.handler?.instance ?? undefined;
}

/** `{data}` and `{elapsed}` of a kretprobe handler's print (R77). */
function instanceData(h: Here, probe: string, phase: 'pre' | 'post' | 'ret'): { data?: number; now?: number } {
  const instance = runningInstance(h, phase);
  const pool = recGet(h.w.kretprobes, probe);
  const slot = instance === undefined ? undefined : slotOf(pool, instance);
  return slot === undefined ? {} : { data: pool!.data[slot] ?? 0, now: h.w.t };
}

function handlerStep(h: Here, probe: string, phase: 'pre' | 'post' | 'ret'): DomainEvent[] {
  const { c, pid, setup } = h;
  const run = c.handler!;
  if (run.frames !== null) return execute(h, 'handler', run.frames);
  const steps = effectiveSteps(stepsOf(h, probe, phase) ?? [], run);
  const op = steps[run.step];
  const exit: DomainEvent = { type: 'handler.exit', cpu: c.id, probe, phase };
  if (op === undefined) return [exit];
  const done: DomainEvent = { type: 'handler.step', cpu: c.id, probe, step: run.step };
  switch (op.do) {
    case 'rp_take': {
      // R73: no instance (pool empty, or being unregistered) → rp->nmissed, and nothing else.
      const pool = recGet(h.w.kretprobes, probe);
      if (!pool?.attached) return [{ type: 'kretprobe.miss', cpu: c.id, pid, probe, reason: 'detached' }, exit];
      if (pool.free === 0) return [{ type: 'kretprobe.miss', cpu: c.id, pid, probe, reason: 'empty' }, exit];
      return [{ type: 'kretprobe.take', cpu: c.id, pid, probe, instance: `${probe}#${pool.taken + 1}` }, done];
    }
    case 'rp_hook':
      // R73: the return address now points at the trampoline; the instance joins the task's list.
      return [{ type: 'kretprobe.hook', cpu: c.id, pid, probe, instance: run.instance!, fn: h.task!.frames!.fn }, done];
    case 'fault': {
      // R58: before v5.14 kprobes sees the fault first: a miss of the running probe, then its
      // fault_handler; since then it goes straight to the kernel's exception fixups, or oopses.
      const legacy = !atLeast(setup.scenario.kernel ?? DEFAULT_KERNEL, '5.14');
      const charged = legacy && (c.status === 'KPROBE_HIT_ACTIVE' || c.status === 'KPROBE_HIT_SSDONE') ? c.probes : [];
      const fh = legacy ? setup.probes.get(probe)?.fault_handler : undefined;
      const said: DomainEvent[] = fh?.print === undefined ? [] : [{ type: 'printk', cpu: c.id, pid, text: fh.print }];
      if (fh?.handled) return [...said, { type: 'kprobe.fault', cpu: c.id, pid, probes: charged, outcome: 'fault_handler' }, done];
      if (op.fixup) return [...said, { type: 'kprobe.fault', cpu: c.id, pid, probes: charged, outcome: 'fixup' }, done];
      return [
        ...said,
        { type: 'kprobe.fault', cpu: c.id, pid, probes: charged, outcome: 'oops' },
        { type: 'printk', cpu: c.id, pid, text: 'BUG: kernel NULL pointer dereference, address: 0000000000000000' },
        { type: 'kernel.oops', cpu: c.id, pid, addr: null, message: 'page fault in a kprobe handler' },
      ];
    }
    case 'return':
      return handlerReturned(h, BigInt(op.value));
    case 'c_handler': {
      // A C module's handler: the function its struct points at now (src/cexec).
      const instance = runningInstance(h, phase);
      const pool = recGet(h.w.kretprobes, probe);
      return cHandlerCall(h, probe, phase, op.field, { registerOf: (name) => registerOf(h, phase, name), instance, slot: instance === undefined ? undefined : slotOf(pool, instance) }, done);
    }
    case 'print': {
      const text = renderTemplate(op.text, setup, h.w, {
        cpu: c.id,
        pid,
        comm: h.task?.comm ?? 'swapper',
        probe,
        // The saved status register is the interrupted task context's (R50: handlers run only
        // for hits in task context).
        ip: handlerPc(h, phase),
        flags: taskStatus(setup.symbols.image.arch),
        retval: c.trampoline?.ret,
        ...instanceData(h, probe, phase),
        reg: (name) => registerOf(h, phase, name),
      });
      return [
        { type: 'printk', cpu: c.id, pid, text },
        { type: 'func.call', cpu: c.id, pid, ip: null, fn: setup.printk, ctx: 'handler' },
      ];
    }
    case 'call':
      return [{ type: 'func.call', cpu: c.id, pid, ip: null, fn: codeOf(setup, op.fn).fn.name, ctx: 'handler' }];
    case 'override_return':
      // R86, R88: an IP changed in an optimized callback has no effect.
      if (inOptimizedRun(h)) return [exit];
      // fail_function / bpf_override_return: regs->ax = value, regs->ip = just_return_func, and
      // the handler returns 1 (R46): no single-step, the function returns at once.
      return withPendingAcks(h.w, c, [
        exit,
        { type: 'kprobe.override', cpu: c.id, pid, addr: c.current!, fn: JUST_RETURN_FUNC, ret: op.value, skipped: c.probes.slice(c.next) },
      ]);
    case 'callback': {
      // A library user's TypeScript handler decides the steps; they are logged, then run here.
      const fn = setup.callbacks === undefined ? undefined : own(setup.callbacks, op.name);
      if (fn === undefined) throw new InputError('callbacks', `no callback named "${op.name}" was given to the simulation`);
      const stats = recGet(h.w.stats, probe);
      const returned = fn({
        cpu: c.id,
        pid,
        comm: h.task?.comm ?? 'swapper',
        probe,
        phase: contextPhase(setup.probes.get(probe), phase),
        t: h.w.t,
        hits: stats?.hits ?? 0,
        nmissed: stats?.nmissed ?? 0,
        ...(phase === 'ret' && c.trampoline !== null ? { retval: c.trampoline.ret } : {}),
      });
      const checked = checkCallbackSteps(setup, probe, phase, op.name, returned);
      return [{ type: 'handler.callback', cpu: c.id, probe, name: op.name, steps: asJson(checked) }];
    }
    case 'jump':
      if (inOptimizedRun(h)) return [exit];
      // regs->ip = fn and return 1 (R46): no single-step, no post-handler; fn runs in the call.
      return withPendingAcks(h.w, c, [
        exit,
        { type: 'kprobe.jump', cpu: c.id, pid, addr: c.current!, fn: codeOf(setup, op.fn).fn.name, skipped: c.probes.slice(c.next) },
      ]);
    case 'set_reg':
      return [{ type: 'kprobe.set_reg', cpu: c.id, probe, reg: op.reg, value: op.value }, done];
    case 'set_data': {
      const instance = runningInstance(h, phase);
      if (instance === undefined) return [done];
      const value = op.value === 'now' ? h.w.t : op.value;
      return [{ type: 'kretprobe.data', cpu: c.id, pid, probe, instance, value }, done];
    }
    case 'set_retval':
      // regs_set_return_value(regs, v): regs->ax, which the trampoline hands back to the caller.
      return [{ type: 'kretprobe.set_retval', cpu: c.id, pid, probe, instance: c.trampoline!.pending[0]!, value: op.value }, done];
    case 'spin': {
      const left = (run.spin > 0 ? run.spin : op.steps) - 1;
      const spin: DomainEvent = { type: 'handler.spin', cpu: c.id, probe, left };
      return left === 0 ? [spin, done] : [spin];
    }
    case 'sleep':
      // R61: the scheduler refuses and complains; the handler goes on (INV-preempt).
      return [
        {
          type: 'printk',
          cpu: c.id,
          pid,
          text: `BUG: scheduling while atomic: ${h.task?.comm ?? 'swapper'}/${pid}/0x${c.preempt_count.toString(16).padStart(8, '0')}`,
        },
        { type: 'bug.atomic_sleep', cpu: c.id, pid, preempt_count: c.preempt_count },
        done,
      ];
    case 'dump_stack':
      return [
        ...dumpStackLines(setup, h.w, c, h.task).map((text): DomainEvent => ({ type: 'printk', cpu: c.id, pid, text })),
        done,
      ];
  }
}

/**
 * A handler returned `value` (the `return` step, or a C handler's return): non-zero from a
 * pre-handler is R46's redirection, from an entry_handler R73's give-back; the handler's step is
 * done otherwise (and whatever a post or return handler returns).
 */
export function handlerReturned(h: Here, value: bigint): DomainEvent[] {
  const { c, pid } = h;
  const run = c.handler!;
  const { probe, phase } = run;
  const done: DomainEvent = { type: 'handler.step', cpu: c.id, probe, step: run.step };
  const exit: DomainEvent = { type: 'handler.exit', cpu: c.id, probe, phase };
  // R86: the optimized callback ignores what pre-handlers return.
  if (value === 0n || phase !== 'pre' || inOptimizedRun(h)) return [done];
  // R73: an entry_handler returning non-zero gives the instance back; no hook, no miss.
  if (run.instance !== null) {
    return [{ type: 'kretprobe.put', cpu: c.id, pid, probe, instance: run.instance, reason: 'entry_handler' }, exit];
  }
  return withPendingAcks(h.w, c, [exit, ...redirect(h)]);
}
setHandlerReturned(handlerReturned);

/**
 * setup_singlestep(): R47.3: execute the probed instruction's copy out of line (status HIT_SS or
 * REENTER); an optimizer-queued point takes setup_detour_execution's path, a boostable one the
 * booster's (R47.1, R47.2).
 */
export function setup_singlestep(h: Here): DomainEvent[] {
  const { c } = h;
  const addr = c.current!;
  const point = recGet(h.w.kprobes.table, addr);
  // R47.1 (R85): a point queued for the optimizer resumes in its detour buffer's copy.
  if (point?.opt && c.status !== 'KPROBE_REENTER') return withPendingAcks(h.w, c, boosted(h, addr, 'kprobe.detour'));
  if (point?.boost && c.status !== 'KPROBE_REENTER') return withPendingAcks(h.w, c, boosted(h, addr));
  const ctx: Ctx = c.handler?.frames ? 'handler' : 'task';
  const frames = ctx === 'handler' ? c.handler!.frames : (h.task?.frames ?? null);
  const at = h.setup.symbols.insnAt(BigInt(addr));
  if (at === undefined || frames === null) throw new Error(`internal: nothing to single-step at ${addr}`);
  const ss: DomainEvent = { type: 'kprobe.ss', cpu: c.id, addr };
  // R57: the copy faults while being stepped: kprobes puts IP back on the probe address, drops
  // the kprobe context, and lets the fault path go on as if the original instruction faulted.
  const fault = ctx === 'task' ? h.task?.fault : undefined;
  if (fault?.addr === addr) return [ss, { type: 'kprobe.ss.fault', cpu: c.id, addr }, ...pageFault(h, addr, fault.outcome)];
  return [ss, ...perform(h, ctx, frames, at.fn, at.insn, addr)];
}

/**
 * R47.2: the boosted copy runs straight away and jumps back: current_kprobe is already NULL, no
 * second trap, no post-handler. A fault in it is an ordinary kernel fault at an address outside
 * every exception table (the copy's slot): a mapped page lets it run, anything else oopses.
 */
function boosted(h: Here, addr: Hex, how: 'kprobe.boost' | 'kprobe.detour' = 'kprobe.boost'): DomainEvent[] {
  const { c } = h;
  const at = h.setup.symbols.insnAt(BigInt(addr));
  // A reentry from a handler's own code runs the handler's instruction.
  const ctx: Ctx = c.handler?.frames ? 'handler' : 'task';
  const frames = ctx === 'handler' ? c.handler!.frames : (h.task?.frames ?? null);
  if (at === undefined || frames === null) throw new Error(`internal: nothing to run boosted at ${addr}`);
  const boost: DomainEvent = { type: how, cpu: c.id, addr };
  const fault = ctx === 'task' ? h.task?.fault : undefined;
  if (fault?.addr === addr) {
    if (fault.outcome !== 'resolved') return [boost, ...pageFault(h, addr, 'oops', 'a boosted kprobe copy, which no exception-table entry covers')];
    return [boost, ...pageFault(h, addr, 'resolved'), ...perform(h, ctx, frames, at.fn, at.insn, addr)];
  }
  return [boost, ...perform(h, ctx, frames, at.fn, at.insn, addr)];
}

/**
 * The kernel's page-fault path for an instruction of the running task: a mapped page means the
 * instruction runs again (and, under a kprobe, hits it again: R57); a fixup resumes after it; no
 * fixup is an oops. kprobes counts no miss for any of them.
 */
function pageFault(h: Here, ip: Hex, outcome: 'resolved' | 'fixup' | 'oops', inside?: string): DomainEvent[] {
  const { c, pid } = h;
  const fault: DomainEvent = { type: 'insn.fault', cpu: c.id, pid, ip, outcome };
  if (outcome !== 'oops') return [fault];
  const where = h.setup.symbols.format(BigInt(ip)) ?? ip;
  const message = inside === undefined ? `page fault at ${where} with no exception-table fixup` : `page fault in ${inside} (${where})`;
  return [
    fault,
    { type: 'printk', cpu: c.id, pid, text: 'Oops: 0000 [#1] PREEMPT SMP NOPTI' },
    { type: 'printk', cpu: c.id, pid, text: `RIP: 0010:${where}` },
    { type: 'kernel.oops', cpu: c.id, pid, addr: ip, message },
  ];
}

// ── ordinary execution ─────────────────────────────────────────────────────────────────────

function events(list: DomainEvent[]): CpuPlan {
  return { kind: 'events', events: list };
}

/** The running task's next step: its code, its next operation, or its kprobes call (the manager's). */
export function run_task(h: Here): CpuPlan | null {
  const { task, w, c, setup } = h;
  if (task === undefined) return null;
  if (task.wait !== null) {
    if (!taskReady(w, task)) return null;
    if (task.wait.on === 'time' || task.wait.on === 'children') return events([{ type: 'task.wake', cpu: c.id, pid: task.pid }]);
    return { kind: 'api', pid: task.pid };
  }
  if (w.kprobes.calls[task.pid] !== undefined) return { kind: 'api', pid: task.pid };
  // The task's C code called the kprobes API: the manager's to serve (src/cexec).
  if (w.c?.calls[task.pid] !== undefined) return { kind: 'api', pid: task.pid };
  if (task.frames !== null) return events(withPendingAcks(w, c, execute(h, 'task', task.frames)));
  const op = programOf(setup, task.prog)[task.job];
  const call = (fn: string): DomainEvent => ({ type: 'func.call', cpu: c.id, pid: task.pid, ip: null, fn, ctx: 'task' });
  if (op === undefined) {
    // A shell waits for its user; everything else exits.
    if (setup.scenario.tasks[task.prog]?.interactive) return events([{ type: 'task.wait_input', cpu: c.id, pid: task.pid }]);
    return events([call('do_exit')]);
  }
  switch (op.op) {
    case 'call': {
      // A MOD:SYM name is called by the function's own name, as its frame and return will say.
      const { fn, addrs } = codeOf(setup, op.fn);
      // A caller takes a reference on a module before calling into it (try_module_get); that
      // fails once the module is going: -ENODEV, no call.
      if (fn.module !== undefined && own(w.kprobes.modules, fn.module) === 'going') {
        return events([{ type: 'module.noref', cpu: c.id, pid: task.pid, module: fn.module, fn: fn.name }]);
      }
      // A module function written in C called with arguments (src/cexec).
      if (op.args !== undefined) return events(cTaskCall(h, fn.name, op.args));
      if (op.fault === undefined) return events([call(fn.name)]);
      const addr = addrs[fn.body.findIndex((x) => x.off === op.fault!.at)]!;
      return events([call(fn.name), { type: 'fault.inject', cpu: c.id, pid: task.pid, addr, outcome: op.fault.outcome }]);
    }
    case 'printk':
      return events([
        { type: 'printk', cpu: c.id, pid: task.pid, text: renderTemplate(op.text, setup, w, { cpu: c.id, pid: task.pid, comm: task.comm }) },
        call(setup.printk),
      ]);
    case 'sleep':
      return events([{ type: 'task.sleep', cpu: c.id, pid: task.pid, until: w.t + op.ticks }]);
    case 'ftrace_failure':
      return events([{ type: 'ftrace.killed', cpu: c.id, pid: task.pid }]);
    case 'user_int3':
      // R44: do_int3_user(): kprobes never look at a user-mode trap. No debugger is attached, so
      // the SIGTRAP's default action ends the task (its remaining operations never run).
      return events([{ type: 'trap.user', cpu: c.id, pid: task.pid }, call('do_exit')]);
    case 'clear_kprobe':
      // Writing p->addr or p->flags of a probe the kernel still uses is a caller bug: the kernel
      // looks the probe up by that address (R6). The model stops there rather than guess.
      if (recGet(w.kprobes.probes, op.probe)?.state !== 'unregistered') {
        const message = `clear_kprobe: ${op.probe} is registered (or being registered or unregistered); the kernel still uses its struct`;
        return events([{ type: 'kernel.oops', cpu: c.id, pid: task.pid, addr: null, message }]);
      }
      return { kind: 'api', pid: task.pid };
    case 'register_kprobe':
    case 'unregister_kprobe':
    case 'enable_kprobe':
    case 'disable_kprobe':
    case 'kprobes_enabled':
    case 'kprobes_optimization':
    case 'register_kprobes':
    case 'unregister_kprobes':
    case 'insmod':
    case 'rmmod':
    case 'module_live':
      return { kind: 'api', pid: task.pid };
    case 'c_load':
      // load_module(): a C module's data is copied in before its init runs (src/cexec).
      return events([...cLoadModule(h, op.module), { type: 'c.load', cpu: c.id, pid: task.pid, module: op.module }]);
    case 'wait_children':
      return events([{ type: 'task.wait_children', cpu: c.id, pid: task.pid }]);
    case 'kunit_test':
      // kunit_init_test(): the case's struct kunit (src/cexec/kunit.ts).
      return events(cKunitInit(h, op.name));
    case 'c_exit':
      // delete_module() calls a live module's exit; a module that is not (its init failed, or it
      // was never loaded) has none to run.
      if (own(w.kprobes.modules, op.module) !== true) return events([{ type: 'module.noref', cpu: c.id, pid: task.pid, module: op.module, fn: op.fn }]);
      return events([call(op.fn)]);
    case 'fork':
      throw new Error('internal: fork operations are compiled into kernel_clone calls');
  }
}

function execOf(op: TaskOp | undefined): { comm: string; prog: number } | undefined {
  return op?.op === 'call' ? op.exec : undefined;
}

/** The next instruction of the innermost frame: trap on an armed breakpoint, else execute it. */
function execute(h: Here, ctx: Ctx, frames: Frame): DomainEvent[] {
  const { fn, addrs } = codeOf(h.setup, frames.fn);
  const insn = fn.body[frames.pc];
  const addr = addrs[frames.pc];
  if (insn === undefined || addr === undefined) throw new Error(`internal: ${fn.name} ran past its end`);
  // Code of a module that is not loaded is not there any more, nor init text of a LIVE one (R96).
  const freed = fn.module !== undefined && (!own(h.w.kprobes.modules, fn.module) || (fn.init === true && own(h.w.kprobes.modules, fn.module) === true));
  if (freed) {
    return [
      { type: 'printk', cpu: h.c.id, pid: h.pid, text: `BUG: unable to handle page fault for address: ${addr.slice(2)}` },
      { type: 'kernel.oops', cpu: h.c.id, pid: h.pid, addr, message: own(h.w.kprobes.modules, fn.module!) ? `${fn.name} is init text of ${fn.module}, freed once it went live` : `${fn.name} of module ${fn.module} is not loaded` },
    ];
  }
  // The int3 comes before the instruction's own memory access; an armed fentry site calls
  // kprobe_ftrace_handler instead (§12).
  const point = recGet(h.w.kprobes.table, addr);
  // A C instruction that stopped at an interleaving point (its frame has read values, src/cexec)
  // is past its first byte, where a breakpoint sits: it goes on without trapping again.
  if (point?.armed && frames.cm === undefined) {
    if (insn.op.k === 'fentry') return kprobe_ftrace_handler(h, ctx, addr);
    // R86: the optimizer replaced the breakpoint with a jump to the detour buffer.
    if (jumpInPlace(point)) return optimized_callback(h, ctx, addr);
    return [{ type: 'kprobe.trap', cpu: h.c.id, pid: h.pid, addr }];
  }
  if (ctx === 'task' && h.task?.fault?.addr === addr) return pageFault(h, addr, h.task.fault.outcome);
  return perform(h, ctx, frames, fn, insn, addr);
}

/** What executing `insn` of `fn` does, in place or as a single-stepped copy. */
function perform(h: Here, ctx: Ctx, frames: Frame, fn: FunctionSymbol, insn: Insn, ip: Hex): DomainEvent[] {
  const { c, pid } = h;
  // A module's C function: its instruction is the interpreter's (src/cexec).
  if (h.setup.c !== undefined && isCFunction(h.setup, fn.name)) return cPerform(h, ctx, frames, fn, fn.body.indexOf(insn), ip);
  switch (insn.op.k) {
    case 'insn':
    case 'fentry':
      return [{ type: 'insn.exec', cpu: c.id, pid, ip, ctx }];
    case 'call':
      return [{ type: 'func.call', cpu: c.id, pid, ip, fn: insn.op.fn, ctx }];
    case 'ret': {
      if (fn.effect === 'exit' && ctx === 'task') return [{ type: 'task.exit', cpu: c.id, pid, code: 0 }];
      const out: DomainEvent[] = [];
      // An overridden call returns the value its kprobe put in regs->ax.
      let ret = frames.ax ?? (fn.ret === 'pid' ? (h.task?.child ?? -1) : fn.ret);
      if (fn.effect === 'fork' && ctx === 'task' && h.task !== undefined) {
        out.push({ type: 'task.fork', cpu: c.id, pid, child: h.w.next_pid, comm: h.task.comm });
        // A compiled `fork` operation: the child execs its own program.
        const exec = execOf(programOf(h.setup, h.task.prog)[h.task.job]);
        if (exec !== undefined) out.push({ type: 'task.exec', cpu: c.id, pid: h.w.next_pid, comm: exec.comm, prog: exec.prog });
        ret = 0;
      }
      // R75: a kretprobed frame returns into the trampoline, newest instance first.
      if (frames.rp !== undefined && frames.rp.length > 0) {
        out.push({ type: 'kretprobe.trampoline', cpu: c.id, pid, fn: fn.name, ret, instances: [...frames.rp].reverse() });
        return out;
      }
      out.push({ type: 'func.ret', cpu: c.id, pid, ip, fn: fn.name, ret, ctx });
      // The interrupt handler returned: hard interrupt context ends.
      if (frames.irq) out.push({ type: 'irq.exit', cpu: c.id, pid, next: h.w.t + (h.setup.scenario.timer?.period ?? 0) });
      // The handler's call returned: that handler step is complete.
      if (ctx === 'handler' && frames.up === null) {
        out.push({ type: 'handler.step', cpu: c.id, probe: c.handler!.probe, step: c.handler!.step });
      }
      return out;
    }
  }
}
