import type { Expr } from '../c/program.ts';
import { sizeOf, unqual, type CType } from '../c/types.ts';
import type { KernelVersion } from '../kernel/index.ts';
import type { DomainEvent, Hex } from '../model/events.ts';
import { toHex } from '../model/hex.ts';
import { EINVAL, ENOENT } from '../kprobes/errno.ts';
import type { CApiCall } from './memory.ts';
import { bytesInt, intBytes } from './memory.ts';
import type { CProbe } from './load.ts';
import type { Val } from './eval.ts';
import type { MemFault, StepMemory } from './step-memory.ts';
import { splitLevel, vsprintf, type FormatArg } from './vsprintf.ts';
import { KUNIT_NATIVES } from './kunit.ts';

// The kernel functions a module's C code calls, run natively by the model: each is one step of
// the calling CPU (its reads and writes made at once, as the kernel's own code would be one
// function the module cannot interleave with), except those that wait: a spinlock another CPU
// holds (the CPU spins, one step at a time), msleep (the task sleeps), and the kprobes API
// (register_kprobe and friends are the kprobe manager's steps under kprobe_mutex, as a scenario
// task's calls are). The list of names is ./natives-list.ts.

/** What a native sees of the step it runs in (src/cexec/step.ts provides it). */
export interface NativeCtx {
  readonly cpu: number;
  readonly pid: number;
  readonly comm: string;
  readonly ctx: 'task' | 'handler';
  readonly kernel: KernelVersion;
  readonly mem: StepMemory;
  /** Events this step emits after its own (`c.step`). */
  readonly post: DomainEvent[];
  /** Logical time (a tick is a microsecond). */
  readonly now: number;
  readonly cpus: number;
  readonly preemptCount: number;
  /** The address of the running C instruction. */
  readonly ip: bigint;
  fault(f: MemFault): never;
  trap(kind: 'bug' | 'unsupported', message: string): never;
  format(fmt: string, args: readonly FormatArg[]): string;
  readString(addr: bigint, max: number): string | undefined;
  /** The kernel's printk path: the lines go to the log and the printk function runs. */
  printk(text: string): void;
  /** dump_stack()'s lines. */
  stackLines(): string[];
  /** Return addresses of the running stack, innermost first (stack_trace_save). */
  stackEntries(): bigint[];
  /** The unwind from a pt_regs at `regs` (stack_trace_save_regs): its IP, then the probed context's callers. */
  regsEntries(regs: bigint): bigint[];
  /** The task's user memory (strings a system call's arguments point at), undefined where unmapped. */
  userRead(addr: bigint, size: number): number[] | undefined;
  /** The module probe whose struct is at `addr`, if any. */
  probeAt(addr: bigint): CProbe | undefined;
  /** A fresh kmalloc'd block's address. */
  heapAlloc(size: number): bigint;
  /** A deterministic random number (from the run's seed and the step). */
  random(): bigint;
  /** task_struct of the current task. */
  currentTask(): bigint;
  readonly sleepAllowed: boolean;
}

type Native = (n: NativeCtx, a: readonly Val[], types: readonly CType[], e: Extract<Expr, { k: 'call' }>, clean: boolean) => { readonly value: bigint } | 'block' | 'dirty';

const int = (v: Val): bigint => (typeof v === 'bigint' ? v : bytesInt(v, false));
const ok = (value: bigint | number = 0n): { value: bigint } => ({ value: typeof value === 'number' ? BigInt(value) : value });

function readBytes(n: NativeCtx, addr: bigint, size: number): number[] {
  if (size === 0) return [];
  const r = n.mem.read(addr, size);
  if (!r.ok) n.fault(r.fault);
  return r.bytes;
}

function writeBytes(n: NativeCtx, addr: bigint, bytes: readonly number[]): void {
  if (bytes.length === 0) return;
  const f = n.mem.write(addr, bytes);
  if (f !== null) n.fault(f);
}

/** A C string in kernel memory (faults like the kernel's own read would). */
function cString(n: NativeCtx, addr: bigint, max = 4096): number[] {
  const out: number[] = [];
  for (let i = 0; i < max; i++) {
    const b = readBytes(n, addr + BigInt(i), 1)[0]!;
    if (b === 0) break;
    out.push(b);
  }
  return out;
}

function formatArgs(a: readonly Val[], types: readonly CType[], from: number): FormatArg[] {
  return a.slice(from).map((v, i) => {
    const t = unqual(types[from + i]!);
    return { value: int(v), signed: t.kind === 'int' && t.signed };
  });
}

function printkNative(n: NativeCtx, a: readonly Val[], types: readonly CType[]): { value: bigint } {
  const fmt = n.readString(int(a[0]!), 1024) ?? '';
  const text = n.format(fmt, formatArgs(a, types, 1));
  n.printk(text);
  return ok(splitLevel(text).text.length);
}

/** An atomic_t's (or atomic64_t's) counter: one read-modify-write in one step, as a locked instruction is. */
function atomicOp(size: number, op: (old: bigint, a: readonly Val[]) => { store?: bigint; ret: bigint }, ptrArg: number, order?: 'full' | 'store-only'): Native {
  return (n, a) => {
    const at = int(a[ptrArg]!);
    const old = BigInt.asIntN(size * 8, bytesInt(readBytes(n, at, size), false));
    // atomic_set() is a WRITE_ONCE(): no read for the race checker.
    if (order !== 'store-only') n.mem.note('r', at, size, { marked: true });
    const r = op(old, a);
    if (r.store !== undefined) {
      writeBytes(n, at, intBytes(r.store, size));
      // A value-returning RMW is fully ordered; a failed cmpxchg stores nothing and orders nothing.
      n.mem.note('w', at, size, { marked: true, ...(order === 'full' ? { order } : {}) });
    }
    return ok(BigInt.asIntN(size * 8, r.ret));
  };
}

// Ordering (Documentation/atomic_t.txt): atomic_read/atomic_set and the RMW ops without a
// return value are unordered; those with one are fully ordered ('full').
const atomics = (prefix: string, size: number): Record<string, Native> => {
  const arg = (a: readonly Val[], i: number) => BigInt.asIntN(size * 8, int(a[i]!));
  return {
    [`${prefix}_read`]: atomicOp(size, (old) => ({ ret: old }), 0),
    [`${prefix}_set`]: atomicOp(size, (_o, a) => ({ store: arg(a, 1), ret: 0n }), 0, 'store-only'),
    [`${prefix}_add`]: atomicOp(size, (old, a) => ({ store: old + arg(a, 0), ret: 0n }), 1),
    [`${prefix}_sub`]: atomicOp(size, (old, a) => ({ store: old - arg(a, 0), ret: 0n }), 1),
    [`${prefix}_inc`]: atomicOp(size, (old) => ({ store: old + 1n, ret: 0n }), 0),
    [`${prefix}_dec`]: atomicOp(size, (old) => ({ store: old - 1n, ret: 0n }), 0),
    [`${prefix}_add_return`]: atomicOp(size, (old, a) => ({ store: old + arg(a, 0), ret: old + arg(a, 0) }), 1, 'full'),
    [`${prefix}_sub_return`]: atomicOp(size, (old, a) => ({ store: old - arg(a, 0), ret: old - arg(a, 0) }), 1, 'full'),
    [`${prefix}_inc_return`]: atomicOp(size, (old) => ({ store: old + 1n, ret: old + 1n }), 0, 'full'),
    [`${prefix}_dec_return`]: atomicOp(size, (old) => ({ store: old - 1n, ret: old - 1n }), 0, 'full'),
    [`${prefix}_fetch_add`]: atomicOp(size, (old, a) => ({ store: old + arg(a, 0), ret: old }), 1, 'full'),
    [`${prefix}_dec_and_test`]: atomicOp(size, (old) => ({ store: old - 1n, ret: BigInt.asIntN(size * 8, old - 1n) === 0n ? 1n : 0n }), 0, 'full'),
    [`${prefix}_inc_and_test`]: atomicOp(size, (old) => ({ store: old + 1n, ret: BigInt.asIntN(size * 8, old + 1n) === 0n ? 1n : 0n }), 0, 'full'),
    [`${prefix}_xchg`]: atomicOp(size, (old, a) => ({ store: arg(a, 1), ret: old }), 0, 'full'),
    [`${prefix}_cmpxchg`]: atomicOp(size, (old, a) => (old === arg(a, 1) ? { store: arg(a, 2), ret: old } : { ret: old }), 0, 'full'),
  };
};

// ── spinlocks ───────────────────────────────────────────────────────────────────────────────
// raw_spinlock_t's word holds 0 when free and, in the model, the owner CPU's number + 1 when
// held (a real qspinlock keeps a locked byte; the owner is what CONFIG_DEBUG_SPINLOCK records).

function spinLock(n: NativeCtx, a: readonly Val[], clean: boolean): { value: bigint } | 'block' | 'dirty' {
  if (!clean) return 'dirty';
  const at = int(a[0]!);
  const word = bytesInt(readBytes(n, at, 4), false);
  if (word === 0n) {
    n.mem.note('r', at, 4, { marked: true });
    writeBytes(n, at, intBytes(BigInt(n.cpu + 1), 4));
    // spin_lock() is an ACQUIRE of the lock (memory-barriers.txt).
    n.mem.note('w', at, 4, { marked: true, order: 'acquire' });
    // spin_lock() disables preemption: the holder is not switched out until it unlocks.
    n.post.push({ type: 'c.preempt', cpu: n.cpu, delta: 1 });
    return ok();
  }
  if (word === BigInt(n.cpu + 1)) {
    // The CPU waits for itself: CONFIG_DEBUG_SPINLOCK's report, and the CPU is lost (a deadlock, not a hang).
    n.printk(`BUG: spinlock recursion on CPU#${n.cpu}, ${n.comm}/${n.pid}`);
    n.trap('bug', `deadlock: CPU ${n.cpu} takes spinlock ${toHex(at)}, which it already holds`);
  }
  n.post.push({ type: 'c.spin', cpu: n.cpu, lock: toHex(at), owner: Number(word) - 1 });
  return 'block';
}

function spinUnlock(n: NativeCtx, a: readonly Val[]): { value: bigint } {
  writeBytes(n, int(a[0]!), intBytes(0n, 4));
  // spin_unlock() is a RELEASE of the lock.
  n.mem.note('w', int(a[0]!), 4, { marked: true, order: 'release' });
  n.post.push({ type: 'c.preempt', cpu: n.cpu, delta: -1 });
  return ok();
}

// ── sleeping ────────────────────────────────────────────────────────────────────────────────

/** A task sleeps `ticks` (a tick is a microsecond); in atomic context: "BUG: scheduling while atomic". */
function sleepFor(n: NativeCtx, ticks: bigint, clean: boolean): { value: bigint } | 'dirty' {
  if (!clean) return 'dirty';
  if (!n.sleepAllowed) {
    n.printk(`BUG: scheduling while atomic: ${n.comm}/${n.pid}/0x${n.preemptCount.toString(16).padStart(8, '0')}`);
    n.post.push({ type: 'bug.atomic_sleep', cpu: n.cpu, pid: n.pid, preempt_count: n.preemptCount });
    return ok();
  }
  n.post.push({ type: 'c.sleep', cpu: n.cpu, pid: n.pid, until: n.now + Math.max(1, Number(ticks > 1_000_000n ? 1_000_000n : ticks)) });
  return ok();
}

// ── kprobes ─────────────────────────────────────────────────────────────────────────────────

function kprobesCall(fn: CApiCall['fn']): Native {
  return (n, a, _t, _e, clean) => {
    if (!clean) return 'dirty';
    const at = int(a[0]!);
    const p = n.probeAt(at);
    if (p === undefined) {
      // A struct kprobe the model does not know (not a module global): refused.
      n.printk(`kprobesim: ${fn}() of a struct at ${toHex(at)}, which is no struct kprobe/kretprobe global of a module`);
      return ok(fn.startsWith('register') || fn.endsWith('able_kprobe') ? -EINVAL : 0);
    }
    if (n.ctx === 'handler') {
      // kprobe_mutex cannot be taken in a handler.
      n.printk(`BUG: scheduling while atomic: ${n.comm}/${n.pid}/0x${n.preemptCount.toString(16).padStart(8, '0')}`);
      n.post.push({ type: 'bug.atomic_sleep', cpu: n.cpu, pid: n.pid, preempt_count: n.preemptCount });
      return ok(-EINVAL);
    }
    const kp = (f: string): number => p.fields[p.kind === 'kprobe' ? f : `kp.${f}`] ?? p.fields[f] ?? 0;
    const ptr = (off: number): bigint => bytesInt(readBytes(n, p.addr + BigInt(off), 8), false);
    const symAddr = ptr(kp('symbol_name'));
    const symbol = symAddr === 0n ? null : String.fromCharCode(...cString(n, symAddr, 512));
    const offset = Number(bytesInt(readBytes(n, p.addr + BigInt(kp('offset')), 4), false));
    const addr = ptr(kp('addr'));
    const flags = Number(bytesInt(readBytes(n, p.addr + BigInt(kp('flags')), 4), false));
    const maxactive = p.kind === 'kretprobe' && p.fields['maxactive'] !== undefined ? Number(BigInt.asIntN(32, bytesInt(readBytes(n, p.addr + BigInt(p.fields['maxactive']), 4), false))) : 0;
    const call: DomainEvent = {
      type: 'c.api', cpu: n.cpu, pid: n.pid, fn, probe: p.name, symbol, offset, addr: addr === 0n ? null : toHex(addr),
      disabled: (flags & 2) !== 0, at: toHex(p.addr), addr_off: kp('addr'), maxactive,
      flags_off: kp('flags'), nmissed_off: kp('nmissed'), rp_nmissed_off: p.kind === 'kretprobe' ? (p.fields['nmissed'] ?? -1) : -1,
    };
    n.post.push(call);
    return 'block';
  };
}

// ── user memory ─────────────────────────────────────────────────────────────────────────────

const USER_LIMIT = 0x0000800000000000n;

/** strncpy_from_user(): bytes up to the NUL (copied too) or `count`; -EFAULT when the source cannot be read. */
function strncpyFromUser(n: NativeCtx, a: readonly Val[]): { value: bigint } {
  const dst = int(a[0]!);
  const src = int(a[1]!);
  const count = Number(BigInt.asIntN(64, int(a[2]!)));
  if (count <= 0) return ok();
  if (src >= USER_LIMIT) return ok(-14);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const b = n.userRead(src + BigInt(i), 1);
    if (b === undefined) {
      if (out.length > 0) writeBytes(n, dst, out);
      return ok(-14);
    }
    out.push(b[0]!);
    if (b[0] === 0) break;
  }
  writeBytes(n, dst, out);
  // The length of the string (without its NUL), or count when it filled the buffer.
  return ok(out[out.length - 1] === 0 ? out.length - 1 : out.length);
}

/** copy_from_user(): bytes not copied (0 on success), the rest of the buffer zeroed as the kernel does. */
function copyFromUser(n: NativeCtx, a: readonly Val[]): { value: bigint } {
  const dst = int(a[0]!);
  const src = int(a[1]!);
  const size = Number(int(a[2]!) > 1_000_000n ? 1_000_000n : int(a[2]!));
  const out: number[] = [];
  for (let i = 0; i < size; i++) {
    const b = src < USER_LIMIT ? n.userRead(src + BigInt(i), 1) : undefined;
    if (b === undefined) break;
    out.push(b[0]!);
  }
  const missing = size - out.length;
  writeBytes(n, dst, [...out, ...new Array<number>(missing).fill(0)]);
  return ok(missing);
}

// ── the table ───────────────────────────────────────────────────────────────────────────────

const NATIVES: Readonly<Record<string, Native>> = {
  printk: printkNative,
  _printk: printkNative,
  printk_ratelimit: () => ok(1),
  dump_stack: (n) => {
    for (const line of n.stackLines()) n.printk(`\u00016${line}`);
    return ok();
  },
  __sim_warn: (n, a) => {
    const file = n.readString(int(a[0]!), 256) ?? '?';
    const line = Number(int(a[1]!));
    n.printk(`------------[ cut here ]------------`);
    n.printk(`WARNING: CPU: ${n.cpu} PID: ${n.pid} at ${file}:${line}`);
    n.post.push({ type: 'kernel.warn', cpu: n.cpu, pid: n.pid, file, line });
    for (const l of n.stackLines()) n.printk(l);
    n.printk(`---[ end trace 0000000000000000 ]---`);
    return ok();
  },
  __sim_bug: (n, a): never => {
    const file = n.readString(int(a[0]!), 256) ?? '?';
    n.printk(`kernel BUG at ${file}:${Number(int(a[1]!))}!`);
    return n.trap('bug', `kernel BUG at ${file}:${Number(int(a[1]!))}!`);
  },
  register_kprobe: kprobesCall('register_kprobe'),
  unregister_kprobe: kprobesCall('unregister_kprobe'),
  register_kretprobe: kprobesCall('register_kretprobe'),
  unregister_kretprobe: kprobesCall('unregister_kretprobe'),
  enable_kprobe: kprobesCall('enable_kprobe'),
  disable_kprobe: kprobesCall('disable_kprobe'),
  get_current: (n) => ok(n.currentTask()),
  raw_smp_processor_id: (n) => ok(n.cpu),
  preempt_count: (n) => ok(n.preemptCount),
  preempt_disable: (n) => (n.post.push({ type: 'c.preempt', cpu: n.cpu, delta: 1 }), ok()),
  preempt_enable: (n) => (n.post.push({ type: 'c.preempt', cpu: n.cpu, delta: -1 }), ok()),
  preempt_enable_no_resched: (n) => (n.post.push({ type: 'c.preempt', cpu: n.cpu, delta: -1 }), ok()),
  irqs_disabled: (n) => ok(n.ctx === 'handler' ? 1 : 0),
  num_online_cpus: (n) => ok(n.cpus),
  arch_local_irq_save: () => ok(0x200),
  arch_local_irq_restore: () => ok(),
  arch_local_irq_disable: () => ok(),
  arch_local_irq_enable: () => ok(),
  _cond_resched: () => ok(),
  schedule: () => ok(),
  try_module_get: () => ok(1),
  module_put: () => ok(),
  strncpy_from_user: strncpyFromUser,
  strncpy_from_user_nofault: strncpyFromUser,
  strncpy_from_unsafe_user: strncpyFromUser,
  copy_from_user: copyFromUser,
  copy_from_user_nofault: (n, a) => ok(copyFromUser(n, a).value === 0n ? 0 : -14),
  copy_to_user: (_n, a) => ok(int(a[2]!)),
  strnlen_user: (n, a) => {
    const src = int(a[0]!);
    const max = Number(int(a[1]!));
    for (let i = 0; i < max; i++) {
      const b = n.userRead(src + BigInt(i), 1);
      if (b === undefined) return ok(0);
      if (b[0] === 0) return ok(i + 1);
    }
    return ok(max + 1);
  },
  __sim_access_ok: (_n, a) => ok(int(a[0]!) < USER_LIMIT ? 1 : 0),
  pagefault_disable: () => ok(),
  pagefault_enable: () => ok(),
  copy_from_kernel_nofault: (n, a) => {
    const r = n.mem.read(int(a[1]!), Number(int(a[2]!)));
    if (!r.ok) return ok(-14);
    writeBytes(n, int(a[0]!), r.bytes);
    return ok();
  },
  probe_kernel_read: (n, a) => {
    const r = n.mem.read(int(a[1]!), Number(int(a[2]!)));
    if (!r.ok) return ok(-14);
    writeBytes(n, int(a[0]!), r.bytes);
    return ok();
  },
  // KUnit's test-managed memory; the model does not free it when the case ends.
  kunit_kmalloc: (n, a) => alloc(n, int(a[1]!), false),
  kunit_kzalloc: (n, a) => alloc(n, int(a[1]!), true),
  ...KUNIT_NATIVES,
  kmalloc: (n, a) => alloc(n, int(a[0]!), false),
  kzalloc: (n, a) => alloc(n, int(a[0]!), true),
  kcalloc: (n, a) => alloc(n, int(a[0]!) * int(a[1]!), true),
  kmalloc_array: (n, a) => alloc(n, int(a[0]!) * int(a[1]!), false),
  kfree: (n, a) => {
    const at = int(a[0]!);
    if (at === 0n) return ok();
    const f = n.mem.find(at);
    if (f === undefined || f.obj.k !== 'heap' || f.base !== at) return n.trap('bug', `kfree() of ${toHex(at)}, which kmalloc did not return`);
    if (f.obj.free) {
      n.printk('==================================================================');
      n.printk(`BUG: KASAN: double-free in ${n.format('%pS', [{ value: n.ip, signed: false }])}`);
      n.printk(`Free of addr ${at.toString(16)} by task ${n.comm}/${n.pid}`);
      n.trap('bug', `KASAN: double-free of ${toHex(at)}`);
    }
    n.post.push({ type: 'mem.free', cpu: n.cpu, pid: n.pid, addr: toHex(at), site: n.format('%pS', [{ value: n.ip, signed: false }]) });
    return ok();
  },
  ksize: (n, a) => ok(n.mem.find(int(a[0]!))?.obj.size ?? 0),
  strlen: (n, a) => ok(cString(n, int(a[0]!)).length),
  strnlen: (n, a) => ok(cString(n, int(a[0]!), Number(int(a[1]!))).length),
  strcmp: (n, a) => ok(cmpBytes(cString(n, int(a[0]!)), cString(n, int(a[1]!)), Infinity)),
  strncmp: (n, a) => ok(cmpBytes(cString(n, int(a[0]!)), cString(n, int(a[1]!)), Number(int(a[2]!)))),
  strcpy: (n, a) => {
    writeBytes(n, int(a[0]!), [...cString(n, int(a[1]!)), 0]);
    return ok(int(a[0]!));
  },
  strncpy: (n, a) => {
    const count = Number(int(a[2]!));
    const s = cString(n, int(a[1]!), count);
    writeBytes(n, int(a[0]!), [...s, ...new Array<number>(count - s.length).fill(0)]);
    return ok(int(a[0]!));
  },
  strscpy: (n, a) => {
    const count = Number(int(a[2]!));
    if (count === 0) return ok(-7);
    const s = cString(n, int(a[1]!), count);
    const fits = s.length < count;
    writeBytes(n, int(a[0]!), [...s.slice(0, count - 1), 0]);
    return ok(fits ? s.length : -7);
  },
  strlcpy: (n, a) => {
    const size = Number(int(a[2]!));
    const s = cString(n, int(a[1]!));
    if (size > 0) writeBytes(n, int(a[0]!), [...s.slice(0, size - 1), 0]);
    return ok(s.length);
  },
  strcat: (n, a) => {
    const d = cString(n, int(a[0]!));
    writeBytes(n, int(a[0]!) + BigInt(d.length), [...cString(n, int(a[1]!)), 0]);
    return ok(int(a[0]!));
  },
  strchr: (n, a) => {
    const s = cString(n, int(a[0]!));
    const c = Number(BigInt.asUintN(8, int(a[1]!)));
    const i = c === 0 ? s.length : s.indexOf(c);
    return ok(i < 0 ? 0n : int(a[0]!) + BigInt(i));
  },
  strrchr: (n, a) => {
    const s = cString(n, int(a[0]!));
    const c = Number(BigInt.asUintN(8, int(a[1]!)));
    const i = c === 0 ? s.length : s.lastIndexOf(c);
    return ok(i < 0 ? 0n : int(a[0]!) + BigInt(i));
  },
  strstr: (n, a) => {
    const h = String.fromCharCode(...cString(n, int(a[0]!)));
    const i = h.indexOf(String.fromCharCode(...cString(n, int(a[1]!))));
    return ok(i < 0 ? 0n : int(a[0]!) + BigInt(i));
  },
  memcpy: (n, a) => {
    writeBytes(n, int(a[0]!), readBytes(n, int(a[1]!), Number(int(a[2]!))));
    return ok(int(a[0]!));
  },
  memmove: (n, a) => {
    writeBytes(n, int(a[0]!), readBytes(n, int(a[1]!), Number(int(a[2]!))));
    return ok(int(a[0]!));
  },
  memset: (n, a) => {
    writeBytes(n, int(a[0]!), new Array<number>(Number(int(a[2]!))).fill(Number(BigInt.asUintN(8, int(a[1]!)))));
    return ok(int(a[0]!));
  },
  memcmp: (n, a) => {
    const size = Number(int(a[2]!));
    return ok(cmpBytes(readBytes(n, int(a[0]!), size), readBytes(n, int(a[1]!), size), size));
  },
  sprintf: (n, a, t) => sprintfTo(n, int(a[0]!), Infinity, n.readString(int(a[1]!), 1024) ?? '', formatArgs(a, t, 2), false),
  snprintf: (n, a, t) => sprintfTo(n, int(a[0]!), Number(int(a[1]!)), n.readString(int(a[2]!), 1024) ?? '', formatArgs(a, t, 3), false),
  scnprintf: (n, a, t) => sprintfTo(n, int(a[0]!), Number(int(a[1]!)), n.readString(int(a[2]!), 1024) ?? '', formatArgs(a, t, 3), true),
  kstrtoint: (n, a) => kstrto(n, a, 4, true),
  kstrtouint: (n, a) => kstrto(n, a, 4, false),
  kstrtol: (n, a) => kstrto(n, a, 8, true),
  kstrtoul: (n, a) => kstrto(n, a, 8, false),
  kstrtou64: (n, a) => kstrto(n, a, 8, false),
  ...atomics('atomic', 4),
  ...atomics('atomic64', 8),
  ...atomics('atomic_long', 8),
  _raw_spin_lock: (n, a, _t, _e, clean) => spinLock(n, a, clean),
  _raw_spin_lock_irq: (n, a, _t, _e, clean) => spinLock(n, a, clean),
  _raw_spin_lock_bh: (n, a, _t, _e, clean) => spinLock(n, a, clean),
  _raw_spin_lock_irqsave: (n, a, _t, _e, clean) => {
    const r = spinLock(n, a, clean);
    return typeof r === 'object' ? ok(0x246) : r;
  },
  _raw_spin_trylock: (n, a) => {
    const at = int(a[0]!);
    n.mem.note('r', at, 4, { marked: true });
    if (bytesInt(readBytes(n, at, 4), false) !== 0n) return ok(0);
    writeBytes(n, at, intBytes(BigInt(n.cpu + 1), 4));
    // A successful trylock is an ACQUIRE; a failed one orders nothing.
    n.mem.note('w', at, 4, { marked: true, order: 'acquire' });
    n.post.push({ type: 'c.preempt', cpu: n.cpu, delta: 1 });
    return ok(1);
  },
  _raw_spin_unlock: (n, a) => spinUnlock(n, a),
  _raw_spin_unlock_irq: (n, a) => spinUnlock(n, a),
  _raw_spin_unlock_bh: (n, a) => spinUnlock(n, a),
  _raw_spin_unlock_irqrestore: (n, a) => spinUnlock(n, a),
  msleep: (n, a, _t, _e, clean) => sleepFor(n, int(a[0]!) * 1000n, clean),
  msleep_interruptible: (n, a, _t, _e, clean) => sleepFor(n, int(a[0]!) * 1000n, clean),
  ssleep: (n, a, _t, _e, clean) => sleepFor(n, int(a[0]!) * 1_000_000n, clean),
  usleep_range: (n, a, _t, _e, clean) => sleepFor(n, int(a[0]!), clean),
  // Busy-waits: logical time does not move for them (a tick is the scheduler's).
  udelay: () => ok(),
  ndelay: () => ok(),
  mdelay: () => ok(),
  // Logical time in ns: a tick is a microsecond.
  ktime_get: (n) => ok(BigInt(n.now) * 1000n),
  ktime_get_ns: (n) => ok(BigInt(n.now) * 1000n),
  ktime_get_boottime_ns: (n) => ok(BigInt(n.now) * 1000n),
  get_random_u32: (n) => ok(BigInt.asUintN(32, n.random())),
  get_random_int: (n) => ok(BigInt.asUintN(32, n.random())),
  prandom_u32: (n) => ok(BigInt.asUintN(32, n.random())),
  get_random_u64: (n) => ok(n.random()),
  get_random_long: (n) => ok(n.random()),
  get_random_u32_below: (n, a) => {
    const ceil = BigInt.asUintN(32, int(a[0]!));
    return ok(ceil === 0n ? 0n : BigInt.asUintN(32, n.random()) % ceil);
  },
  stack_trace_save: (n, a) => {
    const store = int(a[0]!);
    const size = Number(int(a[1]!));
    const skip = Number(int(a[2]!));
    const entries = n.stackEntries().slice(skip, skip + size);
    writeBytes(n, store, entries.flatMap((x) => intBytes(x, 8)));
    return ok(entries.length);
  },
  stack_trace_save_regs: (n, a) => {
    const store = int(a[1]!);
    const size = Number(int(a[2]!));
    const skip = Number(int(a[3]!));
    const entries = n.regsEntries(int(a[0]!)).slice(skip, skip + size);
    writeBytes(n, store, entries.flatMap((x) => intBytes(x, 8)));
    return ok(entries.length);
  },
  stack_trace_print: (n, a) => {
    const trace = int(a[0]!);
    const count = Number(int(a[1]!));
    const spaces = Number(int(a[2]!));
    for (let i = 0; i < count; i++) {
      const v = bytesInt(readBytes(n, trace + BigInt(8 * i), 8), false);
      n.printk(`\u00016${' '.repeat(spaces)}${n.format('%pS', [{ value: v, signed: false }])}`);
    }
    return ok();
  },
};

function alloc(n: NativeCtx, size: bigint, zero: boolean): { value: bigint } {
  if (size <= 0n || size > 4_194_304n) return ok(0);
  const addr = n.heapAlloc(Number(size));
  // kmalloc'd memory is not zeroed; the model's is (what it held before is not modelled), so a
  // read before a write reads 0 with kmalloc as with kzalloc.
  void zero;
  n.mem.create(addr, 'heap', new Array<number>(Number(size)).fill(0));
  n.post.push({ type: 'mem.alloc', cpu: n.cpu, pid: n.pid, addr: toHex(addr), size: Number(size), kind: 'heap', init: '', site: n.format('%pS', [{ value: n.ip, signed: false }]) });
  return ok(addr);
}

function cmpBytes(x: readonly number[], y: readonly number[], max: number): number {
  for (let i = 0; i < max; i++) {
    const a = x[i] ?? 0;
    const b = y[i] ?? 0;
    if (a !== b) return a < b ? -1 : 1;
    if (a === 0 && i >= x.length && i >= y.length) return 0;
    if (i >= x.length && i >= y.length) return 0;
  }
  return 0;
}

function sprintfTo(n: NativeCtx, dst: bigint, size: number, fmt: string, args: FormatArg[], scn: boolean): { value: bigint } {
  const text = [...new TextEncoder().encode(n.format(fmt, args))];
  if (size > 0) {
    const k = Math.min(text.length, size - 1);
    writeBytes(n, dst, [...text.slice(0, k), 0]);
    if (scn) return ok(k);
  } else if (scn) return ok(0);
  return ok(text.length);
}

function kstrto(n: NativeCtx, a: readonly Val[], size: number, signed: boolean): { value: bigint } {
  const s = String.fromCharCode(...cString(n, int(a[0]!))).replace(/\n$/, '');
  const base = Number(int(a[1]!));
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (m === null || (m[1] === '-' && !signed)) return ok(-EINVAL);
  let v: bigint;
  try {
    const digits = m[2]!;
    v = base === 16 || (base === 0 && /^0[xX]/.test(digits)) ? BigInt(digits.startsWith('0x') || digits.startsWith('0X') ? digits : `0x${digits}`) : base === 8 || (base === 0 && digits.startsWith('0') && digits.length > 1) ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  } catch {
    return ok(-EINVAL);
  }
  if (m[1] === '-') v = -v;
  const bits = size * 8;
  if (signed ? v !== BigInt.asIntN(bits, v) : v !== BigInt.asUintN(bits, v)) return ok(-34);
  writeBytes(n, int(a[2]!), intBytes(v, size));
  return ok();
}

export function nativeOf(name: string): Native | undefined {
  return Object.hasOwn(NATIVES, name) ? NATIVES[name] : undefined;
}

export type { Native };
void ENOENT;
void sizeOf;
void (null as unknown as Hex);
