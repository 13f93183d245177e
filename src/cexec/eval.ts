import type { Expr, Instr, LValue } from '../c/program.ts';
import { intBinary, intCompare, sizeOf, unqual, wrap, type CType } from '../c/types.ts';
import { bytesInt, bytesToHex, hexToBytes, intBytes } from './memory.ts';
import type { MemFault, StepMemory } from './step-memory.ts';

// The interpreter of one step of C code: it runs the current instruction of a frame from its
// start, and stops at the first interleaving point it has not passed yet. What it read in the
// earlier steps of the same instruction is the frame's memo (values, in the order they were
// read): reads the memo already has are taken from it, and stores made before the last of them
// are not made again, so an instruction resumes exactly where it stopped. Each read of shared
// memory (module data, kmalloc'd memory) ends the step, so `count++` on a global is a load step
// and a store step that another CPU can come between; every call ends the step too. Reads of the
// frame's own locals are recorded but do not end it. Values are bigints wrapped to their type,
// or bytes for structs.

export type Val = bigint | Uint8Array;

/** The step ends here; `wait`: a callee's return value will be appended to the memo. */
export class Yield {
  constructor(readonly wait: boolean) {}
}

/** A memory access faulted (the kernel's fault path, or KASAN). */
export class Fault {
  constructor(
    readonly fault: MemFault,
    readonly instr: Instr,
  ) {}
}

/** The CPU raised an exception the code cannot go on from: a divide error, BUG(), a call of NULL. */
export class Trap {
  constructor(
    readonly kind: 'divide' | 'bug' | 'null_call' | 'unsupported',
    readonly message: string,
  ) {}
}

/** What a call to a function outside the interpreted code does. */
export type CallOut =
  /** A module function: its frame starts with these locals' bytes. */
  | { readonly k: 'c'; readonly fn: string; readonly args: readonly Val[] }
  /** A kernel function of the image that runs its own instructions. */
  | { readonly k: 'kernel'; readonly fn: string };

/** What the interpreter needs from outside: where things are, and the kernel functions. */
export interface EvalHost {
  readonly mem: StepMemory;
  globalAddr(name: string): bigint;
  stringAddr(id: number): bigint;
  funcAddr(name: string): bigint;
  /** The name of a function whose entry is at `addr` (a call through a pointer). */
  funcAt(addr: bigint): string | undefined;
  isCFunction(name: string): boolean;
  isNative(name: string): boolean;
  /**
   * A native kernel function: its value, or `block` (it cannot complete in this step: the step
   * ends without progress, e.g. a spinlock another CPU holds). `clean` says whether this step has
   * done nothing yet (natives that wait or hand off only start on a clean step).
   */
  native(name: string, args: readonly Val[], types: readonly CType[], e: Extract<Expr, { k: 'call' }>, clean: boolean): { readonly value: bigint } | 'block' | 'dirty';
  builtin(e: Extract<Expr, { k: 'builtin' }>, args: readonly Val[]): bigint;
  kunit?(e: Extract<Expr, { k: 'builtin' }>, it: Interp): bigint;
}

export function encodeVal(v: Val): string {
  return typeof v === 'bigint' ? v.toString() : `b${bytesToHex(v)}`;
}

export function decodeVal(s: string): Val {
  return s.startsWith('b') ? Uint8Array.from(hexToBytes(s.slice(1))) : BigInt(s);
}

const asInt = (v: Val): bigint => (typeof v === 'bigint' ? v : bytesInt(v, false));

function valueOf(bytes: readonly number[], t: CType): Val {
  const u = unqual(t);
  if (u.kind === 'int') {
    const v = bytesInt(bytes, u.signed);
    return u.name === '_Bool' ? (v !== 0n ? 1n : 0n) : v;
  }
  if (u.kind === 'pointer') return bytesInt(bytes, false);
  return Uint8Array.from(bytes);
}

function bytesOf(v: Val, t: CType): number[] {
  if (typeof v !== 'bigint') return Array.from(v);
  return intBytes(v, sizeOf(t) ?? 8);
}

const SHARED = new Set(['data', 'heap', 'ri']);

export class Interp {
  /** Next memo entry to take. */
  private mi = 0;
  /** Values read in this step (the memo grows by them when the step ends before the instruction does). */
  readonly reads: string[] = [];
  /** Whether the step has read or written anything yet (waiting natives start only on a clean step). */
  private dirty = false;
  /** The call the step ends with. */
  callOut: CallOut | null = null;
  private current: Instr | null = null;

  constructor(
    readonly host: EvalHost,
    readonly base: bigint,
    readonly slots: readonly number[],
    private readonly memo: readonly string[],
  ) {}

  private get replaying(): boolean {
    return this.mi < this.memo.length;
  }

  fault(f: MemFault): never {
    throw new Fault(f, this.current!);
  }

  store(addr: bigint, v: Val, t: CType): void {
    // Made in an earlier step of this instruction: memory already has it.
    if (this.replaying) return;
    this.dirty = true;
    const bytes = bytesOf(v, t);
    const f = this.host.mem.write(addr, bytes);
    if (f !== null) this.fault(f);
    // A volatile store (WRITE_ONCE) is a marked access for KCSAN; any other is plain.
    this.host.mem.note('w', addr, bytes.length, { marked: t.isVolatile === true });
  }

  // ── instructions ──────────────────────────────────────────────────────────────────────────

  /** Runs instruction `pc` of `code`; the next pc, or the function's return value. */
  run(code: readonly Instr[], pc: number): { readonly next: number } | { readonly ret: Val } {
    const i = code[pc];
    if (i === undefined) return { ret: 0n };
    this.current = i;
    switch (i.op) {
      case 'expr':
        this.eval(i.e);
        return { next: pc + 1 };
      case 'init': {
        const at = this.base + BigInt(this.slots[i.slot] ?? 0);
        if (i.zero) {
          const size = this.slotSize(i.slot);
          if (!this.replaying) {
            const f = this.host.mem.write(at, new Array<number>(size).fill(0));
            if (f !== null) this.fault(f);
          }
        }
        for (const it of i.items) this.store(at + BigInt(it.offset), this.eval(it.value), it.type);
        return { next: pc + 1 };
      }
      case 'jump':
        return { next: i.to };
      case 'branch-false':
        return { next: this.truth(this.eval(i.cond)) ? pc + 1 : i.to };
      case 'switch': {
        const v = asInt(this.eval(i.value));
        for (const c of i.cases) if (v >= c.low && v <= c.high) return { next: c.to };
        return { next: i.default };
      }
      case 'return':
        return { ret: i.value === undefined ? 0n : this.eval(i.value) };
    }
  }

  slotSizes: readonly number[] = [];
  private slotSize(slot: number): number {
    return this.slotSizes[slot] ?? 8;
  }

  private truth(v: Val): boolean {
    return asInt(v) !== 0n;
  }

  // ── lvalues ───────────────────────────────────────────────────────────────────────────────

  addrOf(lv: LValue): bigint {
    switch (lv.k) {
      case 'global':
        return this.host.globalAddr(lv.name);
      case 'local':
        return this.base + BigInt(this.slots[lv.slot] ?? 0);
      case 'string':
        return this.host.stringAddr(lv.id);
      case 'deref':
        return asInt(this.eval(lv.ptr));
      case 'member':
        return BigInt.asUintN(64, this.addrOf(lv.base) + BigInt(lv.offset));
      case 'temp':
        throw new Trap('unsupported', 'the address of a member of a returned struct');
    }
  }

  private loadLv(lv: LValue): Val {
    if (lv.k === 'temp') {
      const v = this.eval(lv.value);
      const bytes = typeof v === 'bigint' ? intBytes(v, 8) : Array.from(v);
      return valueOf(bytes.slice(lv.offset, lv.offset + (sizeOf(lv.type) ?? 8)), lv.type);
    }
    return this.loadAt(this.addrOf(lv), lv.type);
  }

  /** A load; a shared one ends the step once made. */
  loadAt(addr: bigint, t: CType): Val {
    if (this.replaying) return decodeVal(this.memo[this.mi++]!);
    const size = sizeOf(t) ?? 8;
    const r = this.host.mem.read(addr, size);
    if (!r.ok) this.fault(r.fault);
    this.host.mem.note('r', addr, size, { marked: t.isVolatile === true });
    const v = valueOf(r.bytes, t);
    this.reads.push(encodeVal(v));
    this.mi++;
    this.dirty = true;
    if (SHARED.has(r.kind)) throw new Yield(false);
    return v;
  }

  // ── expressions ───────────────────────────────────────────────────────────────────────────

  eval(e: Expr): Val {
    switch (e.k) {
      case 'const':
        return e.value;
      case 'load':
        return this.loadLv(e.lv);
      case 'decay':
      case 'addr':
        return this.addrOf(e.lv);
      case 'func':
        return this.host.funcAddr(e.name);
      case 'cast':
        return this.cast(this.eval(e.operand), e.type);
      case 'binary': {
        const a = asInt(this.eval(e.left));
        const b = asInt(this.eval(e.right));
        const r = intBinary(e.op, a, b, e.type);
        if (r === undefined) throw new Trap('divide', 'divide error');
        return r;
      }
      case 'cmp':
        return intCompare(e.op, asInt(this.eval(e.left)), asInt(this.eval(e.right)));
      case 'unary': {
        const a = asInt(this.eval(e.operand));
        if (e.op === '!') return a === 0n ? 1n : 0n;
        return wrap(e.op === '-' ? -a : ~a, e.type);
      }
      case 'ptradd':
        return BigInt.asUintN(64, asInt(this.eval(e.ptr)) + asInt(this.eval(e.index)) * BigInt(e.scale));
      case 'ptrdiff': {
        const d = BigInt.asIntN(64, asInt(this.eval(e.left)) - asInt(this.eval(e.right)));
        return e.scale === 0 ? 0n : d / BigInt(e.scale);
      }
      case 'logical': {
        const l = this.truth(this.eval(e.left));
        if (e.op === '&&' ? !l : l) return e.op === '&&' ? 0n : 1n;
        return this.truth(this.eval(e.right)) ? 1n : 0n;
      }
      case 'cond':
        return this.truth(this.eval(e.cond)) ? this.eval(e.then) : this.eval(e.else);
      case 'comma':
        this.eval(e.left);
        return this.eval(e.right);
      case 'assign': {
        const at = this.addrOf(e.target);
        const v = this.eval(e.value);
        this.store(at, v, e.target.type);
        return v;
      }
      case 'compound': {
        const at = this.addrOf(e.target);
        const old = asInt(this.loadAt(at, e.target.type));
        const rhs = asInt(this.eval(e.value));
        let r: bigint | undefined;
        if (e.scale !== undefined) {
          r = BigInt.asUintN(64, old + (e.op === '-' ? -rhs : rhs) * BigInt(e.scale));
        } else {
          r = intBinary(e.op, wrap(old, e.opType), rhs, e.opType);
          if (r === undefined) throw new Trap('divide', 'divide error');
        }
        const v = this.cast(r, e.target.type) as bigint;
        this.store(at, v, e.target.type);
        return v;
      }
      case 'incdec': {
        const at = this.addrOf(e.target);
        const old = asInt(this.loadAt(at, e.target.type));
        const step = BigInt(e.scale);
        const nv = this.cast(e.op === '++' ? old + step : old - step, e.target.type) as bigint;
        this.store(at, nv, e.target.type);
        return e.prefix ? nv : old;
      }
      case 'call':
        return this.call(e);
      case 'builtin':
        if (e.kunit !== undefined) {
          if (this.host.kunit === undefined) throw new Trap('unsupported', `${e.name} outside kprobesim kunit`);
          return this.host.kunit(e, this);
        }
        return this.host.builtin(e, e.args.map((a) => this.eval(a)));
      case 'stmt-expr': {
        let pc = 0;
        const saved = this.current;
        while (pc < e.code.length) {
          const r = this.run(e.code, pc);
          if ('ret' in r) throw new Trap('unsupported', 'return from inside a statement expression');
          pc = r.next;
        }
        this.current = saved;
        return e.result === undefined ? 0n : this.eval(e.result);
      }
    }
  }

  cast(v: Val, t: CType): Val {
    const u = unqual(t);
    if (u.kind === 'void') return 0n;
    if (u.kind === 'int' || u.kind === 'pointer') return wrap(asInt(v), u);
    return v;
  }

  private call(e: Extract<Expr, { k: 'call' }>): Val {
    let name: string;
    if (e.callee.k === 'func') name = e.callee.name;
    else {
      const target = asInt(this.eval(e.callee));
      const found = target === 0n ? undefined : this.host.funcAt(target);
      if (found === undefined) throw new Trap('null_call', target === 0n ? 'call of a NULL function pointer' : `call of ${target.toString(16)}, which is no function`);
      name = found;
    }
    const args = e.args.map((a) => this.eval(a));
    // The call is one value of the instruction, after its arguments': once made, it is in the memo.
    if (this.replaying) return decodeVal(this.memo[this.mi++]!);
    if (this.host.isCFunction(name)) {
      this.callOut = { k: 'c', fn: name, args };
      throw new Yield(true);
    }
    if (this.host.isNative(name)) {
      const r = this.host.native(name, args, e.args.map((a) => a.type), e, !this.dirty);
      if (r === 'dirty') throw new Yield(false);
      if (r === 'block') throw new Blocked();
      this.reads.push(encodeVal(r.value));
      this.mi++;
      this.dirty = true;
      throw new Yield(false);
    }
    this.callOut = { k: 'kernel', fn: name };
    throw new Yield(true);
  }

  /** Whether this step has done anything (a read or a write) yet. */
  get clean(): boolean {
    return !this.dirty && this.host.mem.writes.length === 0;
  }

  /** The instruction being run (for messages). */
  get instr(): Instr | null {
    return this.current;
  }
}

/** A native cannot complete now (a held spinlock): the step makes no progress. */
export class Blocked {}
