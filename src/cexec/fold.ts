import type { DomainEvent, Hex } from '../model/events.ts';
import type { Draft } from '../model/fold/draft.ts';
import { recDelete, recEntries, recGet, recSet } from '../model/fold/record.ts';
import type { Frame } from '../model/state.ts';
import { applyWrite, EMPTY_C, fromInitHex, intBytes, encodeWrite, type CState, type MemObj } from './memory.ts';

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
      if (e.ctx === 'task' && f?.up === null) next = { ...next, rets: { ...next.rets, [e.pid]: e.value } };
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
    case 'c.api':
      d.c = {
        ...c,
        calls: {
          ...c.calls,
          [e.pid]: { fn: e.fn, probe: e.probe, symbol: e.symbol, offset: e.offset, addr: e.addr, disabled: e.disabled, at: e.at, addr_off: e.addr_off, maxactive: e.maxactive },
        },
      };
      return;
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

function endCall(d: Draft, pid: number): void {
  const c = d.c;
  if (c === undefined || c.calls[pid] === undefined) return;
  const { [pid]: _gone, ...calls } = c.calls;
  d.c = { ...c, calls };
}
