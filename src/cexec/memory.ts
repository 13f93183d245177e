import type { Hex } from '../model/events.ts';
import { recGet, recSet } from '../model/fold/record.ts';
import { toHex } from '../model/hex.ts';

// The memory a C module's code touches, as the folded state keeps it: objects by base address
// (module data, string literals, a C frame's locals, kmalloc'd blocks, a handler's pt_regs and a
// kretprobe instance), each a run of bytes. Freed heap blocks stay, marked `free`, so a later
// access is reported as KASAN reports a use-after-free. Events carry writes as
// "0xADDR:HEXBYTES" strings; the fold applies them with applyWrite (it never interprets C).

export type MemKind = 'data' | 'rodata' | 'stack' | 'heap' | 'regs' | 'ri';

export interface MemObj {
  readonly size: number;
  /** The bytes, 0..255 each. */
  readonly b: readonly number[];
  readonly k: MemKind;
  /** kfree'd (heap) or unloaded (module data): any access is a use-after-free. */
  readonly free?: true;
  /** The module whose data it is. */
  readonly m?: string;
  /** Where it was allocated (kmalloc's caller, `%pS`), and where it was freed (KASAN's report). */
  readonly at?: string;
  readonly fr?: string;
}

/** A kprobes API call a task's C code is making (the manager serves it; the result goes to the caller's frame). */
export interface CApiCall {
  readonly fn: 'register_kprobe' | 'unregister_kprobe' | 'register_kretprobe' | 'unregister_kretprobe' | 'enable_kprobe' | 'disable_kprobe';
  readonly probe: string;
  readonly symbol: string | null;
  readonly offset: number;
  readonly addr: Hex | null;
  readonly disabled: boolean;
  /** The struct kprobe's address and where its `addr` field is (the kernel writes p->addr back). */
  readonly at: Hex;
  readonly addr_off: number;
  /** A kretprobe's maxactive as its struct has it (0: the default, R71). */
  readonly maxactive: number;
}

/**
 * Where the kernel writes into a C module's struct kprobe as it works with it (recorded from the
 * module's kprobes calls): p->flags' DISABLED and GONE bits, p->nmissed (R2, R12), and a
 * kretprobe's rp->nmissed (R73), each an address.
 */
export interface ProbeStruct {
  readonly flags: Hex;
  readonly nmissed: Hex;
  readonly rp_nmissed?: Hex;
}

/** The C execution state of the kernel: memory, pending kprobes calls, what init functions returned. */
export interface CState {
  readonly mem: Readonly<Record<Hex, MemObj>>;
  /** Bytes handed out from the kmalloc area so far (addresses are never reused). */
  readonly heap: number;
  readonly calls: Readonly<Record<number, CApiCall>>;
  /**
   * What a task's C code returned last, by pid, as a decimal string: its outermost call's value
   * (a module's init) once that returns.
   */
  readonly rets: Readonly<Record<number, string>>;
  /** The live children of each task that forked (what `wait_children` waits for). */
  readonly kids: Readonly<Record<number, readonly number[]>>;
  /** The struct of each C probe the module has passed to the kprobes API, by probe name. */
  readonly structs?: Readonly<Record<string, ProbeStruct>>;
}

export const EMPTY_C: CState = { mem: {}, heap: 0, calls: {}, rets: {}, kids: {} };

// ── bytes ─────────────────────────────────────────────────────────────────────────────────────

export function bytesToHex(b: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return s;
}

export function hexToBytes(s: string): number[] {
  const out: number[] = new Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Little-endian bytes of an integer (both arches are little-endian). */
export function intBytes(v: bigint, size: number): number[] {
  const out: number[] = new Array(size);
  let x = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++, x >>= 8n) out[i] = Number(x & 0xffn);
  return out;
}

export function bytesInt(b: ArrayLike<number>, signed: boolean): bigint {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
  return signed ? BigInt.asIntN(b.length * 8, x) : x;
}

/** Init bytes as an event carries them: hex without the trailing zero bytes. */
export function initHex(b: ArrayLike<number>): string {
  let n = b.length;
  while (n > 0 && b[n - 1] === 0) n--;
  return bytesToHex(Array.prototype.slice.call(b, 0, n) as number[]);
}

export function fromInitHex(s: string, size: number): number[] {
  const b = hexToBytes(s);
  while (b.length < size) b.push(0);
  return b.slice(0, size);
}

// ── finding the object that holds an address ──────────────────────────────────────────────────

interface Index {
  readonly bases: readonly bigint[];
  readonly keys: readonly Hex[];
}

const INDEX = new WeakMap<object, Index>();

function indexOf(mem: Readonly<Record<Hex, MemObj>>): Index {
  let ix = INDEX.get(mem);
  if (ix === undefined) {
    const keys = (Object.keys(mem) as Hex[]).map((k) => [BigInt(k), k] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    ix = { bases: keys.map((k) => k[0]), keys: keys.map((k) => k[1]) };
    INDEX.set(mem, ix);
  }
  return ix;
}

export interface Found {
  readonly base: bigint;
  readonly key: Hex;
  readonly obj: MemObj;
}

/** The object whose [base, base+size) holds `addr`, if any. */
export function findObject(mem: Readonly<Record<Hex, MemObj>>, addr: bigint): Found | undefined {
  const { bases, keys } = indexOf(mem);
  let lo = 0;
  let hi = bases.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (bases[mid]! <= addr) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (best < 0) return undefined;
  const obj = recGet(mem, keys[best]!)!;
  const base = bases[best]!;
  return addr < base + BigInt(Math.max(obj.size, 1)) ? { base, key: keys[best]!, obj } : undefined;
}

/** A write "0xADDR:HEX" applied to the memory record (the fold's one operation on bytes). */
export function applyWrite(mem: Readonly<Record<Hex, MemObj>>, w: string): Readonly<Record<Hex, MemObj>> {
  const colon = w.indexOf(':');
  const addr = BigInt(w.slice(0, colon));
  const bytes = hexToBytes(w.slice(colon + 1));
  const f = findObject(mem, addr);
  if (f === undefined) throw new Error(`internal: a write to ${w.slice(0, colon)}, which no object holds`);
  const off = Number(addr - f.base);
  if (off + bytes.length > f.obj.size) throw new Error(`internal: a write past the end of the object at ${f.key}`);
  const b = f.obj.b.slice();
  for (let i = 0; i < bytes.length; i++) b[off + i] = bytes[i]!;
  const out = recSet(mem, f.key, { ...f.obj, b });
  // Same keys, same index: a write never moves an object.
  const ix = INDEX.get(mem);
  if (ix !== undefined) INDEX.set(out, ix);
  return out;
}

export function encodeWrite(addr: bigint, bytes: ArrayLike<number>): string {
  return `${toHex(addr)}:${bytesToHex(bytes)}`;
}
