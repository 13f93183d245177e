import type { Expr } from '../c/program.ts';
import { sizeOf, unqual } from '../c/types.ts';
import { atLeast, DEFAULT_KERNEL, kretprobeTrampolineChain, type FunctionSymbol } from '../kernel/index.ts';
import type { DomainEvent, Hex } from '../model/events.ts';
import { toHex } from '../model/hex.ts';
import { findTask } from '../model/queries.ts';
import { functionOf, type Setup } from '../model/setup.ts';
import type { Frame, KernelState } from '../model/state.ts';
import { stackTop } from '../kprobes/regs.ts';
import { dumpStackLines } from '../kprobes/stack.ts';
import type { Ctx, Here } from '../kprobes/here.ts';
import type { CSetup } from './csetup.ts';
import { Blocked, decodeVal, encodeVal, Fault, Interp, Trap, Yield, type EvalHost, type Val } from './eval.ts';
import type { CFunc, LoadedModule } from './load.ts';
import { bytesInt, EMPTY_C, initHex, intBytes } from './memory.ts';
import { nativeOf, type NativeCtx } from './natives.ts';
import { isNative } from './natives-list.ts';
import { StepMemory, type MemFault } from './step-memory.ts';
import { splitLevel, vsprintf, type FormatArg } from './vsprintf.ts';
import { userMemory } from './user-memory.ts';
import { KunitThrow, kunitCheck, kunitInitTest } from './kunit.ts';

// One CPU step of C code (the hook of src/kprobes/cpu-step.ts: a module function's instruction,
// in a task or in a handler): the interpreter (./eval.ts) runs the frame's current instruction up
// to its next interleaving point, and the step becomes events: `c.frame` (a frame's locals, at
// its first step or with the call that makes it), `c.step` (the writes made, and either the next
// pc or the values read so far), `c.ret` (a return value), and what the kernel functions it
// called did (printk, mem.alloc, c.api, ...). The fold applies those; it never runs C.

/** Where a task's stack has room for C frames, a handler's pt_regs and a handler's frames. */
const TASK_FRAMES = 0x100n;
const REGS_AT = 0x2000n;
const HANDLER_FRAMES = 0x2000n;
/** Virtual kernel objects: a task_struct per pid, and the kernel's own extern variables. */
export const TASK_AREA = 0xffff888040000000n;
const TASK_STRIDE = 0x2000n;
export const EXTERN_AREA = 0xffff888030000000n;
/** kmalloc's area and the kretprobe instances'. */
export const HEAP_AREA = 0xffff888100000000n;
export const RI_AREA = 0xffff888180000000n;

export function cSetup(setup: Setup): CSetup {
  const c = setup.c;
  if (c === undefined) throw new Error('internal: C code in a run without C modules');
  return c;
}

export function isCFunction(setup: Setup, name: string): boolean {
  return setup.c?.functions.has(name) ?? false;
}

const alignUp = (n: bigint, a: bigint): bigint => ((n + a - 1n) / a) * a;

/** The innermost frame (with a locals block) of a chain below `f`, if any. */
function nearestBlock(f: Frame | null): bigint | undefined {
  for (let x = f; x !== null; x = x.up) if (x.cl !== undefined) return BigInt(x.cl);
  return undefined;
}

/** Where a new frame of `size` bytes goes, below the frames of `below` (the chain it is called on). */
function frameBase(setup: Setup, pid: number, ctx: Ctx, below: Frame | null, size: number): bigint {
  const at = nearestBlock(below);
  const sz = alignUp(BigInt(size), 16n);
  if (at !== undefined) return at - sz - 0x10n;
  const top = stackTop(setup.symbols.image.arch, pid);
  return top - (ctx === 'task' ? TASK_FRAMES : HANDLER_FRAMES) - sz - 0x200n;
}

/** A frame's locals with its arguments in its parameters' slots. */
function frameInit(cf: CFunc, args: readonly Val[]): number[] {
  const b = new Array<number>(cf.frameSize).fill(0);
  cf.func.params.forEach((p, i) => {
    const v = args[i];
    if (v === undefined) return;
    const bytes = typeof v === 'bigint' ? intBytes(v, sizeOf(p.type) ?? 8) : Array.from(v);
    const off = cf.slots[p.slot] ?? 0;
    bytes.forEach((x, k) => (b[off + k] = x));
  });
  return b;
}

/** Values a C function returns, as the 'int' of func.ret (a full 64-bit value goes in c.ret). */
function safeRet(v: bigint): number {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number(BigInt.asIntN(32, v));
}

function moduleOfFn(cs: CSetup, cf: CFunc): LoadedModule {
  return cs.byName.get(cf.module)!;
}

// ── virtual kernel memory ───────────────────────────────────────────────────────────────────

function virtualMemory(setup: Setup, w: KernelState, mod: LoadedModule | undefined): (addr: bigint, size: number) => number[] | undefined {
  return (addr, size) => {
    if (addr >= TASK_AREA && addr < TASK_AREA + 0x10000000n) {
      const pid = Number((addr - TASK_AREA) / TASK_STRIDE);
      const base = TASK_AREA + BigInt(pid) * TASK_STRIDE;
      const task = findTask(w, pid);
      const def = mod?.structs.get('task_struct');
      if (def === undefined) return new Array<number>(size).fill(0);
      const b = new Array<number>(def.size).fill(0);
      const put = (field: string, bytes: number[]) => {
        const f = def.members?.find((m) => m.name === field);
        if (f !== undefined) bytes.slice(0, sizeOf(f.type) ?? bytes.length).forEach((x, i) => (b[f.offset + i] = x));
      };
      put('pid', intBytes(BigInt(pid), 4));
      put('tgid', intBytes(BigInt(pid), 4));
      put('prio', intBytes(120n, 4));
      put('on_cpu', intBytes(task?.cpu !== null && task?.cpu !== undefined ? 1n : 0n, 4));
      const comm = [...new TextEncoder().encode(task?.comm ?? 'swapper')].slice(0, 15);
      put('comm', [...comm, ...new Array<number>(16 - comm.length).fill(0)]);
      const off = Number(addr - base);
      if (off + size > b.length) return undefined;
      return b.slice(off, off + size);
    }
    if (addr >= EXTERN_AREA && addr < EXTERN_AREA + 0x100000n) {
      const i = Number((addr - EXTERN_AREA) / 0x100n);
      const g = externs(mod)[i];
      // jiffies: logical time at HZ=250 (a tick is a microsecond: 4000 ticks a jiffy).
      if (g === 'jiffies') return intBytes(BigInt(4294937296 + Math.floor(w.t / 4000)), 8).slice(Number(addr % 0x100n), Number(addr % 0x100n) + size);
      return new Array<number>(size).fill(0);
    }
    // Kernel text reads as zero bytes in the model (its instructions are not encoded).
    if (setup.symbols.containing(addr)?.kind === 'func') return new Array<number>(size).fill(0);
    return undefined;
  };
}

function externs(mod: LoadedModule | undefined): string[] {
  return (mod?.program.globals ?? []).filter((g) => g.extern).map((g) => g.name);
}

// ── the step ────────────────────────────────────────────────────────────────────────────────

interface StepIn {
  readonly h: Here;
  readonly ctx: Ctx;
  readonly frames: Frame;
  readonly fn: FunctionSymbol;
  readonly index: number;
  readonly ip: Hex;
}

/** splitmix64 over the run's seed, the event count and the CPU: get_random_u32() and friends. */
function randomOf(seed: number, seq: number, cpu: number, n: number): bigint {
  let z = BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + BigInt(seq) * 0xbf58476d1ce4e5b9n + BigInt(cpu * 1000 + n));
  z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
  z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
  return z ^ (z >> 31n);
}

/** The events of one step of a C function's instruction `index` (the CPU hook). */
export function cPerform(h: Here, ctx: Ctx, frames: Frame, fn: FunctionSymbol, index: number, ip: Hex): DomainEvent[] {
  const { setup, w, c } = h;
  const cs = cSetup(setup);
  const cf = cs.functions.get(fn.name)!;
  const mod = moduleOfFn(cs, cf);
  const entry = fn.body.length - cf.func.code.length;
  const pid = h.pid;
  const cstate = w.c ?? EMPTY_C;
  const mem = new StepMemory(cstate.mem, virtualMemory(setup, w, mod));
  const pre: DomainEvent[] = [];
  const post: DomainEvent[] = [];
  let base: bigint;
  let fresh = false;
  if (frames.cl === undefined) {
    base = frameBase(setup, pid, ctx, frames.up, cf.frameSize);
    mem.create(base, 'stack', new Array<number>(cf.frameSize).fill(0));
    fresh = true;
  } else base = BigInt(frames.cl);
  const withFrame = (list: DomainEvent[]): DomainEvent[] =>
    fresh ? [{ type: 'c.frame', cpu: c.id, pid, ctx, base: toHex(base), size: cf.frameSize, init: initHex(mem.createdBytes(base)) }, ...list] : list;
  // The function's entry before its C code (ENDBR64, the fentry site): ordinary instructions.
  if (index < entry) return withFrame([{ type: 'c.step', cpu: c.id, pid, ctx, next: index + 1, r: [], w: [], acc: [], wait: false }]);
  const it = new Interp(hostOf(h, ctx, cs, mod, mem, post, BigInt(ip)), base, cf.slots, frames.cm ?? []);
  it.slotSizes = cf.func.locals.map((l) => l.size);
  let out: DomainEvent[];
  try {
    const r = it.run(cf.func.code, index - entry);
    if ('next' in r) out = [{ type: 'c.step', cpu: c.id, pid, ctx, next: entry + r.next, r: [], w: mem.writes, acc: mem.accesses, wait: false }, ...post];
    else out = [...(mem.writes.length > 0 || mem.accesses.length > 0 ? [{ type: 'c.step', cpu: c.id, pid, ctx, next: null, r: it.reads, w: mem.writes, acc: mem.accesses, wait: false } as DomainEvent] : []), ...post, ...returnEvents(h, ctx, frames, fn, cf, r.ret, ip)];
  } catch (x) {
    if (x instanceof Yield) {
      out = [{ type: 'c.step', cpu: c.id, pid, ctx, next: null, r: it.reads, w: mem.writes, acc: mem.accesses, wait: x.wait }, ...post, ...callEvents(h, ctx, cs, frames, base, it)];
    } else if (x instanceof Blocked) {
      out = post;
    } else if (x instanceof KunitThrow) {
      // The call ends here (kunit.throw in `post` drops its frames); what the step wrote stays.
      out = [...(mem.writes.length > 0 || mem.accesses.length > 0 ? [{ type: 'c.step', cpu: c.id, pid, ctx, next: null, r: [], w: mem.writes, acc: mem.accesses, wait: false } as DomainEvent] : []), ...post];
    } else if (x instanceof Fault) {
      out = [...post, ...faultEvents(h, x.fault, ip)];
    } else if (x instanceof Trap) {
      out = [...post, ...trapEvents(h, x, ip)];
    } else throw x;
  }
  return withFrame(out);
}

/** The call a step ends with: the callee's frame (with its arguments) for a module function. */
function callEvents(h: Here, ctx: Ctx, cs: CSetup, frames: Frame, base: bigint, it: Interp): DomainEvent[] {
  const call = it.callOut;
  if (call === null) return [];
  const { c, pid } = h;
  const ev: DomainEvent = { type: 'func.call', cpu: c.id, pid, ip: null, fn: call.fn, ctx };
  if (call.k === 'kernel') return [ev];
  const cf = cs.functions.get(call.fn)!;
  const at = frameBase(h.setup, pid, ctx, { ...frames, cl: toHex(base) }, cf.frameSize);
  return [ev, { type: 'c.frame', cpu: c.id, pid, ctx, base: toHex(at), size: cf.frameSize, init: initHex(frameInit(cf, call.args)) }];
}

/**
 * A task's program calls a module function with arguments (a `call` operation's `args`, as KUnit
 * calls a case with its struct kunit): the call and the callee's frame, its parameters set.
 */
export function cTaskCall(h: Here, fn: string, args: readonly string[]): DomainEvent[] {
  const { c, pid, setup } = h;
  const cf = cSetup(setup).functions.get(fn);
  const call: DomainEvent = { type: 'func.call', cpu: c.id, pid, ip: null, fn, ctx: 'task' };
  if (cf === undefined) return [call];
  const at = frameBase(setup, pid, 'task', h.task?.frames ?? null, cf.frameSize);
  return [call, { type: 'c.frame', cpu: c.id, pid, ctx: 'task', base: toHex(at), size: cf.frameSize, init: initHex(frameInit(cf, args.map((a) => BigInt(a)))) }];
}

/** KUnit's kunit_init_test() for a task's `kunit_test` operation (./kunit.ts). */
export function cKunitInit(h: Here, name: string): DomainEvent[] {
  return kunitInitTest(h, HEAP_AREA, name);
}

/** A C function returns: its value to the caller, its frame popped (or the kretprobe trampoline). */
function returnEvents(h: Here, ctx: Ctx, frames: Frame, fn: FunctionSymbol, cf: CFunc, value: Val, ip: Hex): DomainEvent[] {
  const { c, pid } = h;
  const ret = unqual(cf.func.type.ret).kind === 'void' ? 0n : typeof value === 'bigint' ? value : 0n;
  const out: DomainEvent[] = [{ type: 'c.ret', cpu: c.id, pid, ctx, value: encodeVal(typeof value === 'bigint' ? ret : value) }];
  // R75: a kretprobed frame returns into the trampoline, newest instance first.
  if (frames.rp !== undefined && frames.rp.length > 0) {
    out.push({ type: 'kretprobe.trampoline', cpu: c.id, pid, fn: fn.name, ret: safeRet(ret), instances: [...frames.rp].reverse() });
    return out;
  }
  out.push({ type: 'func.ret', cpu: c.id, pid, ip, fn: fn.name, ret: safeRet(ret), ctx });
  if (ctx === 'handler' && frames.up === null) out.push(...handlerReturnedHook!(h, BigInt.asIntN(32, ret)));
  return out;
}

/** cpu-step's handler return logic (R46, R73), given at start-up to avoid an import cycle. */
let handlerReturnedHook: ((h: Here, value: bigint) => DomainEvent[]) | null = null;
export function setHandlerReturned(f: (h: Here, value: bigint) => DomainEvent[]): void {
  handlerReturnedHook = f;
}

// ── faults ──────────────────────────────────────────────────────────────────────────────────

function where(h: Here, ip: Hex): string {
  const fn = h.setup.symbols.containing(BigInt(ip));
  const f = h.setup.symbols.format(BigInt(ip)) ?? ip;
  return fn?.kind === 'func' && fn.module !== undefined ? `${f} [${fn.module}]` : f;
}

function oopsHeader(h: Here): string[] {
  return [`CPU: ${h.c.id} PID: ${h.pid} Comm: ${h.task?.comm ?? 'swapper'} Tainted: G           O       ${releaseOf(h)} #1`];
}

function releaseOf(h: Here): string {
  const k = h.setup.scenario.kernel ?? DEFAULT_KERNEL;
  return k === '6.17' ? '6.17.0-rc3' : `${k}.0`;
}

function faultEvents(h: Here, f: MemFault, ip: Hex): DomainEvent[] {
  const { c, pid } = h;
  const p = (text: string): DomainEvent => ({ type: 'printk', cpu: c.id, pid, text });
  const addr = f.addr.toString(16).padStart(16, '0');
  const access = f.write ? 'write' : 'read';
  if (f.kind === 'freed' && f.obj !== undefined) {
    const heap = f.obj.obj.k === 'heap';
    const lines = [
      '==================================================================',
      `BUG: KASAN: ${heap ? 'slab-use-after-free' : 'use-after-free'} in ${where(h, ip)}`,
      `${f.write ? 'Write' : 'Read'} of size ${f.size} at addr ${f.addr.toString(16)} by task ${h.task?.comm ?? 'swapper'}/${pid}`,
      '',
      ...oopsHeader(h),
      ...dumpStackLines(h.setup, h.w, c, h.task).slice(1),
      '',
      `${heap ? 'Allocated' : 'Loaded'} by task ${f.obj.obj.m ?? '?'}:`,
      ...(f.obj.obj.at !== undefined ? [` ${f.obj.obj.at}`] : []),
      '',
      `Freed by task ${f.obj.obj.m ?? '?'}:`,
      ...(f.obj.obj.fr !== undefined ? [` ${f.obj.obj.fr}`] : []),
      '',
      `The buggy address belongs to the object at ${f.obj.base.toString(16)}`,
      ` which belongs to the cache kmalloc-${Math.max(8, 2 ** Math.ceil(Math.log2(Math.max(f.obj.obj.size, 1))))} of size ${f.obj.obj.size}`,
      '==================================================================',
    ];
    return [...lines.map(p), { type: 'kernel.oops', cpu: c.id, pid, addr: ip, message: `KASAN: use-after-free ${access} of ${toHex(f.addr)} in ${where(h, ip)}` }];
  }
  const first = f.kind === 'null' ? `BUG: kernel NULL pointer dereference, address: ${addr}` : `BUG: unable to handle page fault for address: ${addr}`;
  return [
    p(first),
    p(`#PF: supervisor ${access} access in kernel mode`),
    p(`#PF: error_code(0x000${f.write ? 2 : 0}) - ${f.kind === 'ro' ? 'permissions violation' : 'not-present page'}`),
    p(`Oops: 000${f.write ? 2 : 0} [#1] PREEMPT SMP NOPTI`),
    ...oopsHeader(h).map(p),
    p(`RIP: 0010:${where(h, ip)}`),
    { type: 'kernel.oops', cpu: c.id, pid, addr: ip, message: `${first.replace(/^BUG: /, '')} in ${where(h, ip)}` },
  ];
}

function trapEvents(h: Here, t: Trap, ip: Hex): DomainEvent[] {
  const { c, pid } = h;
  const p = (text: string): DomainEvent => ({ type: 'printk', cpu: c.id, pid, text });
  switch (t.kind) {
    case 'divide':
      return [p('divide error: 0000 [#1] PREEMPT SMP NOPTI'), ...oopsHeader(h).map(p), p(`RIP: 0010:${where(h, ip)}`), { type: 'kernel.oops', cpu: c.id, pid, addr: ip, message: `divide error in ${where(h, ip)}` }];
    case 'null_call':
      return [
        p('BUG: kernel NULL pointer dereference, address: 0000000000000000'),
        p('#PF: supervisor instruction fetch in kernel mode'),
        p('Oops: 0010 [#1] PREEMPT SMP NOPTI'),
        ...oopsHeader(h).map(p),
        p('RIP: 0010:0x0'),
        { type: 'kernel.oops', cpu: c.id, pid, addr: ip, message: `${t.message} in ${where(h, ip)}` },
      ];
    case 'bug':
      return [p('invalid opcode: 0000 [#1] PREEMPT SMP NOPTI'), ...oopsHeader(h).map(p), p(`RIP: 0010:${where(h, ip)}`), { type: 'kernel.oops', cpu: c.id, pid, addr: ip, message: t.message }];
    case 'unsupported':
      return [{ type: 'kernel.oops', cpu: c.id, pid, addr: ip, message: `not supported by the model: ${t.message} (in ${where(h, ip)})` }];
  }
}

// ── the host: what the interpreter asks of the kernel ───────────────────────────────────────

function hostOf(h: Here, ctx: Ctx, cs: CSetup, mod: LoadedModule, mem: StepMemory, post: DomainEvent[], ip: bigint): EvalHost {
  const { setup, w, c, pid } = h;
  const kernel = setup.scenario.kernel ?? DEFAULT_KERNEL;
  const ext = externs(mod);
  let randoms = 0;
  const readString = (addr: bigint, max: number): string | undefined => {
    const out: number[] = [];
    for (let i = 0; i < max; i++) {
      const r = mem.read(addr + BigInt(i), 1);
      if (!r.ok) return undefined;
      if (r.bytes[0] === 0) break;
      out.push(r.bytes[0]!);
    }
    return new TextDecoder().decode(Uint8Array.from(out));
  };
  const format = (fmt: string, args: readonly FormatArg[]): string => vsprintf(fmt, args, { kernel, ptrKey: setup.ptrKey, symbols: setup.symbols, readString });
  const n: NativeCtx = {
    cpu: c.id,
    pid,
    comm: h.task?.comm ?? 'swapper',
    ctx,
    kernel,
    mem,
    post,
    now: w.t,
    cpus: w.cpus.length,
    preemptCount: c.preempt_count,
    ip,
    fault: (f) => {
      throw new Fault(f, null as never);
    },
    trap: (kind, message) => {
      throw new Trap(kind, message);
    },
    format,
    readString,
    printk: (text) => {
      // One log record per line; the level prefix is the record's, not its text.
      const { text: body } = splitLevel(text);
      const lines = body.endsWith('\n') ? body.slice(0, -1).split('\n') : body.split('\n');
      for (const line of lines) post.push({ type: 'printk', cpu: c.id, pid, text: line });
      // The printk function runs (a probe on it fires), on top of the caller's frame.
      if (!post.some((e) => e.type === 'func.call')) post.push({ type: 'func.call', cpu: c.id, pid, ip: null, fn: setup.printk, ctx });
    },
    stackLines: () => dumpStackLines(setup, w, c, h.task),
    stackEntries: () => stackEntries(h, ctx, ip),
    regsEntries: (regs) => {
      const def = mod.structs.get('pt_regs');
      const name = setup.symbols.image.arch === 'x86_64' ? 'ip' : 'pc';
      const off = def === undefined ? undefined : regFields(def, setup.symbols.image.arch).find(([n]) => n === name)?.[1];
      const r = off === undefined ? undefined : mem.read(regs + BigInt(off), 8);
      return regsEntries(h, ctx, r?.ok ? bytesInt(r.bytes, false) : 0n);
    },
    userRead: (addr, size) => userMemory(setup, w, h.task)(addr, size),
    probeAt: (addr) => cs.probeByAddr.get(toHex(addr)),
    heapAlloc: (size) => {
      const cstate = w.c ?? EMPTY_C;
      const at = HEAP_AREA + BigInt(cstate.heap);
      return at;
    },
    random: () => randomOf(setup.seed, w.seq, c.id, randoms++),
    currentTask: () => TASK_AREA + BigInt(pid) * TASK_STRIDE,
    sleepAllowed: ctx === 'task' && c.preempt_count === 0,
  };
  return {
    mem,
    globalAddr: (name) => {
      const g = mod.globals.get(name);
      if (g !== undefined) return g.addr;
      const i = ext.indexOf(name);
      if (i >= 0) return setup.symbols.lookup(name)?.kind === 'data' && name !== 'jiffies' ? setup.symbols.lookup(name)!.addr : EXTERN_AREA + BigInt(i) * 0x100n;
      throw new Trap('unsupported', `global ${name}`);
    },
    stringAddr: (id) => mod.strings.get(id) ?? 0n,
    funcAddr: (name) => setup.symbols.lookup(name)?.addr ?? 0n,
    funcAt: (addr) => {
      const s = setup.symbols.containing(addr);
      return s?.kind === 'func' && s.addr === addr ? s.name : undefined;
    },
    isCFunction: (name) => cs.functions.has(name),
    isNative: (name) => isNative(name) && !cs.functions.has(name),
    native: (name, args, types, e, clean) => {
      const f = nativeOf(name);
      if (f === undefined) throw new Trap('unsupported', `${name}()`);
      return f(n, args, types, e, clean);
    },
    builtin: (e: Extract<Expr, { k: 'builtin' }>, args: readonly Val[]) => builtin(h, ctx, e, args, ip),
    kunit: (e, it) => kunitCheck({ cpu: c.id, pid, ctx, post, readString, format }, e, it),
  };
}

function builtin(h: Here, ctx: Ctx, e: Extract<Expr, { k: 'builtin' }>, args: readonly Val[], ip: bigint): bigint {
  switch (e.name) {
    case '__builtin_expect': {
      const v = args[0];
      return typeof v === 'bigint' ? v : 0n;
    }
    case '__builtin_return_address':
      // The return slot as it is: the trampoline inside a kretprobed function (R79).
      return stackEntries(h, ctx, ip, true)[Number(args[0] ?? 0n) + 1] ?? 0n;
    case '__builtin_frame_address':
      return BigInt((ctx === 'task' ? h.task?.frames?.cl : h.c.handler?.frames?.cl) ?? '0x0');
    case '__builtin_unreachable':
    case '__builtin_trap':
      throw new Trap('bug', `${e.name}() reached`);
    default:
      throw new Trap('unsupported', `${e.name}`);
  }
}

/** The address a kretprobed frame's return slot holds (R73): the trampoline's entry. */
function trampolineAddr(setup: Setup): bigint | undefined {
  return (setup.symbols.lookup('kretprobe_trampoline') ?? setup.symbols.lookup('arch_rethook_trampoline'))?.addr;
}

/**
 * The return address of each frame of the chain from `f` outwards, innermost first (the first
 * frame's own left out when `skipFirst`): where each frame goes on. A C frame stands on its
 * calling instruction; a kernel frame has moved past its call. A frame whose callee is hooked by
 * a kretprobe has the trampoline in that slot (R73): `__builtin_return_address` reads it as it is,
 * an unwinder since v5.16 (CONFIG_ARCH_CORRECT_STACKTRACE_ON_KRETPROBE) puts back the real address
 * from the task's instances (R79), older ones show the trampoline.
 */
function returnSlots(setup: Setup, f: Frame | null, skipFirst: boolean, resolve: boolean): bigint[] {
  const out: bigint[] = [];
  const tramp = resolve ? undefined : trampolineAddr(setup);
  let below: Frame | null = null;
  for (let x = f; x !== null; below = x, x = x.up) {
    if (x === f && skipFirst) continue;
    if (tramp !== undefined && (below?.rp?.length ?? 0) > 0) {
      out.push(tramp);
      continue;
    }
    const fn = functionOf(setup, x.fn);
    const i = x.cl !== undefined ? x.pc : Math.max(0, x.pc - 1);
    const insn = fn.body[Math.min(i, fn.body.length - 1)]!;
    out.push(fn.addr + BigInt(insn.off + insn.len));
  }
  return out;
}

/** Whether the release's unwinders put the real return address back for a kretprobed frame (R79). */
function unwinderResolves(setup: Setup): boolean {
  return atLeast(setup.scenario.kernel ?? DEFAULT_KERNEL, '5.16');
}

/**
 * Return addresses of the running stack, innermost first, starting with the running
 * instruction's own end (the return address of a call it makes), as the unwinder reports them
 * (`raw`: as the return slots hold them, what `__builtin_return_address` reads). A return
 * handler runs on the trampoline's frames over the caller of the function that returned (R75).
 */
export function stackEntries(h: Here, ctx: Ctx, ip: bigint, raw = false): bigint[] {
  const { setup, c, task } = h;
  const out: bigint[] = [];
  const at = setup.symbols.insnAt(ip);
  out.push(at === undefined ? ip : ip + BigInt(at.insn.len));
  const resolve = !raw && unwinderResolves(setup);
  const frameAddrs = (f: Frame | null, skipFirst: boolean) => out.push(...returnSlots(setup, f, skipFirst, resolve));
  if (ctx === 'handler') {
    frameAddrs(c.handler?.frames ?? null, true);
    const returning = c.handler?.phase === 'ret' && c.trampoline !== null;
    if (returning) {
      const chain = kretprobeTrampolineChain(setup.symbols.image.arch, setup.scenario.kernel ?? DEFAULT_KERNEL);
      // Before v5.16 the unwinder shows the trampoline where the real return address was (R79).
      for (const name of chain) {
        const fn = functionOf(setup, name);
        out.push(fn.addr + BigInt(fn.body[0]!.off + fn.body[0]!.len));
      }
      const frame = task?.frames ?? null;
      // The returned function's frame is popped only after the handlers: its caller resumes.
      if (frame !== null && unwinderResolves(setup)) frameAddrs(frame, true);
      else if (frame !== null) {
        const tramp = trampolineAddr(setup);
        if (tramp !== undefined) out.push(tramp);
        frameAddrs(frame.up, false);
      }
    } else frameAddrs(task?.frames ?? null, false);
  } else frameAddrs(task?.frames ?? null, true);
  return out;
}

/**
 * stack_trace_save_regs(): the unwind starts at the pt_regs a handler got, its IP first (a return
 * handler's is the real return address, R75), then the callers of the probed context.
 */
export function regsEntries(h: Here, ctx: Ctx, regsIp: bigint): bigint[] {
  const { setup, c, task } = h;
  if (ctx !== 'handler') return [regsIp];
  const frames = task?.frames ?? null;
  // Returning: regs->ip is already in the caller of the function that returned.
  const from = c.handler?.phase === 'ret' && c.trampoline !== null ? (frames?.up ?? null) : frames;
  return [regsIp, ...returnSlots(setup, from, true, unwinderResolves(setup))];
}

// ── handlers written in C ───────────────────────────────────────────────────────────────────

/** What cpu-step lends a C handler call: the registers the handler sees, its kretprobe instance. */
export interface HandlerEnv {
  registerOf(name: string): bigint;
  readonly instance: string | undefined;
  readonly slot: number | undefined;
}

/**
 * A probe's handler field (`pre_handler`, `post_handler`, `entry_handler`, `handler`) called the
 * kernel's way: read from the struct now (a NULL one is skipped), with the probe's struct, a
 * pt_regs of the probed context and (post) flags 0, or (kretprobes) the instance and pt_regs.
 */
export function cHandlerCall(h: Here, probe: string, phase: 'pre' | 'post' | 'ret', field: string, env: HandlerEnv, done: DomainEvent): DomainEvent[] {
  const { setup, w, c, pid } = h;
  const cs = cSetup(setup);
  const p = cs.probes.get(probe)!;
  const mod = cs.byName.get(p.module)!;
  const cstate = w.c ?? EMPTY_C;
  const mem = new StepMemory(cstate.mem, virtualMemory(setup, w, mod));
  const off = p.fields[field] ?? p.fields[`kp.${field}`];
  if (off === undefined) return [done];
  const r = mem.read(p.addr + BigInt(off), 8);
  const target = r.ok ? bytesInt(r.bytes, false) : 0n;
  const sym = target === 0n ? undefined : setup.symbols.containing(target);
  if (sym === undefined || sym.kind !== 'func' || !cs.functions.has(sym.name)) return [done];
  const cf = cs.functions.get(sym.name)!;
  const out: DomainEvent[] = [];
  // pt_regs of the probed context, as the arch's struct lays it out.
  const regsDef = mod.structs.get('pt_regs');
  const top = stackTop(setup.symbols.image.arch, pid);
  const regsAt = top - REGS_AT;
  if (regsDef !== undefined) {
    const b = new Array<number>(regsDef.size).fill(0);
    const fields = regFields(regsDef, setup.symbols.image.arch);
    // A C function's return value in full (the trampoline's event keeps an int): the last value
    // the task's C code returned, which is the returning function's (R76).
    const retReg = setup.symbols.image.arch === 'x86_64' ? 'ax' : 'x0';
    const full = phase === 'ret' && c.trampoline !== null && cs.functions.has(c.trampoline.fn) ? cstate.rets[pid] : undefined;
    const reg = (name: string): bigint => (name === retReg && full !== undefined ? BigInt(full) : env.registerOf(name));
    for (const [name, o] of fields) intBytes(reg(name), 8).forEach((x, i) => (b[o + i] = x));
    out.push({ type: 'mem.alloc', cpu: c.id, pid, addr: toHex(regsAt), size: b.length, kind: 'regs', init: initHex(b), site: '' });
  }
  const args: Val[] = [];
  if (p.kind === 'kretprobe' && (field === 'handler' || field === 'entry_handler')) {
    const ri = riAddress(cs, probe, env.slot ?? 0);
    const riDef = mod.structs.get('kretprobe_instance');
    const dataSize = Number(bytesInt((mem.read(p.addr + BigInt(p.fields['data_size'] ?? 0), 8) as { bytes: number[] }).bytes ?? [0], false));
    const size = (riDef?.size ?? 0) + dataSize;
    if (!mem.find(ri)) out.push({ type: 'mem.alloc', cpu: c.id, pid, addr: toHex(ri), size: Math.max(size, 8), kind: 'ri', init: '', site: '' });
    args.push(ri, regsAt);
  } else {
    args.push(p.addr, regsAt);
    if (field === 'post_handler') args.push(0n);
    if (field === 'fault_handler') args.push(14n);
  }
  const base = frameBase(setup, pid, 'handler', null, cf.frameSize);
  out.push(
    { type: 'func.call', cpu: c.id, pid, ip: null, fn: sym.name, ctx: 'handler' },
    { type: 'c.frame', cpu: c.id, pid, ctx: 'handler', base: toHex(base), size: cf.frameSize, init: initHex(frameInit(cf, args)) },
  );
  return out;
}

/** A kretprobe instance's struct (with its data[]): one per slot of the probe's pool, kept across uses (R77). */
function riAddress(cs: CSetup, probe: string, slot: number): bigint {
  const i = [...cs.probes.keys()].indexOf(probe);
  return RI_AREA + BigInt(i) * 0x100000n + BigInt(slot) * 0x1000n;
}

/** pt_regs' fields by the register they hold (x86: ip, sp, di, ...; arm64: regs[N] as xN, sp, pc, pstate). */
function regFields(def: import('../c/types.ts').StructDef, arch: string): [string, number][] {
  const out: [string, number][] = [];
  const walk = (d: import('../c/types.ts').StructDef, base: number) => {
    for (const m of d.members ?? []) {
      const t = unqual(m.type);
      if (m.name === undefined && t.kind === 'struct') walk(t.def, base + m.offset);
      else if (m.name === 'regs' && t.kind === 'array') for (let i = 0; i < (t.length ?? 0); i++) out.push([`x${i}`, base + m.offset + 8 * i]);
      else if (m.name !== undefined && t.kind === 'int' && t.size === 8) out.push([m.name, base + m.offset]);
    }
  };
  walk(def, 0);
  void arch;
  return out;
}

// ── insmod of a C module ────────────────────────────────────────────────────────────────────

/** load_module()'s copy of the module's data into memory (before its init runs): one step. */
export function cLoadModule(h: Here, module: string): DomainEvent[] {
  const cs = cSetup(h.setup);
  const data = cs.data.get(module) ?? [];
  return data.map((d) => ({ type: 'mem.alloc', cpu: h.c.id, pid: h.pid, addr: toHex(d.addr), size: d.size, kind: d.kind, init: initHex(d.bytes), site: module }));
}

/** What a task's init returned, when its outermost C call returned (module_live looks at it). */
export function initReturned(w: KernelState, pid: number): bigint | undefined {
  const v = w.c?.rets[pid];
  return v === undefined ? undefined : BigInt.asIntN(32, BigInt(v));
}

void decodeVal;
