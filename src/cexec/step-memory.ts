import type { Hex } from '../model/events.ts';
import { toHex } from '../model/hex.ts';
import { encodeWrite, findObject, type Found, type MemKind, type MemObj } from './memory.ts';

// Memory as one step of C code sees it: the folded objects, plus the objects this step creates
// and the writes it has made so far (later reads of the step see them). The writes are what the
// step's event carries; the fold applies them the same way (memory.ts applyWrite).

/** Why an access cannot be made: the kernel's page fault, or KASAN's report. */
export interface MemFault {
  readonly addr: bigint;
  readonly size: number;
  readonly write: boolean;
  /** null: NULL page; unmapped: nothing there; freed: a kfree'd or unloaded object; ro: read-only data. */
  readonly kind: 'null' | 'unmapped' | 'freed' | 'ro';
  readonly obj?: Found;
}

export type Read = { readonly ok: true; readonly bytes: number[]; readonly kind: MemKind | 'kernel' } | { readonly ok: false; readonly fault: MemFault };

/**
 * How an access is made, as the compiler's KCSAN instrumentation tells the runtime: plain, or
 * marked (READ_ONCE/WRITE_ONCE and other volatile accesses, atomic_*(), the lock word), with the
 * ordering Documentation/atomic_t.txt gives it (a lock's acquire and release; `full` for a
 * value-returning atomic read-modify-write, an smp_mb() on each side).
 */
export interface AccessHow {
  readonly marked?: boolean;
  readonly order?: 'acquire' | 'release' | 'full';
}

/** Objects a data race can be on: module data, kmalloc'd memory, kretprobe instances (not stacks, pt_regs or rodata). */
const RACY: ReadonlySet<MemKind> = new Set(['data', 'heap', 'ri']);

/** Memory the kernel owns that the model computes rather than stores (task_struct, jiffies, text). */
export type VirtualMemory = (addr: bigint, size: number) => number[] | undefined;

const NULL_PAGE = 0x1000n;

export class StepMemory {
  private readonly copies = new Map<Hex, number[]>();
  private readonly created: { base: bigint; key: Hex; obj: MemObj }[] = [];
  readonly writes: string[] = [];
  /**
   * The step's accesses of shared memory in order, for the race checker (src/kcsan): each
   * `[m]r|w:0xADDR:SIZE[:ORDER]` (`m`: marked). Only those the caller notes: the interpreter's
   * loads and stores, and the atomics' and spinlocks' own.
   */
  readonly accesses: string[] = [];

  constructor(
    private readonly mem: Readonly<Record<Hex, MemObj>>,
    private readonly virtual: VirtualMemory,
  ) {}

  /** An object this step allocates (its creation is an event the caller emits). */
  create(base: bigint, kind: MemKind, bytes: readonly number[], m?: string): void {
    const key = toHex(base);
    this.created.push({ base, key, obj: { size: bytes.length, b: bytes, k: kind, ...(m !== undefined ? { m } : {}) } });
    this.copies.set(key, bytes.slice());
  }

  find(addr: bigint): Found | undefined {
    for (const c of this.created) if (addr >= c.base && addr < c.base + BigInt(Math.max(c.obj.size, 1))) return c;
    return findObject(this.mem, addr);
  }

  private bytesOf(f: Found): readonly number[] {
    return this.copies.get(f.key) ?? f.obj.b;
  }

  read(addr: bigint, size: number): Read {
    const a = BigInt.asUintN(64, addr);
    const f = this.find(a);
    if (f === undefined) {
      const v = a < NULL_PAGE ? undefined : this.virtual(a, size);
      if (v !== undefined) return { ok: true, bytes: v, kind: 'kernel' };
      return { ok: false, fault: { addr: a, size, write: false, kind: a < NULL_PAGE ? 'null' : 'unmapped' } };
    }
    const off = Number(a - f.base);
    if (f.obj.free) return { ok: false, fault: { addr: a, size, write: false, kind: 'freed', obj: f } };
    if (off + size > f.obj.size) return { ok: false, fault: { addr: a, size, write: false, kind: 'unmapped', obj: f } };
    return { ok: true, bytes: this.bytesOf(f).slice(off, off + size), kind: f.obj.k };
  }

  write(addr: bigint, bytes: readonly number[]): MemFault | null {
    const a = BigInt.asUintN(64, addr);
    const f = this.find(a);
    const fault = (kind: MemFault['kind']): MemFault => ({ addr: a, size: bytes.length, write: true, kind, ...(f ? { obj: f } : {}) });
    if (f === undefined) return fault(a < NULL_PAGE ? 'null' : 'unmapped');
    if (f.obj.free) return fault('freed');
    if (f.obj.k === 'rodata') return fault('ro');
    const off = Number(a - f.base);
    if (off + bytes.length > f.obj.size) return fault('unmapped');
    let copy = this.copies.get(f.key);
    if (copy === undefined) this.copies.set(f.key, (copy = f.obj.b.slice()));
    for (let i = 0; i < bytes.length; i++) copy[off + i] = bytes[i]!;
    // Writes into an object created by this step are part of its creation event.
    if (!this.created.some((c) => c.key === f.key)) this.writes.push(encodeWrite(a, bytes));
    return null;
  }

  /** Records a made access for the race checker, when it is of shared memory (see `accesses`). */
  note(op: 'r' | 'w', addr: bigint, size: number, how: AccessHow = {}): void {
    const f = this.find(BigInt.asUintN(64, addr));
    if (f === undefined || !RACY.has(f.obj.k) || size === 0) return;
    this.accesses.push(`${how.marked ? 'm' : ''}${op}:${toHex(BigInt.asUintN(64, addr))}:${size}${how.order !== undefined ? `:${how.order}` : ''}`);
  }

  /** The bytes of an object created by this step, with the writes made into it since. */
  createdBytes(base: bigint): number[] {
    return this.copies.get(toHex(base))!;
  }
}
