import type { DomainEvent, Hex, LoggedEvent } from './events.ts';
import type {
  ApiCall,
  ApiPhase,
  Batch,
  CpuState,
  Frame,
  KretprobePool,
  KernelState,
  KprobesState,
  ProbeStats,
  SchedState,
  TaskState,
} from './state.ts';

// The fold: evolve(state, event) → state. Pure, no XState, no RxJS. Replay, `state --at`, the
// views and the invariant monitors all stand on it. Slice reducers (evolveCpu, evolveSched,
// evolveKprobes) are exported because each actor keeps its own slice with the same function.

/** An event that does not fit the state it is applied to (a corrupt or hand-edited log). */
export class FoldError extends Error {}

function fail(msg: string): never {
  throw new FoldError(msg);
}

// ── frames ──────────────────────────────────────────────────────────────────────────────────

function stepFrame(f: Frame | null): Frame {
  if (f === null) return fail('no function is executing there');
  // A hooked frame keeps its kretprobe instances until it returns.
  return f.rp === undefined ? { fn: f.fn, pc: f.pc + 1, up: f.up } : { fn: f.fn, pc: f.pc + 1, up: f.up, rp: f.rp };
}

function callFrame(f: Frame | null, fn: string, fromCallSite: boolean): Frame {
  return { fn, pc: 0, up: fromCallSite ? stepFrame(f) : f };
}

function retFrame(f: Frame | null, fn: string): Frame | null {
  if (f === null || f.fn !== fn) return fail(`return from ${fn}, but the innermost frame is ${f?.fn ?? 'none'}`);
  return f.up;
}

// ── the CPU slice (owned by cpu/N) ─────────────────────────────────────────────────────────

function withHandlerFrames(c: CpuState, frames: Frame | null): CpuState {
  if (c.handler === null) return fail(`cpu ${c.id} runs no handler`);
  return { ...c, handler: { ...c.handler, frames } };
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
      return e.ctx === 'handler' ? withHandlerFrames(c, retFrame(c.handler?.frames ?? null, e.fn)) : c;
    case 'kprobe.trap':
      return { ...c, trap: e.addr, preempt_count: c.preempt_count + 1, irqs_off: true };
    case 'kprobe.hit':
      return { ...c, trap: null, current: e.addr, probes: e.probes, status: 'KPROBE_HIT_ACTIVE', next: 0 };
    case 'kprobe.miss':
      if (c.current === null) return fail(`cpu ${c.id}: reentrant hit with no running kprobe`);
      return {
        ...c,
        trap: null,
        prev: { current: c.current, probes: c.probes, status: c.status, next: c.next },
        current: e.addr,
        probes: e.probes,
        status: 'KPROBE_REENTER',
        next: 0,
      };
    case 'kprobe.bug':
    case 'kernel.oops':
      return { ...c, trap: null, halted: true };
    case 'kprobe.redirect':
      // R46: a pre-handler returned non-zero: no single-step, no post-handler, current_kprobe
      // NULL, and the trap returns to whatever IP the handler left.
      return { ...c, current: null, probes: [], status: 'idle', next: 0, handler: null, preempt_count: c.preempt_count - 1, irqs_off: false };
    case 'kprobe.recovered':
      // R54 (before v6.3): IP back to the trap address, the trap returns; the original
      // instruction runs next, with no handler and no miss.
      return { ...c, trap: null, preempt_count: c.preempt_count - 1, irqs_off: c.current !== null };
    case 'handler.enter':
      return { ...c, next: c.next + 1, handler: { probe: e.probe, phase: e.phase, instance: null, step: 0, spin: 0, frames: null } };
    case 'handler.skip':
      return { ...c, next: c.next + 1 };
    case 'handler.spin':
      if (c.handler === null) return fail(`cpu ${c.id} runs no handler`);
      return { ...c, handler: { ...c.handler, spin: e.left } };
    case 'handler.step':
      if (c.handler === null) return fail(`cpu ${c.id} runs no handler`);
      return { ...c, handler: { ...c.handler, step: e.step + 1, spin: 0 } };
    case 'handler.exit':
      return { ...c, handler: null };
    case 'kprobe.ss':
      return { ...c, stepped: true, status: c.status === 'KPROBE_REENTER' ? c.status : 'KPROBE_HIT_SS' };
    case 'kprobe.ss.done':
      if (c.status === 'KPROBE_REENTER') {
        // R49/R51: restore the outer probe exactly as it was; the nested trap returns.
        if (c.prev === null) return fail(`cpu ${c.id}: REENTER with an empty prev_kprobe slot`);
        const p = c.prev;
        return {
          ...c,
          current: p.current,
          probes: p.probes,
          status: p.status,
          next: p.next,
          prev: null,
          stepped: false,
          preempt_count: c.preempt_count - 1,
        };
      }
      return { ...c, status: 'KPROBE_HIT_SSDONE', next: 0, stepped: false };
    case 'kprobe.done':
      return {
        ...c,
        current: null,
        probes: [],
        status: 'idle',
        next: 0,
        preempt_count: c.preempt_count - 1,
        irqs_off: false,
      };
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
      return { ...c, current: e.addr, probes: [e.probe], status: 'KPROBE_HIT_ACTIVE', next: 0 };
    case 'kretprobe.put': {
      const t = c.trampoline;
      const walked = t !== null && t.pending[0] === e.instance ? { ...t, pending: t.pending.slice(1) } : t;
      if (e.reason === 'entry_handler') return { ...c, handler: c.handler && { ...c.handler, instance: null } };
      // R75: after a return handler current_kprobe goes back to NULL, not to an earlier value.
      if (e.reason === 'returned') return { ...c, trampoline: walked, current: null, probes: [], status: 'idle', next: 0 };
      return { ...c, trampoline: walked };
    }
    case 'kretprobe.return':
      return { ...c, trampoline: null, preempt_count: c.preempt_count - 1 };
    case 'ipi.ack':
      return { ...c, acked_sync: e.sync };
    case 'rcu.qs':
      return { ...c, rcu_gp: e.gp };
    default:
      return c;
  }
}

// ── the scheduler slice (owned by sched) ───────────────────────────────────────────────────

export function evolveSched(s: SchedState, e: DomainEvent): SchedState {
  switch (e.type) {
    case 'sched.pick':
      return { curr: s.curr, steps: s.steps + 1 };
    case 'sched.switch': {
      const curr = s.curr.slice();
      curr[e.cpu] = e.next;
      return { curr, steps: s.steps };
    }
    default:
      return s;
  }
}

// ── the kprobe manager slice (owned by kprobes) ────────────────────────────────────────────

/** What phase a call is in after one of its events (the manager's steps, spec §3 and §8). */
const NEXT_PHASE: Record<ApiCall['fn'], Partial<Record<DomainEvent['type'], ApiPhase>>> = {
  register_kprobe: {
    'kprobe.register': 'lock',
    'mutex.lock': 'insert',
    'kprobe.insert': 'arm',
    'text.sync.start': 'sync',
    'text.sync.end': 'unlock',
  },
  unregister_kprobe: {
    'kprobe.unregister': 'lock',
    'mutex.lock': 'disable',
    'kprobe.disable': 'unlink',
    'text.sync.start': 'sync',
    'text.sync.end': 'unlink',
    'kprobe.unlink': 'unlock',
    'mutex.unlock': 'gp',
  },
  enable_kprobe: {
    'kprobe.enable_kprobe': 'lock',
    'mutex.lock': 'enable',
    'kprobe.enable': 'unlock',
    'text.sync.start': 'sync',
    'text.sync.end': 'unlock',
  },
  insmod: { 'module.insmod': 'lock', 'mutex.lock': 'module' },
  rmmod: { 'module.rmmod': 'lock', 'mutex.lock': 'module' },
  kprobes_enabled: {
    'kprobes.enabled_write': 'lock',
    'mutex.lock': 'switch',
    'kprobes.all_disarmed': 'patch',
    'text.sync.start': 'sync',
    'text.sync.end': 'patch',
  },
  disable_kprobe: {
    'kprobe.disable_kprobe': 'lock',
    'mutex.lock': 'disable',
    'kprobe.disable': 'unlock',
    'text.sync.start': 'sync',
    'text.sync.end': 'unlock',
  },
};

function advanceCall(k: KprobesState, pid: number, type: DomainEvent['type']): KprobesState {
  const call = k.calls[pid];
  if (call === undefined) return fail(`task ${pid} is in no kprobes call`);
  const phase = NEXT_PHASE[call.fn][type];
  if (phase === undefined) return k;
  return { ...k, calls: { ...k.calls, [pid]: { ...call, phase } } };
}

function withBatch(k: KprobesState, pid: number, f: (b: Batch) => Batch): KprobesState {
  const b = k.batches[pid];
  return b === undefined ? k : { ...k, batches: { ...k.batches, [pid]: f(b) } };
}

function endCall(k: KprobesState, pid: number): KprobesState {
  const calls = { ...k.calls };
  delete calls[pid];
  return { ...k, calls };
}

function setProbe(k: KprobesState, name: string, patch: Partial<KprobesState['probes'][string]>): KprobesState {
  const p = k.probes[name];
  if (p === undefined) return fail(`unknown probe "${name}"`);
  return { ...k, probes: { ...k.probes, [name]: { ...p, ...patch } } };
}

function setPoint(k: KprobesState, addr: Hex, patch: { probes?: readonly string[]; armed?: boolean }): KprobesState {
  const point = k.table[addr];
  if (point === undefined && patch.probes === undefined) return fail(`no probe point at ${addr}`);
  const next = { probes: point?.probes ?? [], armed: point?.armed ?? false, ...patch };
  const table = { ...k.table };
  if (next.probes.length === 0) delete table[addr];
  else table[addr] = next;
  return { ...k, table };
}

export function evolveKprobes(k: KprobesState, e: DomainEvent): KprobesState {
  switch (e.type) {
    case 'kprobe.register':
      return setProbe(
        { ...k, calls: { ...k.calls, [e.pid]: { fn: 'register_kprobe', probe: e.probe, phase: 'lock', effective: true } } },
        e.probe,
        // R22: the resolved address is written back to p->addr at once.
        { state: 'registering', addr: e.addr },
      );
    case 'kprobe.unregister':
      return { ...k, calls: { ...k.calls, [e.pid]: { fn: 'unregister_kprobe', probe: e.probe, phase: 'lock', effective: false } } };
    case 'mutex.lock':
      if (k.mutex.owner !== null && k.mutex.owner !== e.pid) return fail(`kprobe_mutex is held by task ${k.mutex.owner}`);
      return advanceCall(
        { ...k, mutex: { owner: e.pid, waiters: k.mutex.waiters.filter((w) => w !== e.pid) } },
        e.pid,
        e.type,
      );
    case 'mutex.wait':
      return { ...k, mutex: { owner: k.mutex.owner, waiters: [...k.mutex.waiters, e.pid] } };
    case 'mutex.unlock':
      if (k.mutex.owner !== e.pid) return fail(`task ${e.pid} unlocks kprobe_mutex it does not hold`);
      // Hand-off: the first waiter owns the mutex at once; its own mutex.lock marks it running again.
      return advanceCall({ ...k, mutex: { owner: e.next, waiters: k.mutex.waiters } }, e.pid, e.type);
    case 'kprobe.insert': {
      const existing = k.table[e.addr];
      const k2 = setPoint(k, e.addr, { probes: [e.probe, ...(existing?.probes ?? [])] });
      // R29: a probe registered with DISABLED enters the table but is not armed.
      return advanceCall(setProbe(k2, e.probe, { addr: e.addr, handle: e.handle, disabled: e.disabled }), e.pid, e.type);
    }
    case 'text.arm':
      return setPoint(k, e.addr, { armed: true });
    case 'text.disarm':
      return setPoint(k, e.addr, { armed: false });
    case 'text.sync.start':
      return advanceCall({ ...k, sync: { gen: e.sync, waiting: e.waiting }, sync_gen: e.sync }, e.pid, e.type);
    case 'text.sync.end':
      return advanceCall({ ...k, sync: null }, e.pid, e.type);
    case 'kprobe.registered': {
      const done = endCall(setProbe(k, e.probe, { state: 'registered' }), e.pid);
      return withBatch(done, e.pid, (b) => ({ ...b, registered: b.registered + 1 }));
    }
    case 'kprobe.register.fail':
      // R32: a failed entry rolls back the entries registered before it, as one batch.
      return withBatch(k, e.pid, (b) => ({ ...b, errno: e.errno, undo: b.probes.slice(0, b.registered), undone: 0 }));
    case 'kprobe.batch':
      return {
        ...k,
        batches: {
          ...k.batches,
          [e.pid]: {
            fn: e.fn,
            probes: e.probes,
            registered: 0,
            errno: 0,
            undo: e.fn === 'unregister_kprobes' ? e.probes : null,
            undone: 0,
            effective: [],
          },
        },
      };
    case 'kprobe.batch.next': {
      // Phase 1 of one entry is done; the grace period is the batch's (R65).
      const effective = k.calls[e.pid]?.effective ?? false;
      return withBatch(endCall(k, e.pid), e.pid, (b) => ({
        ...b,
        undone: b.undone + 1,
        effective: effective ? [...b.effective, e.probe] : b.effective,
      }));
    }
    case 'kprobe.batch.return': {
      const batches = { ...k.batches };
      delete batches[e.pid];
      return { ...k, batches };
    }
    case 'kprobe.disable': {
      const call = k.calls[e.pid];
      if (call === undefined) return fail(`task ${e.pid} is in no kprobes call`);
      if (call.fn === 'disable_kprobe') return advanceCall(setProbe(k, e.probe, { disabled: true }), e.pid, e.type);
      // Under kprobe_mutex the unregister found the probe registered: from here on it is this
      // call's to take down (R64).
      const k2 = { ...k, calls: { ...k.calls, [e.pid]: { ...call, effective: true } } };
      return advanceCall(setProbe(k2, e.probe, { disabled: true, state: 'unregistering' }), e.pid, e.type);
    }
    case 'kprobe.enable_kprobe':
    case 'kprobe.disable_kprobe': {
      const fn = e.type === 'kprobe.enable_kprobe' ? 'enable_kprobe' : 'disable_kprobe';
      return advanceCall({ ...k, calls: { ...k.calls, [e.pid]: { fn, probe: e.probe, phase: 'lock', effective: true } } }, e.pid, e.type);
    }
    case 'kprobe.enable':
      return advanceCall(setProbe(k, e.probe, { disabled: false }), e.pid, e.type);
    case 'module.insmod':
    case 'module.rmmod': {
      const fn = e.type === 'module.insmod' ? 'insmod' : 'rmmod';
      return advanceCall({ ...k, calls: { ...k.calls, [e.pid]: { fn, probe: '', phase: 'lock', effective: true } } }, e.pid, e.type);
    }
    case 'module.live':
    case 'module.gone': {
      const modules = { ...k.modules };
      if (e.type === 'module.live') modules[e.module] = true;
      else delete modules[e.module];
      // R95/R96: probes on freed text become GONE; they stay registered.
      let out: KprobesState = { ...k, modules };
      for (const p of e.gone) out = setProbe(out, p, { gone: true });
      return out;
    }
    case 'module.done':
      return endCall(k, e.pid);
    case 'kprobes.enabled_write':
      return advanceCall({ ...k, calls: { ...k.calls, [e.pid]: { fn: 'kprobes_enabled', probe: '', phase: 'lock', effective: true } } }, e.pid, e.type);
    case 'kprobes.all_disarmed':
      return advanceCall({ ...k, all_disarmed: e.value }, e.pid, e.type);
    case 'kprobes.enabled_written':
      return endCall(k, e.pid);
    case 'kprobe.returned':
      return endCall(k, e.pid);
    case 'kprobe.unlink': {
      const point = k.table[e.addr];
      if (point === undefined) return fail(`no probe point at ${e.addr}`);
      return advanceCall(setPoint(k, e.addr, { probes: point.probes.filter((p) => p !== e.probe) }), e.pid, e.type);
    }
    case 'rcu.gp.start':
      return { ...k, gps: { ...k.gps, [e.gp]: e.waiting }, gp_gen: e.gp };
    case 'rcu.gp.end': {
      const gps = { ...k.gps };
      delete gps[e.gp];
      return { ...k, gps };
    }
    case 'kprobe.unregistered':
      if (!(k.calls[e.pid]?.effective || k.batches[e.pid]?.effective.includes(e.probe))) return endCall(k, e.pid);
      return endCall(setProbe(k, e.probe, { state: 'unregistered', disabled: false, gone: false, handle: null }), e.pid);
    default:
      return k;
  }
}

// ── tasks (shared: CPUs run them, the scheduler places them, the manager blocks them) ─────

function taskIndex(tasks: readonly TaskState[], pid: number): number {
  for (let i = 0; i < tasks.length; i++) if (tasks[i]!.pid === pid) return i;
  return fail(`no task with pid ${pid}`);
}

function updateTask(tasks: readonly TaskState[], pid: number, f: (t: TaskState) => TaskState): TaskState[] {
  const i = taskIndex(tasks, pid);
  const out = tasks.slice();
  out[i] = f(tasks[i]!);
  return out;
}

function finishJob(t: TaskState): TaskState {
  return { ...t, job: t.job + 1 };
}

/** The new state under construction: a fresh object that evolve fills in and then returns. */
type Draft = { -readonly [K in keyof KernelState]: KernelState[K] };

function evolveTasks(d: Draft, e: DomainEvent): void {
  const tasks = d.tasks;
  switch (e.type) {
    case 'sched.switch': {
      let out = tasks;
      if (e.prev !== null && out.some((t) => t.pid === e.prev)) out = updateTask(out, e.prev, (t) => ({ ...t, cpu: null }));
      d.tasks = updateTask(out, e.next, (t) => ({ ...t, cpu: e.cpu, last_cpu: e.cpu }));
      return;
    }
    case 'insn.exec':
      if (e.ctx === 'task') d.tasks = updateTask(tasks, e.pid, (t) => ({ ...t, frames: stepFrame(t.frames) }));
      return;
    case 'func.call':
      if (e.ctx === 'task') d.tasks = updateTask(tasks, e.pid, (t) => ({ ...t, frames: callFrame(t.frames, e.fn, e.ip !== null) }));
      return;
    case 'func.ret':
      if (e.ctx !== 'task') return;
      d.tasks = updateTask(tasks, e.pid, (t) => {
        const frames = retFrame(t.frames, e.fn);
        // Returning from the outermost frame completes the program operation that called it.
        return frames === null ? finishJob({ ...t, frames }) : { ...t, frames };
      });
      return;
    case 'task.fork': {
      const child: TaskState = {
        pid: e.child,
        comm: e.comm,
        prog: -1,
        job: 0,
        cpu: null,
        last_cpu: null,
        pinned: null,
        frames: null,
        wait: null,
        child: null,
      };
      const out = updateTask(tasks, e.pid, (t) => ({ ...t, child: e.child }));
      out.push(child);
      d.tasks = out;
      d.next_pid = Math.max(d.next_pid, e.child + 1);
      return;
    }
    case 'task.exit': {
      const i = taskIndex(tasks, e.pid);
      // R78: instances still hooked on the dead task's frames go back without a handler call.
      for (let f = tasks[i]!.frames; f !== null; f = f.up) for (const inst of f.rp ?? []) d.kretprobes = putInstance(d.kretprobes, inst);
      d.tasks = tasks.filter((_, j) => j !== i);
      d.exited += 1;
      return;
    }
    case 'kretprobe.hook':
      d.tasks = updateTask(tasks, e.pid, (t) => {
        if (t.frames === null) return fail(`task ${e.pid} has no frame to hook`);
        return { ...t, frames: { ...t.frames, rp: [...(t.frames.rp ?? []), e.instance] } };
      });
      return;
    case 'kretprobe.return':
      d.tasks = updateTask(tasks, e.pid, (t) => {
        const frames = retFrame(t.frames, e.fn);
        return frames === null ? finishJob({ ...t, frames }) : { ...t, frames };
      });
      return;
    case 'task.sleep':
      d.tasks = updateTask(tasks, e.pid, (t) => finishJob({ ...t, wait: { on: 'time', until: e.until } }));
      return;
    case 'kprobe.redirect':
      d.tasks = updateTask(tasks, e.pid, (t) => {
        if (t.frames === null) return fail(`task ${e.pid} has no frame to redirect`);
        return { ...t, frames: { ...t.frames, pc: e.pc } };
      });
      return;
    case 'task.wake':
    case 'mutex.lock':
    case 'text.sync.end':
    case 'rcu.gp.end':
      d.tasks = updateTask(tasks, e.pid, (t) => ({ ...t, wait: null }));
      return;
    case 'mutex.wait':
      d.tasks = updateTask(tasks, e.pid, (t) => ({ ...t, wait: { on: 'mutex' } }));
      return;
    case 'text.sync.start':
      d.tasks = updateTask(tasks, e.pid, (t) => ({ ...t, wait: { on: 'sync', sync: e.sync } }));
      return;
    case 'rcu.gp.start':
      d.tasks = updateTask(tasks, e.pid, (t) => ({ ...t, wait: { on: 'gp', gp: e.gp } }));
      return;
    case 'kprobe.registered':
    case 'kprobe.register.fail':
    case 'kprobe.unregistered':
      // Inside a batch the task's operation goes on until kprobe.batch.return.
      if (d.kprobes.batches[e.pid] === undefined) d.tasks = updateTask(tasks, e.pid, finishJob);
      return;
    case 'kprobe.returned':
    case 'kprobes.enabled_written':
    case 'kprobe.batch.return':
    case 'module.done':
      d.tasks = updateTask(tasks, e.pid, finishJob);
      return;
    default:
      return;
  }
}

// ── hit-path statistics (shared: every CPU updates them without a lock, like nmissed) ─────

function bump(
  stats: KernelState['stats'],
  names: readonly string[],
  f: (p: ProbeStats) => ProbeStats,
): KernelState['stats'] {
  const out = { ...stats };
  for (const n of names) {
    const p = out[n];
    if (p === undefined) return fail(`unknown probe "${n}"`);
    out[n] = f(p);
  }
  return out;
}

const ZERO_STATS: ProbeStats = { hits: 0, nmissed: 0, handled: 0, skipped: 0, pre_calls: 0, post_calls: 0, ret_calls: 0, fault_misses: 0 };

function evolveStats(d: Draft, e: DomainEvent): void {
  switch (e.type) {
    case 'kprobe.register':
      // R2: a registration that gets past address resolution resets nmissed (and with it the
      // counts it is accounted against, so INV-nmissed holds per registration).
      d.stats = { ...d.stats, [e.probe]: ZERO_STATS };
      return;
    case 'kprobe.hit':
      d.stats = bump(d.stats, e.probes, (p) => ({ ...p, hits: p.hits + 1 }));
      return;
    case 'kprobe.miss':
      // R12: a miss at an aggregated point counts on every child.
      d.stats = bump(d.stats, e.probes, (p) => ({ ...p, hits: p.hits + 1, nmissed: p.nmissed + 1 }));
      return;
    case 'kprobe.redirect':
      // R10/R53: the children after the one that returned non-zero are legitimately skipped.
      d.stats = bump(d.stats, e.skipped, (p) => ({ ...p, skipped: p.skipped + 1 }));
      return;
    case 'kprobe.fault':
      // R58 (before v5.14): a fault in a handler first counts as a miss of the running probe(s).
      d.stats = bump(d.stats, e.probes, (p) => ({ ...p, nmissed: p.nmissed + 1, fault_misses: p.fault_misses + 1 }));
      return;
    case 'handler.enter':
      d.stats = bump(d.stats, [e.probe], (p) =>
        e.phase === 'pre'
          ? { ...p, handled: p.handled + 1, pre_calls: p.pre_calls + 1 }
          : e.phase === 'post'
            ? { ...p, post_calls: p.post_calls + 1 }
            : { ...p, ret_calls: p.ret_calls + 1 },
      );
      return;
    case 'handler.skip':
      if (e.phase !== 'pre') return;
      d.stats = bump(d.stats, [e.probe], (p) => (e.reason === 'disabled' ? { ...p, skipped: p.skipped + 1 } : { ...p, handled: p.handled + 1 }));
      return;
    default:
      return;
  }
}

// ── kretprobe pools (shared: the manager allocates and detaches, CPUs take and give back) ──

/** The kretprobe an instance id ("probe#n") belongs to. */
export function instanceProbe(instance: string): string {
  return instance.slice(0, instance.lastIndexOf('#'));
}

/** Whether an instance came from the pool the kretprobe has now (not a detached earlier one). */
export function instanceOfCurrentPool(pool: KretprobePool, instance: string): boolean {
  return Number(instance.slice(instance.lastIndexOf('#') + 1)) >= pool.first;
}

function setPool(pools: KernelState['kretprobes'], name: string, f: (p: KretprobePool) => KretprobePool) {
  const p = pools[name];
  if (p === undefined) return fail(`kretprobe "${name}" has no instance pool`);
  return { ...pools, [name]: f(p) };
}

function putInstance(pools: KernelState['kretprobes'], instance: string): KernelState['kretprobes'] {
  // A detached pool's instances are freed, not recycled (R69, R80).
  return setPool(pools, instanceProbe(instance), (p) => (p.attached && instanceOfCurrentPool(p, instance) ? { ...p, free: p.free + 1 } : p));
}

function evolvePools(d: Draft, e: DomainEvent): void {
  switch (e.type) {
    case 'kretprobe.pool': {
      // Instance numbers go on across registrations, so an old call's instance is recognised.
      const taken = d.kretprobes[e.probe]?.taken ?? 0;
      d.kretprobes = { ...d.kretprobes, [e.probe]: { maxactive: e.maxactive, free: e.maxactive, nmissed: 0, attached: true, taken, first: taken + 1 } };
      return;
    }
    case 'kretprobe.detach':
      d.kretprobes = setPool(d.kretprobes, e.probe, (p) => ({ ...p, attached: false }));
      return;
    case 'kretprobe.take':
      d.kretprobes = setPool(d.kretprobes, e.probe, (p) => ({ ...p, free: p.free - 1, taken: p.taken + 1 }));
      return;
    case 'kretprobe.miss':
      d.kretprobes = setPool(d.kretprobes, e.probe, (p) => ({ ...p, nmissed: p.nmissed + 1 }));
      return;
    case 'kretprobe.put':
      d.kretprobes = putInstance(d.kretprobes, e.instance);
      return;
    default:
      return;
  }
}

// ── the whole state ────────────────────────────────────────────────────────────────────────

function cpuOf(s: KernelState, e: { cpu: number }): CpuState {
  const c = s.cpus[e.cpu];
  return c ?? fail(`cpu ${e.cpu} does not exist (the run has ${s.cpus.length})`);
}

export function evolve(s: KernelState, e: LoggedEvent): KernelState {
  // log.end is a trailer, not a change: the state it closes is the one its digest fingerprints.
  if (e.type === 'log.end') return s;
  // One fresh object with the state's full shape; slices are replaced, never mutated.
  const d: Draft = {
    seq: e.seq,
    t: e.t,
    cpus: s.cpus,
    tasks: s.tasks,
    next_pid: s.next_pid,
    exited: s.exited,
    sched: s.sched,
    kprobes: s.kprobes,
    stats: s.stats,
    kretprobes: s.kretprobes,
    printk_lines: s.printk_lines,
    bugs: s.bugs,
    halted: s.halted,
  };
  if (e.src === 'sched') {
    d.sched = evolveSched(s.sched, e);
  } else if (e.src === 'kprobes') {
    d.kprobes = evolveKprobes(s.kprobes, e);
  } else if ('cpu' in e) {
    const before = cpuOf(s, e);
    const after = evolveCpu(before, e);
    if (after !== before) {
      const cpus = s.cpus.slice();
      cpus[e.cpu] = after;
      d.cpus = cpus;
    }
  }
  evolveTasks(d, e);
  evolveStats(d, e);
  evolvePools(d, e);
  switch (e.type) {
    case 'printk':
      d.printk_lines += 1;
      break;
    case 'bug.atomic_sleep':
      d.bugs += 1;
      break;
    case 'kprobe.bug':
    case 'kernel.oops':
      d.bugs += 1;
      d.halted = { cpu: e.cpu, message: e.message };
      break;
    default:
      break;
  }
  return d;
}
