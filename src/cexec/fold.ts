import type { DomainEvent, Hex } from '../model/events.ts';
import type { Draft } from '../model/fold/draft.ts';
import { recDelete, recEntries, recGet, recSet } from '../model/fold/record.ts';
import type { Frame } from '../model/state.ts';
import { applyWrite, bytesInt, EMPTY_C, findObject, fromInitHex, intBytes, encodeWrite, type CState, type MemObj, type ProbeStruct } from './memory.ts';
import { toHex } from '../model/hex.ts';

// The fold of C execution (src/model/evolve.ts calls these): it applies what the events say was
// done, the writes, the new and freed objects, a frame's pc and memo, a call's result handed to
// the frame that waits for it. It never runs C.

/** The innermost frame with what `e` did to it (ctx and pid already matched by the caller). */
export function cFrameEffect(f: Frame | null, e: DomainEvent): Frame | null {
  if (f === null) return f;
  switch (e.type) {
    case 'c.frame': {
      const { cm: _m, cw: _w, ...rest } = f;
      return { ...rest, cl: e.base };
    }
    case 'c.step': {
      const { cm, cw: _w, ...rest } = f;
      if (e.next !== null) return { ...rest, pc: e.next };
      const memo = e.r.length === 0 ? cm : [...(cm ?? []), ...e.r];
      return { ...rest, ...(memo !== undefined && memo.length > 0 ? { cm: memo } : {}), ...(e.wait ? { cw: true as const } : {}) };
    }
    case 'c.ret':
      // The caller, if C, is waiting on this call: the value is the call's.
      return f.up !== null && f.up.cl !== undefined ? { ...f, up: withResult(f.up, e.value) } : f;
    default:
      return f;
  }
}

/** A C frame that called out gets the call's value (the next value of its instruction). */
export function withResult(f: Frame, value: string): Frame {
  const { cw: _w, ...rest } = f;
  return { ...rest, cm: [...(f.cm ?? []), value] };
}

/** After a kernel function returned into a C frame that waits for it: the return value is the call's. */
export function afterReturn(f: Frame | null, ret: number): Frame | null {
  return f !== null && f.cw ? withResult(f, String(ret)) : f;
}

/** The value a C kprobes call gets when the manager's call ends, if `e` ends one. */
export function apiResult(d: Draft, e: DomainEvent): string | undefined {
  if (!('pid' in e)) return undefined;
  const call = d.c?.calls[e.pid];
  if (call === undefined) return undefined;
  switch (e.type) {
    case 'kprobe.registered':
      return call.fn.startsWith('register') ? '0' : undefined;
    case 'kprobe.register.fail':
      return String(e.errno);
    case 'kprobe.unregistered':
      return call.fn.startsWith('unregister') ? '0' : undefined;
    case 'kprobe.returned':
      return String(e.ret);
    default:
      return undefined;
  }
}

function innermostCl(d: Draft, e: { cpu: number; pid: number; ctx: 'task' | 'handler' }): Hex | undefined {
  if (e.ctx === 'handler') return d.cpus[e.cpu]?.handler?.frames?.cl;
  return d.tasks.find((t) => t.pid === e.pid)?.frames?.cl;
}

function setObj(c: CState, addr: Hex, obj: MemObj): CState {
  return { ...c, mem: recSet(c.mem, addr, obj) };
}

/** The C slice: memory, pending kprobes calls, init results. Runs after the task and CPU slices. */
export function evolveC(d: Draft, e: DomainEvent): void {
  const c = d.c ?? EMPTY_C;
  switch (e.type) {
    case 'c.frame':
      d.c = setObj(c, e.base, { size: e.size, b: fromInitHex(e.init, e.size), k: 'stack' });
      return;
    case 'c.step': {
      if (e.w.length === 0) return;
      let mem = c.mem;
      for (const w of e.w) mem = applyWrite(mem, w);
      d.c = { ...c, mem };
      return;
    }
    case 'c.ret': {
      // The frame's locals go with it (the frame itself is popped by the func.ret that follows).
      const cl = innermostCl(d, e);
      let next = c;
      if (cl !== undefined && recGet(c.mem, cl) !== undefined) next = { ...next, mem: recDelete(c.mem, cl) };
      const f = e.ctx === 'task' ? d.tasks.find((t) => t.pid === e.pid)?.frames : d.cpus[e.cpu]?.handler?.frames;
      // The task's last return value: its outermost call's once that returns (module_live and
      // KUnit look at it), a kretprobed function's while its return handlers run (R76).
      if (e.ctx === 'task' && f !== undefined && f !== null) next = { ...next, rets: { ...next.rets, [e.pid]: e.value } };
      d.c = next;
      return;
    }
    case 'mem.alloc':
      d.c = { ...setObj(c, e.addr, { size: e.size, b: fromInitHex(e.init, e.size), k: e.kind, ...(e.kind === 'data' || e.kind === 'rodata' ? { m: e.site } : {}), ...(e.site !== '' ? { at: e.site } : {}) }), heap: e.kind === 'heap' ? c.heap + Math.ceil(e.size / 64) * 64 + 64 : c.heap };
      return;
    case 'mem.free': {
      const obj = recGet(c.mem, e.addr);
      if (obj === undefined) throw new Error(`internal: kfree of ${e.addr}, which is no object`);
      d.c = setObj(c, e.addr, { ...obj, free: true, fr: e.site });
      return;
    }
    case 'c.api': {
      const at = BigInt(e.at);
      const struct: ProbeStruct = {
        flags: toHex(at + BigInt(e.flags_off)),
        nmissed: toHex(at + BigInt(e.nmissed_off)),
        ...(e.rp_nmissed_off >= 0 ? { rp_nmissed: toHex(at + BigInt(e.rp_nmissed_off)) } : {}),
      };
      d.c = {
        ...c,
        calls: {
          ...c.calls,
          [e.pid]: { fn: e.fn, probe: e.probe, symbol: e.symbol, offset: e.offset, addr: e.addr, disabled: e.disabled, at: e.at, addr_off: e.addr_off, maxactive: e.maxactive },
        },
        structs: { ...c.structs, [e.probe]: struct },
      };
      return;
    }
    case 'kprobe.registered':
    case 'kprobe.addr': {
      // register_kprobe() writes the resolved address into the caller's struct (R22).
      const call = c.calls[e.pid];
      if (call === undefined || !call.fn.startsWith('register')) break;
      const w = encodeWrite(BigInt(call.at) + BigInt(call.addr_off), intBytes(BigInt(e.addr), 8));
      d.c = { ...c, mem: applyWrite(c.mem, w) };
      if (e.type === 'kprobe.registered') endCall(d, e.pid);
      return;
    }
    case 'kprobe.register.fail':
    case 'kprobe.unregistered':
    case 'kprobe.returned':
      endCall(d, e.pid);
      if (e.type === 'kprobe.returned') syncFlags(d, e.probe);
      return;
    case 'kprobe.register':
      // R2: a registration past address resolution resets p->nmissed.
      writeCounter(d, d.c?.structs?.[e.probe]?.nmissed, 0, 8);
      return;
    case 'kprobe.insert':
    case 'kprobe.disable':
      // R2, R29: p->flags' DISABLED as registration leaves it; unregistration's __disable_kprobe() sets it.
      syncFlags(d, e.probe);
      return;
    case 'kprobe.miss':
    case 'kprobe.ftrace.miss':
    case 'kprobe.opt.miss':
    case 'kprobe.fault':
      // R12: kprobes_inc_nmissed_count() on every child's struct (the fold's count is the kernel's).
      for (const probe of e.probes) writeCounter(d, d.c?.structs?.[probe]?.nmissed, recGet(d.stats, probe)?.nmissed ?? 0, 8);
      return;
    case 'kretprobe.pool':
    case 'kretprobe.miss':
      // R72: register_kretprobe() zeroes rp->nmissed; R73: an entry hit without an instance counts there.
      writeCounter(d, d.c?.structs?.[e.probe]?.rp_nmissed, recGet(d.kretprobes, e.probe)?.nmissed ?? 0, 4);
      return;
    case 'module.gone': {
      // The module's memory is freed with it: a later access faults.
      let mem = c.mem;
      for (const [k, obj] of recEntries(mem)) if (obj.m === e.module) mem = recDelete(mem, k);
      if (mem !== c.mem) d.c = { ...c, mem };
      return;
    }
    case 'task.fork':
      d.c = { ...c, kids: { ...c.kids, [e.pid]: [...(c.kids[e.pid] ?? []), e.child] } };
      return;
    case 'task.exit': {
      const { [e.pid]: _r, ...rets } = c.rets;
      const { [e.pid]: _c, ...calls } = c.calls;
      const { [e.pid]: _k, ...rest } = c.kids;
      const kids: Record<number, readonly number[]> = { ...rest };
      for (const [p, list] of Object.entries(rest)) if (list.includes(e.pid)) kids[Number(p)] = list.filter((x) => x !== e.pid);
      d.c = { ...c, rets, calls, kids };
      return;
    }
    default:
      return;
  }
}

/**
 * kunit_try_catch_throw() (`kunit.throw`): the test thread's call ends where it stands. Every frame
 * of the task goes (the call is the task's operation), their C locals with them, and kretprobe
 * instances hooked on them go back to their pools without a handler call, as at a task's exit (R78).
 */
export function throwCall(d: Draft, pid: number, putBack: (inst: string) => void): void {
  const t = d.tasks.find((x) => x.pid === pid);
  if (t === undefined) return;
  let mem = d.c?.mem;
  for (let f = t.frames; f !== null; f = f.up) {
    for (const inst of f.rp ?? []) putBack(inst);
    if (f.cl !== undefined && mem !== undefined && recGet(mem, f.cl) !== undefined) mem = recDelete(mem, f.cl);
  }
  if (d.c !== undefined && mem !== undefined && mem !== d.c.mem) d.c = { ...d.c, mem };
  d.tasks = d.tasks.map((x) => (x.pid === pid ? { ...x, frames: null, job: x.job + 1 } : x));
}

/** The kernel's write of a counter into a C probe's struct (nothing when the struct's memory is gone). */
function writeCounter(d: Draft, at: Hex | undefined, value: number, size: number): void {
  const c = d.c;
  if (c === undefined || at === undefined) return;
  const f = findObject(c.mem, BigInt(at));
  if (f === undefined || f.obj.free) return;
  d.c = { ...c, mem: applyWrite(c.mem, encodeWrite(BigInt(at), intBytes(BigInt(value), size))) };
}

/** p->flags' DISABLED bit as the kprobe manager has it now (R1: 0x2), the other bits as they are. */
function syncFlags(d: Draft, probe: string): void {
  const c = d.c;
  const at = c?.structs?.[probe]?.flags;
  const reg = recGet(d.kprobes.probes, probe);
  if (c === undefined || at === undefined || reg === undefined) return;
  const f = findObject(c.mem, BigInt(at));
  if (f === undefined || f.obj.free) return;
  const off = Number(BigInt(at) - f.base);
  const old = Number(bytesInt(f.obj.b.slice(off, off + 4), false));
  writeCounter(d, at, reg.disabled ? old | 2 : old & ~2, 4);
}

function endCall(d: Draft, pid: number): void {
  const c = d.c;
  if (c === undefined || c.calls[pid] === undefined) return;
  const { [pid]: _gone, ...calls } = c.calls;
  d.c = { ...c, calls };
}
