import type { Arch, SymbolTable } from '../kernel/index.ts';
import type { Frame, TaskState } from '../model/state.ts';

// What a probe handler sees of the interrupted context (pt_regs, the kernel stack, memory), made
// from the model's state. The model runs instructions, not C, so only some of it is real:
//
// * real: the IP (`%ip` just past the int3 on x86, `%pc` the probe address on arm64: see
//   breakpointPc(); in a return handler the return site), `$retval` at a return, `$comm`, the stack
//   pointer of the task's kernel stack at its call depth, and the return address: on x86_64 the
//   word at the stack pointer at a function entry (`$stack0`), on arm64 the link register
//   (`%lr`/`%x30`), where `[sp]` is the caller's frame record (a stack address, as `+0($stack)`
//   shows in the seeds' session);
// * modelled: `$arg1` points into the caller's frame (a struct passed by reference, as
//   kernel_clone's `struct kernel_clone_args *`); the other argument registers hold 0; the
//   flags say interrupts were enabled in the task;
// * memory: other kernel addresses read 0 (R153's "meaningless value", 0 in the model); user
//   memory is not mapped, so a `+u`/`ustring` read faults; a kernel string reads as "".

interface ArchRegs {
  /** Registers of the first integer arguments (`$argN`). */
  readonly args: readonly string[];
  readonly ip: string;
  readonly ret: string;
  /** The flags register and its value in a task with interrupts enabled. */
  readonly flags: readonly [string, bigint];
  /** Where tasks' kernel stacks live (vmap'd stacks). */
  readonly stackArea: bigint;
}

const ARCH_REGS: Readonly<Record<Arch, ArchRegs>> = {
  x86_64: { args: ['di', 'si', 'dx', 'cx', 'r8', 'r9'], ip: 'ip', ret: 'ax', flags: ['flags', 0x246n], stackArea: 0xffffc90000000000n },
  arm64: { args: ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'], ip: 'pc', ret: 'x0', flags: ['pstate', 0x60000005n], stackArea: 0xffff800012000000n },
};

/**
 * The names a handler's C code uses for the instruction pointer and the status register of its
 * arch's `struct pt_regs` (`regs->ip`, `regs->flags` on x86; `regs->pc`, `regs->pstate` on
 * arm64): the placeholders of handler texts follow them, as the C compiles only with its arch's.
 */
export function pcName(arch: Arch): string {
  return ARCH_REGS[arch].ip;
}
export function statusName(arch: Arch): string {
  return ARCH_REGS[arch].flags[0];
}

/** The arch whose pt_regs has this IP or status field (`ip` → x86_64, `pstate` → arm64), if any. */
export function archOfPcOrStatus(name: string): Arch | undefined {
  return (Object.keys(ARCH_REGS) as Arch[]).find((a) => pcName(a) === name || statusName(a) === name);
}

/**
 * The saved status register a handler sees, regs->flags or regs->pstate: the interrupted task
 * context's (handlers run for hits in task context, R50). x86 EFLAGS 0x246: IF (0x200) set,
 * ZF|PF and the reserved bit 1. arm64 SPSR 0x60000005: EL1h (M[3:0] = 0x5), DAIF clear (the
 * task ran with interrupts unmasked; the handler itself runs masked, but that is PSTATE now, not
 * the saved one), and NZCV = Z|C from the task's last comparison; seed 003 prints 0x60000005.
 */
export function taskStatus(arch: Arch): bigint {
  return ARCH_REGS[arch].flags[1];
}

/**
 * regs->ip / regs->pc when a breakpoint handler runs. x86's int3 is a trap: the saved IP is just
 * past the one-byte int3, p->addr + 1 (kprobe_int3_handler() then looks up ip - 1; the ftrace
 * and optimized paths set the same value for the handlers). arm64's BRK is a synchronous
 * exception: ELR_EL1 holds the address of the BRK itself, so regs->pc == p->addr (seed 003: pc
 * is kernel_clone's address).
 */
export function breakpointPc(arch: Arch, addr: bigint): bigint {
  return arch === 'x86_64' ? addr + 1n : addr;
}

const THREAD_SIZE = 0x4000n;
/** Bytes of the stack used below the top before the first frame (pt_regs of the syscall). */
const ENTRY_FRAME = 0xa8n;
/** Bytes each call level takes on the stack in the model. */
const FRAME_BYTES = 0x40n;
const USER_LIMIT = 0x0000800000000000n;

/** The top of a task's kernel stack: one THREAD_SIZE slot (and a guard) per pid. */
export function stackTop(arch: Arch, pid: number): bigint {
  return ARCH_REGS[arch].stackArea + BigInt(pid + 1) * THREAD_SIZE * 2n;
}

function depth(f: Frame | null): number {
  let n = 0;
  for (let fr = f; fr !== null; fr = fr.up) n++;
  return n;
}

/** Just past instruction `index` of function `name`. */
function pastInsn(symbols: SymbolTable, name: string, index: number): bigint | undefined {
  const fn = symbols.lookup(name);
  if (fn?.kind !== 'func') return undefined;
  const insn = fn.body[Math.max(0, Math.min(index, fn.body.length - 1))]!;
  return fn.addr + BigInt(insn.off + insn.len);
}

/**
 * Where a frame returns to: just past the call instruction in its caller, or, for the outermost
 * frame, into the system-call entry (a task's operations are what its system calls do).
 */
export function returnAddress(symbols: SymbolTable, frame: Frame): bigint {
  const up = frame.up;
  // A caller's pc has already moved past its call; a C caller's stands on it (src/cexec).
  if (up !== null) return pastInsn(symbols, up.fn, up.cl !== undefined ? up.pc : up.pc - 1) ?? 0n;
  const entry = symbols.lookup(symbols.image.entryChain[0] ?? '');
  if (entry?.kind !== 'func') return 0n;
  // arm64's entry frame calls the system-call wrappers; x86's entry stub in the model has no
  // call of the task's function, so its return lands on the stub's last instruction.
  const i = entry.body.findIndex((x) => x.op.k === 'call' && x.op.fn === frame.fn);
  return i >= 0 ? pastInsn(symbols, entry.name, i)! : entry.addr + BigInt(entry.size - 1);
}

/** The address of the instruction a frame executes next (its function's end when it has none left). */
export function resumeAddress(symbols: SymbolTable, frame: Frame): bigint {
  const fn = symbols.lookup(frame.fn);
  if (fn?.kind !== 'func') return 0n;
  const insn = fn.body[frame.pc];
  return fn.addr + BigInt(insn === undefined ? fn.size : insn.off);
}

/** The call chain for ftrace's `<stack trace>`, innermost first, ending in the system-call entry. */
export function stackNames(symbols: SymbolTable, frame: Frame | null): string[] {
  const out: string[] = [];
  for (let fr = frame; fr !== null; fr = fr.up) out.push(fr.fn);
  return [...out, ...symbols.image.entryChain];
}

export interface Hit {
  readonly task: TaskState;
  /** The frame of the probed function (the innermost frame at the hit). */
  readonly frame: Frame;
  readonly ip: bigint;
  /** At a function entry: the return address is still where the call put it. */
  readonly atEntry: boolean;
  readonly retval: bigint | null;
  /** A system call's arguments where the model knows them (src/cexec/user-memory.ts), by position. */
  readonly args?: readonly (bigint | undefined)[];
}

/**
 * The probed context as a handler or a fetch argument reads it (pt_regs, the stack, memory).
 * Reads return null when they would fault. The shell's fetch arguments use the same shape
 * (src/shell/fetch-eval.ts), whatever backend provides it.
 */
export interface ProbedRegs {
  /** A register by its arch name (`di`, `x0`, `sp`, …); unknown names read 0. */
  reg(name: string): bigint;
  readonly sp: bigint;
  /** The return value (return probes), else null. */
  readonly retval: bigint | null;
  /** `$argN` (1-based): from the calling convention's registers, then the stack. */
  arg(index: number, fromEntry: boolean): bigint | null;
  /** An 8-byte load. */
  load(address: bigint, user: boolean): bigint | null;
  /** A NUL-terminated string. */
  loadString(address: bigint, user: boolean): string | null;
  /** A data symbol's address (`@SYM`). */
  symbolAddress(name: string): bigint | undefined;
  readonly comm: string;
}

export function probedContext(symbols: SymbolTable, hit: Hit): ProbedRegs {
  const arch = symbols.image.arch;
  const a = ARCH_REGS[arch];
  const d = BigInt(depth(hit.frame));
  const x86 = arch === 'x86_64';
  // x86's call has pushed the return address at an entry; elsewhere the frame is set up below.
  const sp = stackTop(arch, hit.task.pid) - ENTRY_FRAME - FRAME_BYTES * d - (hit.atEntry ? 0n : 0x10n);
  const retAddr = returnAddress(symbols, hit.frame);
  const regs: Record<string, bigint> = {
    [a.ip]: hit.ip,
    sp,
    [a.flags[0]]: a.flags[1],
    [a.args[0]!]: sp + 0x28n,
  };
  if (hit.retval !== null) regs[a.ret] = hit.retval;
  hit.args?.forEach((v, i) => {
    if (v !== undefined && a.args[i] !== undefined) regs[a.args[i]!] = v;
  });
  if (!x86) {
    regs.x29 = sp;
    regs.x30 = retAddr;
  }
  const load = (address: bigint, user: boolean): bigint | null => {
    const v = BigInt.asUintN(64, address);
    if (user || v < USER_LIMIT) return null;
    if (!hit.atEntry || v !== sp) return 0n;
    // x86: the return address the call pushed; arm64: the caller's frame record (its x29).
    return x86 ? retAddr : sp + FRAME_BYTES;
  };
  return {
    reg: (name) => regs[name === 'lr' ? 'x30' : name] ?? 0n,
    sp,
    retval: hit.retval,
    arg: (index) => {
      const r = a.args[index - 1];
      // Arguments past the register ones are on the stack.
      return r !== undefined ? (regs[r] ?? 0n) : load(sp + 8n * BigInt(index - a.args.length), false);
    },
    load,
    loadString: (address, user) => (user || address < USER_LIMIT ? null : ''),
    symbolAddress: (name) => symbols.lookup(name)?.addr,
    comm: hit.task.comm,
  };
}
