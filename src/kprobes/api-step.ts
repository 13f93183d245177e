import type { DomainEvent, Hex } from '../model/events.ts';
import { toHex } from '../model/hex.ts';
import { cpusInReadSection, cpusWithIrqsOff, findTask, gpComplete, kprobeDisabled, pointDisabled, probePoints, syncComplete } from '../model/queries.ts';
import { disarmOptimized, flushUnoptimizations, joinOptimized, optimizationSysctl, optimize_kprobe, requeueCovering, requeueOptimizer, unoptimizeCovering } from './optimizer.ts';
import { defaultMaxactive, programOf, type Setup } from '../model/setup.ts';
import type { ApiCall, Batch, KernelState, KprobesState, ProbeReg, TaskState } from '../model/state.ts';
import type { CallStep } from '../machines/kprobe-call.ts';
import { EINVAL, ENOENT } from './errno.ts';
import { moduleNotifier, startRmmod } from './modules.ts';
import { kprobeBucket } from './table.ts';
import { own } from '../model/own.ts';
import { recGet } from '../model/fold/record.ts';
import type { ProbeSpec } from '../scenario/types.ts';
import { resolveProbe, type Resolution } from './resolve.ts';
import type { CApiCall } from '../cexec/memory.ts';
import { initReturned } from '../cexec/step.ts';

// One step of a register_kprobe / unregister_kprobe / enable_kprobe / disable_kprobe call (and of
// the debugfs switch and the module notifier), made by the kprobe manager on behalf of the task
// that called it (on that task's CPU). The steps and their order are the call's graph in
// src/machines/kprobe-call.ts, the one place they are written:
//   register:   resolve → mutex_lock → hlist_add_head_rcu (R18) → arm_kprobe → text_poke_sync →
//               mutex_unlock → return 0
//   unregister: mutex_lock → __unregister_kprobe_top: __disable_kprobe (R64) → text_poke_sync (R55)
//               → hlist_del_rcu; mutex_unlock → synchronize_rcu (R65) → return (R67)
// The call's machine (src/machines/kprobe-call-actor.ts, one per task, built from that graph)
// decides which step function runs: its state names it; the events the step publishes move the
// machine on, and the fold's phase with it (NEXT_PHASE, derived from the same graph). Every arrow
// is an interleaving point: other CPUs step in between.

export interface ApiStepInput {
  readonly setup: Setup;
  readonly w: KernelState;
  readonly cpu: number;
  readonly pid: number;
  /** A fresh id for a registered probe (seeded nanoid); called only when one is needed. */
  readonly newHandle: () => string;
}

/** A kprobes call from a task's C code: its struct's fields as the call read them (src/cexec). */
function startCCall(input: ApiStepInput, cc: CApiCall): DomainEvent[] {
  const { setup, cpu, pid } = input;
  const probe = cc.probe;
  switch (cc.fn) {
    case 'register_kprobe':
    case 'register_kretprobe': {
      const kind = setup.probes.get(probe)?.kind ?? 'kprobe';
      // register_kretprobe() of a struct kprobe (or the converse) is the caller's type error; the model refuses it.
      if ((cc.fn === 'register_kretprobe') !== (kind === 'kretprobe')) return [{ type: 'kprobe.register.fail', cpu, pid, probe, errno: -EINVAL, reason: `${cc.fn}() of a struct ${kind}` }];
      const spec: ProbeSpec = { name: probe, kind, ...(cc.symbol !== null ? { symbol: cc.symbol } : {}), offset: cc.offset, ...(cc.addr !== null ? { addr: cc.addr } : {}), ...(cc.maxactive > 0 ? { maxactive: cc.maxactive } : {}) };
      return startRegister(input, probe, { spec, res: resolveProbe(spec, setup.symbols) });
    }
    case 'unregister_kprobe':
    case 'unregister_kretprobe':
      return [{ type: 'kprobe.unregister', cpu, pid, probe }];
    case 'enable_kprobe':
      return [{ type: 'kprobe.enable_kprobe', cpu, pid, probe }];
    case 'disable_kprobe':
      return [{ type: 'kprobe.disable_kprobe', cpu, pid, probe }];
  }
}

/** register_kprobe's entry: R21-R28 checks, then the call (and a kretprobe's pool, R70-R72). */
function startRegister({ setup, w, cpu, pid }: ApiStepInput, probe: string, c?: { spec: ProbeSpec; res: Resolution }): DomainEvent[] {
  const reg = recGet(w.kprobes.probes, probe)!;
  // R21, R22: an earlier registration wrote the resolved address into the struct; a struct given
  // by symbol and reused without clearing addr has both, and address resolution refuses it.
  // (A C module's struct has its real fields: resolution itself sees both, R21.)
  if (c === undefined && setup.probes.get(probe)?.symbol !== undefined && reg.addr !== null) {
    const reason = `symbol_name and the addr an earlier registration wrote are both set: clear addr before reusing the struct (R21, R22)`;
    return [{ type: 'kprobe.register.fail', cpu, pid, probe, errno: -EINVAL, reason }];
  }
  // R23: a probe that is registered (or being registered) cannot be registered again.
  if (reg.state !== 'unregistered') {
    return [{ type: 'kprobe.register.fail', cpu, pid, probe, errno: -EINVAL, reason: 'already registered (R23)' }];
  }
  const res = c?.res ?? setup.resolutions.get(probe)!;
  const spec = c?.spec ?? setup.probes.get(probe)!;
  const fail = (errno: number, reason: string): DomainEvent => ({ type: 'kprobe.register.fail', cpu, pid, probe, errno, reason });
  if (!res.ok) {
    // R22: a check after address resolution failed; the address stays in the caller's struct.
    if (res.written === undefined) return [fail(res.errno, res.reason)];
    return [{ type: 'kprobe.addr', cpu, pid, probe, addr: toHex(res.written) }, fail(res.errno, res.reason)];
  }
  const mod = res.fn.module;
  if (mod !== undefined) {
    // R21: a module's symbols are known only while it is loaded (and its init symbols only until
    // its init ran); R25.2: an address must be in a loaded module's text; R25.4: init text only
    // until the module initialised.
    const bySymbol = spec.symbol !== undefined;
    if (own(w.kprobes.modules, mod) === 'going') return [fail(-ENOENT, `${mod} is being unloaded: no reference can be taken (R25.2)`)];
    if (!own(w.kprobes.modules, mod)) {
      if (bySymbol) return [fail(-ENOENT, `unknown symbol "${spec.symbol}": ${mod} is not loaded (R21)`)];
      return [fail(-EINVAL, `${mod} is not loaded: not kernel or module text (R25.2)`)];
    }
    // While its init runs (COMING) the init text is there and may be probed (R96 then makes
    // those probes GONE).
    if (res.fn.init && own(w.kprobes.modules, mod) === true) {
      if (bySymbol) return [fail(-ENOENT, `unknown symbol "${spec.symbol}": the init text of ${mod} was freed after its init ran (R21, R25.4)`)];
      return [fail(-ENOENT, `${res.fn.name} is init text of ${mod}, freed after init (R25.4)`)];
    }
  }
  const call: DomainEvent = {
    type: 'kprobe.register',
    cpu,
    pid,
    probe,
    symbol: spec.symbol ?? null,
    offset: spec.offset ?? 0,
    addr: toHex(res.addr),
  };
  if (spec.kind !== 'kretprobe') return [call];
  return [call, { type: 'kretprobe.pool', cpu, pid, probe, maxactive: defaultMaxactive(spec, setup.scenario.cpus) }];
}

/** The next entry of a batch, or its shared grace period and return (R32, R33, R63, R65). */
function batchStep(input: ApiStepInput, b: Batch): DomainEvent[] {
  const { w, cpu, pid } = input;
  if (b.undo === null) {
    const next = b.probes[b.registered];
    if (next !== undefined) return startRegister(input, next);
    return [{ type: 'kprobe.batch.return', cpu, pid, fn: b.fn, ret: 0 }];
  }
  const next = b.undo[b.undone];
  if (next !== undefined) return [{ type: 'kprobe.unregister', cpu, pid, probe: next }];
  const done = (gp: number): DomainEvent[] => [
    { type: 'rcu.gp.end', cpu, pid, gp },
    ...b.undo!.map((probe): DomainEvent => ({ type: 'kprobe.unregistered', cpu, pid, probe })),
    { type: 'kprobe.batch.return', cpu, pid, fn: b.fn, ret: b.errno },
  ];
  const task = findTask(w, pid)!;
  if (task.wait?.on === 'gp') return gpComplete(w, task.wait.gp) ? done(task.wait.gp) : [];
  const gp = w.kprobes.gp_gen + 1;
  const waiting = gracePeriodWaiters(input.setup, w, cpu);
  const start: DomainEvent = { type: 'rcu.gp.start', cpu, pid, gp, waiting };
  return waiting.length === 0 ? [start, ...done(gp)] : [start];
}

/**
 * A task's kprobes operation while it is in no call (its call machine is idle): start the call
 * (which moves the machine into it), or a batch's next entry, or do what needs no call.
 */
export function startCall(input: ApiStepInput): DomainEvent[] {
  const { setup, w, cpu, pid } = input;
  const task = findTask(w, pid);
  if (task === undefined) throw new Error(`internal: kprobes call from unknown task ${pid}`);
  const k = w.kprobes;
  const op = programOf(setup, task.prog)[task.job];
  const batch = k.batches[pid];
  if (batch !== undefined) return batchStep(input, batch);
  // A task's C code calls the kprobes API (src/cexec): the probe is its struct as read now.
  const cc = w.c?.calls[pid];
  if (cc !== undefined) return startCCall(input, cc);
  if (op?.op === 'register_kprobe') return startRegister(input, op.probe);
  if (op?.op === 'unregister_kprobe') return [{ type: 'kprobe.unregister', cpu, pid, probe: op.probe }];
  if (op?.op === 'clear_kprobe') {
    const fields = op.fields ?? ['addr', 'flags'];
    return [{ type: 'kprobe.clear', cpu, pid, probe: op.probe, addr: fields.includes('addr'), flags: fields.includes('flags') }];
  }
  if (op?.op === 'enable_kprobe') return [{ type: 'kprobe.enable_kprobe', cpu, pid, probe: op.probe }];
  if (op?.op === 'disable_kprobe') return [{ type: 'kprobe.disable_kprobe', cpu, pid, probe: op.probe }];
  if (op?.op === 'kprobes_enabled') return [{ type: 'kprobes.enabled_write', cpu, pid, value: op.value }];
  if (op?.op === 'kprobes_optimization') return optimizationSysctl(setup, w, cpu, pid, op.value);
  if (op?.op === 'insmod') return [{ type: 'module.insmod', cpu, pid, module: op.module }];
  if (op?.op === 'rmmod') return startRmmod(setup, w, cpu, pid, op.module);
  // do_init_module(): a C module whose init returned an error is unloaded instead (src/cexec).
  if (op?.op === 'module_live' && setup.c?.byName.has(op.module) && (initReturned(w, pid) ?? 0n) !== 0n) return [{ type: 'module.rmmod', cpu, pid, module: op.module }];
  if (op?.op === 'module_live') return [{ type: 'module.init', cpu, pid, module: op.module }];
  if (op?.op === 'register_kprobes' || op?.op === 'unregister_kprobes') {
    // R32: num <= 0 is -EINVAL for register_kprobes; R63: a no-op for unregister_kprobes.
    if (op.probes.length === 0) return [{ type: 'kprobe.batch.return', cpu, pid, fn: op.op, ret: op.op === 'register_kprobes' ? -EINVAL : 0 }];
    return [{ type: 'kprobe.batch', cpu, pid, fn: op.op, probes: op.probes }];
  }
  throw new Error(`internal: task ${pid} has no kprobes call to make`);
}

/** One step of the task's call in progress: the kernel function its call machine's state names. */
export function callStep(step: CallStep, input: ApiStepInput): DomainEvent[] {
  const { setup, w, cpu, pid, newHandle } = input;
  const task = findTask(w, pid);
  if (task === undefined) throw new Error(`internal: kprobes call from unknown task ${pid}`);
  const call = w.kprobes.calls[pid];
  if (call === undefined) throw new Error(`internal: task ${pid} is in no kprobes call (its machine is at ${step})`);
  const k = w.kprobes;
  const probe = call.probe;
  // The global switch call names no probe.
  const reg = recGet(k.probes, probe) ?? { state: 'unregistered' as const, addr: null, disabled: false, handle: null };
  const addr = reg.addr;
  const unlock = (): DomainEvent => ({ type: 'mutex.unlock', cpu, pid, next: k.mutex.waiters[0] ?? null });
  // enable_kprobe / disable_kprobe return with kprobe_mutex released (spec §4).
  const ret = (value: number): DomainEvent[] => [
    unlock(),
    { type: 'kprobe.returned', cpu, pid, probe, fn: call.fn === 'enable_kprobe' ? 'enable_kprobe' : 'disable_kprobe', ret: value },
  ];
  const registered = reg.state === 'registered' && addr !== null && (recGet(k.table, addr)?.probes.includes(probe) ?? false);
  const enabledAt = (at: typeof addr, except: string) =>
    at !== null && (recGet(k.table, at)?.probes.some((p) => p !== except && !kprobeDisabled(recGet(k.probes, p))) ?? false);
  // Write the breakpoint byte (or the original byte back) and IPI every CPU to serialize (R55).
  const patchAt = (kind: 'text.arm' | 'text.disarm', at: Hex): DomainEvent[] => {
    const gen = k.sync_gen + 1;
    // Before v6.3 the sync does not wait for a CPU between its trap and its probe lookup (R54).
    // MUTANT int3-sync-gap: nor does it on a later kernel, which has no recovery for it (R56).
    const gap = setup.legacyInt3 || setup.mutant === 'int3-sync-gap';
    const waiting = cpusWithIrqsOff(w, cpu).filter((id) => !gap || w.cpus[id]!.trap === null);
    const out: DomainEvent[] = [
      { type: kind, cpu, pid, addr: at },
      { type: 'text.sync.start', cpu, pid, sync: gen, waiting },
    ];
    if (waiting.length === 0) out.push({ type: 'text.sync.end', cpu, pid, sync: gen });
    return out;
  };
  const patch = (kind: 'text.arm' | 'text.disarm'): DomainEvent[] => patchAt(kind, addr!);

  return STEPS[step]({ setup, w, cpu, pid, newHandle, task, call, k, probe, reg, addr, unlock, ret, registered, enabledAt, patchAt, patch });
}

/** What every step of a call reads: the call, its probe and the helpers the steps share. */
interface CallCtx {
  readonly setup: Setup;
  readonly w: KernelState;
  readonly cpu: number;
  readonly pid: number;
  readonly newHandle: () => string;
  readonly task: TaskState;
  readonly call: ApiCall;
  readonly k: KprobesState;
  readonly probe: string;
  readonly reg: ProbeReg;
  readonly addr: Hex | null;
  /** kprobe_mutex released, handed to its first waiter. */
  readonly unlock: () => DomainEvent;
  /** enable_kprobe / disable_kprobe return with kprobe_mutex released (spec §4). */
  readonly ret: (value: number) => DomainEvent[];
  /** The probe is registered and in the table at its address. */
  readonly registered: boolean;
  /** Another enabled probe is at `at`. */
  readonly enabledAt: (at: Hex | null, except: string) => boolean;
  /** Write the breakpoint byte (or the original byte back) and IPI every CPU to serialize (R55). */
  readonly patchAt: (kind: 'text.arm' | 'text.disarm', at: Hex) => DomainEvent[];
  readonly patch: (kind: 'text.arm' | 'text.disarm') => DomainEvent[];
}

// The kernel-named steps of a call; which one a phase runs, and the order of the phases, are the
// call's graph (src/machines/kprobe-call.ts).

/** kprobe_mutex, or a place in its wait list (R16). */
function mutex_lock(c: CallCtx): DomainEvent[] {
  const { cpu, pid, k } = c;
  if (k.mutex.owner === null || k.mutex.owner === pid) return [{ type: 'mutex.lock', cpu, pid }];
  return [{ type: 'mutex.wait', cpu, pid }];
}

/** register_kprobe's insert into the table, before any breakpoint is written (R18, R27). */
function hlist_add_head_rcu(c: CallCtx): DomainEvent[] {
  const { setup, w, cpu, pid, newHandle, k, probe, reg, addr, unlock } = c;
  const at = addr!;
  const point = recGet(k.table, at);
  // R2, R29: the caller's DISABLED flag, as the struct has it now (a reused struct keeps the
  // one its last unregister set unless the caller cleared it). A C module's struct is memory the
  // module writes: its flags as read when the call began (src/cexec).
  const disabled = w.c?.calls[pid]?.disabled ?? reg.disabled;
  // MUTANT arm-before-insert: arch_arm_kprobe() before hlist_add_head_rcu(), against R18: the
  // breakpoint is written in a step of its own at a new point, so other CPUs can trap on it while
  // the table has no probe there; the next step inserts the probe at the armed point (R8's path).
  if (setup.mutant === 'arm-before-insert' && point === undefined && !disabled && !k.all_disarmed) return [{ type: 'text.arm', cpu, pid, addr: at }];
  const insert: DomainEvent = {
    type: 'kprobe.insert',
    cpu,
    pid,
    probe,
    addr: at,
    bucket: kprobeBucket(BigInt(at)),
    handle: newHandle(),
    disabled,
  };
  // R47.2: the copy is prepared when the point is new (or re-prepared at a GONE one, R14).
  const fresh = point === undefined || (point.probes.length > 0 && point.probes.every((p) => recGet(k.probes, p)?.gone));
  const boost: DomainEvent[] = fresh && boostable(setup, probe, at) ? [{ type: 'kprobe.boostable', cpu, pid, addr: at }] : [];
  // R15, R87: at an OPTIMIZED point, or arming inside another point's jump.
  const unopt = joinOptimized(setup, w, cpu, pid, probe, at, disabled);
  // R8: a second probe at an armed point joins it; the breakpoint stays armed throughout
  // (unless it re-arms a point whose unoptimization was queued, R87).
  // R29: a probe registered disabled is not armed; R30: nor is any while arming is off.
  const rearm = unopt.some((e) => e.type === 'kprobe.opt.rearm');
  if ((point?.armed && !rearm) || disabled || k.all_disarmed) {
    return [...unopt, insert, ...boost, unlock(), { type: 'kprobe.registered', cpu, pid, probe, addr: at }, ...optimize_kprobe(setup, w, cpu, pid, at, [probe, ...(point?.probes ?? [])], disabled)];
  }
  return [...unopt, insert, ...boost];
}

/** register_kprobe writes the breakpoint and starts the text-patch sync (R18, R27). */
function arm_kprobe(c: CallCtx): DomainEvent[] {
  const { patch } = c;
  return patch('text.arm');
}

/** every CPU has acknowledged the serializing IPI, or the call waits (R55). */
function text_poke_sync(c: CallCtx): DomainEvent[] {
  const { w, cpu, pid, k } = c;
  return syncComplete(w) ? [{ type: 'text.sync.end', cpu, pid, sync: k.sync!.gen }] : [];
}

/** kprobe_mutex released; the call returns (a register or enable may first offer the point to the optimizer, R87). */
function mutex_unlock(c: CallCtx): DomainEvent[] {
  const { setup, w, cpu, pid, call, k, probe, addr, unlock, ret } = c;
  if (call.fn === 'register_kprobe') {
    return [unlock(), { type: 'kprobe.registered', cpu, pid, probe, addr: addr! }, ...optimize_kprobe(setup, w, cpu, pid, addr!, recGet(k.table, addr!)?.probes ?? [probe], false)];
  }
  if (call.fn === 'unregister_kprobe') return [unlock()];
  // R87: an enabled point is optimized again; a disarmed one may unblock a neighbour's jump.
  if (call.fn === 'enable_kprobe') return [...optimize_kprobe(setup, w, cpu, pid, addr!, recGet(k.table, addr!)?.probes ?? [probe], false), ...ret(0)];
  if (call.fn === 'disable_kprobe') return [...requeueCovering(setup, w, cpu, pid, addr!), ...ret(0)];
  return ret(0);
}

/** enable_kprobe(): R35, R36, R97. */
function enable_kprobe(c: CallCtx): DomainEvent[] {
  const { w, cpu, pid, k, probe, reg, addr, ret, registered, patch } = c;
  // R35: not registered → -EINVAL; already enabled → 0; else clear DISABLED and arm the
  // point if it was not armed (no other enabled probe there).
  if (!registered) return ret(-EINVAL);
  // R97: a GONE probe cannot be enabled again.
  if (reg.gone) return ret(-EINVAL);
  // An enabled child at an aggregator R36 left DISABLED: with arming on, this arms it.
  const held = recGet(k.table, addr!) !== undefined && pointDisabled(k, recGet(k.table, addr!)!);
  if (!reg.disabled && (k.all_disarmed || !held)) return ret(0);
  if (k.all_disarmed) {
    // R36 (quirk): with arming off a standalone probe's DISABLED is only cleared together
    // with arming, so it stays disabled although 0 is returned; a child's own flag clears.
    if ((recGet(k.table, addr!)?.probes.length ?? 0) <= 1) return ret(0);
    return [{ type: 'kprobe.enable', cpu, pid, probe }, ...ret(0)];
  }
  if (recGet(k.table, addr!)?.opt?.state === 'unopt') {
    // R87: arm_kprobe() on a point whose unoptimization is queued: int3 over the jump's first
    // byte (with its text-patch sync), and optimize_kprobe() takes it off the queue.
    return [{ type: 'kprobe.enable', cpu, pid, probe }, { type: 'kprobe.opt.rearm', cpu, pid, addr: addr! }, ...patch('text.arm')];
  }
  if (recGet(k.table, addr!)?.armed) return [{ type: 'kprobe.enable', cpu, pid, probe }, ...ret(0)];
  return [{ type: 'kprobe.enable', cpu, pid, probe }, ...unoptimizeCovering(w, cpu, pid, addr!), ...patch('text.arm')];
}

/** disable_kprobe(), or __unregister_kprobe_top()'s disable and disarm (R34, R64). */
function __disable_kprobe(c: CallCtx): DomainEvent[] {
  const { w, cpu, pid, call, k, probe, reg, addr, unlock, ret, registered, enabledAt, patch } = c;
  if (call.fn === 'disable_kprobe') {
    // R34: not registered → -EINVAL; already disabled → 0, nothing changes; else set DISABLED
    // and disarm the point when no enabled probe remains there (R13).
    if (!registered) return ret(-EINVAL);
    if (kprobeDisabled(reg)) return ret(0);
    const out: DomainEvent[] = [{ type: 'kprobe.disable', cpu, pid, probe }];
    if (recGet(k.table, addr!)?.armed && !enabledAt(addr, probe)) {
      // R87: an optimized point's unoptimization is queued; the optimizer disarms it later.
      const { events, disarm } = disarmOptimized(w, cpu, pid, addr!);
      out.push(...events);
      if (disarm) return [...out, ...patch('text.disarm')];
    }
    return [...out, ...ret(0)];
  }
  // R64: checked under kprobe_mutex: a probe that is not registered (never was, or another
  // unregister already took it down) is skipped; the call still ends with a grace period.
  if (reg.state !== 'registered' || addr === null || !recGet(k.table, addr)?.probes.includes(probe)) return [unlock()];
  const out: DomainEvent[] = [{ type: 'kprobe.disable', cpu, pid, probe }];
  // R13/R34: the point is disarmed when its last enabled probe goes (a disabled one changes
  // nothing, R15's revived aggregator included; R95: a GONE one's memory is already freed);
  // R87: an optimized point's unoptimization is queued instead, and the jump stays for now.
  if (!kprobeDisabled(reg) && recGet(k.table, addr)?.armed && !enabledAt(addr, probe)) {
    const { events, disarm } = disarmOptimized(w, cpu, pid, addr);
    out.push(...events);
    // MUTANT disarm-without-sync: the original byte goes back but no CPU is synchronized before
    // the unlink, against R18/R55: a CPU that trapped on the old int3 may then find no probe.
    if (disarm && c.setup.mutant === 'disarm-without-sync') out.push({ type: 'text.disarm', cpu, pid, addr });
    else if (disarm) out.push(...patch('text.disarm'));
  }
  return out;
}

/** the debugfs kprobes/enabled write (R42). */
function write_enabled_file_bool(c: CallCtx): DomainEvent[] {
  const { setup, cpu, pid, task, k, unlock } = c;
  // R42: writing the current state again changes nothing.
  const value = (programOf(setup, task.prog)[task.job] as { value?: boolean } | undefined)?.value ?? true;
  if (value === !k.all_disarmed) return [unlock(), { type: 'kprobes.enabled_written', cpu, pid, value }];
  return [{ type: 'kprobes.all_disarmed', cpu, pid, value: !value }];
}

/** arm_all_kprobes() / disarm_all_kprobes(): one point per step (R42). */
function arm_all_kprobes(c: CallCtx): DomainEvent[] {
  const { setup, w, cpu, pid, k, unlock, patchAt } = c;
  // R42: arm (or disarm) every point that has an enabled probe, one text patch at a time.
  const on = !k.all_disarmed;
  for (const [at, point] of probePoints(k)) {
    // A GONE point's text is freed: nothing to patch there (R95). A disabled point awaiting
    // its unoptimization is the optimizer's (arm_all/disarm_all skip disabled points).
    if (point.probes.every((p) => recGet(k.probes, p)?.gone) || point.opt?.state === 'unopt') continue;
    const wanted = on && !pointDisabled(k, point);
    if (point.armed === wanted) continue;
    // R87: disarming everything unoptimizes at once ("forced"); arming may unblock a jump.
    if (wanted) return [...unoptimizeCovering(w, cpu, pid, at), ...patchAt('text.arm', at)];
    const forced: DomainEvent[] = point.opt === undefined ? [] : [{ type: 'kprobe.opt.unopt', cpu, pid, addr: at }];
    return [...forced, ...patchAt('text.disarm', at)];
  }
  // R42: arming everything queues what can be optimized; disarming waits for the optimizer.
  return [...(on ? requeueOptimizer(setup, w, cpu, pid) : flushUnoptimizations(w)), unlock(), { type: 'kprobes.enabled_written', cpu, pid, value: on }];
}

/** kprobes' module notifier (§13). */
function kprobes_module_callback(c: CallCtx): DomainEvent[] {
  const { setup, w, cpu, pid, task, call, unlock } = c;
  const m = (programOf(setup, task.prog)[task.job] as { module?: string } | undefined)?.module ?? '';
  return [...moduleNotifier(setup, w, cpu, pid, call.fn, m), unlock(), { type: 'module.done', cpu, pid, module: m }];
}

/** __unregister_kprobe_top()'s unlink, after the disarm's sync (R64, R69). */
function hlist_del_rcu(c: CallCtx): DomainEvent[] {
  const { setup, w, cpu, pid, k, probe, addr } = c;
  const unlink: DomainEvent = { type: 'kprobe.unlink', cpu, pid, probe, addr: addr! };
  const point = recGet(k.table, addr!)!;
  const rest = point.probes.filter((p) => p !== probe);
  // R64: an aggregator still enabled is optimized again (its post-handler child may be the one
  // that went); R87: a disarmed point may unblock the neighbour whose jump covers it.
  const stillEnabled = rest.length > 0 && point.armed && !pointDisabled(k, { ...point, probes: rest });
  const reopt = stillEnabled ? optimize_kprobe(setup, w, cpu, pid, addr!, rest, false) : point.armed ? [] : requeueCovering(setup, w, cpu, pid, addr!);
  // R69: then the instance pool is detached; hooked calls still return, without a handler.
  if (setup.probes.get(probe)?.kind !== 'kretprobe') return [unlink, ...reopt];
  return [unlink, ...reopt, { type: 'kretprobe.detach', cpu, pid, probe }];
}

/** unregister_kprobes()' grace period, then __unregister_kprobe_bottom() and return (R65, R67). */
function synchronize_rcu(c: CallCtx): DomainEvent[] {
  const { w, cpu, pid, task, k, probe } = c;
  // In a batch, phase 1 of this entry is done; the batch shares one grace period (R65).
  if (k.batches[pid] !== undefined) return [{ type: 'kprobe.batch.next', cpu, pid, probe }];
  const done = (gp: number): DomainEvent[] => [
    { type: 'rcu.gp.end', cpu, pid, gp },
    { type: 'kprobe.unregistered', cpu, pid, probe },
  ];
  if (task.wait?.on === 'gp') return gpComplete(w, task.wait.gp) ? done(task.wait.gp) : [];
  // R65: synchronize_rcu(); only CPUs inside a preempt-disabled region must be waited for.
  const gp = k.gp_gen + 1;
  const waiting = gracePeriodWaiters(c.setup, w, cpu);
  const start: DomainEvent = { type: 'rcu.gp.start', cpu, pid, gp, waiting };
  return waiting.length === 0 ? [start, ...done(gp)] : [start];
}

/** The CPUs unregistration's synchronize_rcu() waits for: those in a preempt-disabled region (R65). */
function gracePeriodWaiters(setup: Setup, w: KernelState, cpu: number): number[] {
  // MUTANT no-grace-period: it waits for no one, against R65/R67: unregister returns while CPUs
  // may still run the probe's handlers.
  return setup.mutant === 'no-grace-period' ? [] : cpusInReadSection(w, cpu);
}

const STEPS: Readonly<Record<CallStep, (c: CallCtx) => DomainEvent[]>> = {
  mutex_lock,
  hlist_add_head_rcu,
  arm_kprobe,
  text_poke_sync,
  mutex_unlock,
  enable_kprobe,
  __disable_kprobe,
  write_enabled_file_bool,
  arm_all_kprobes,
  kprobes_module_callback,
  hlist_del_rcu,
  synchronize_rcu,
};

/**
 * R47.2: whether a copy prepared for `probe` at `addr` is boostable: only on x86_64 kernels without
 * CONFIG_PREEMPTION, only for a probe without a post_handler, and only for an ordinary
 * instruction (calls and returns are emulated, the fentry site is ftrace's). The image has no
 * exception-table entries, so none is excluded for that reason.
 */
function boostable(setup: Setup, probe: string, addr: Hex): boolean {
  if (setup.scenario.config?.preempt !== false || setup.symbols.image.arch !== 'x86_64') return false;
  if (setup.steps.get(probe)?.post !== undefined) return false;
  return setup.symbols.insnAt(BigInt(addr))?.insn.op.k === 'insn';
}
