import type { SymbolTable } from '../kernel/index.ts';
import type { Frame, TaskState } from '../model/state.ts';
import type { ProbedContext } from '../shell/fetch-eval.ts';

// What a probe handler sees of the interrupted context (pt_regs, the kernel stack, memory), made
// from the model's state. The model runs instructions, not C, so only some of it is real:
//
// * real: `%ip` (the probe address), `$retval`/`%ax` at a return, `$comm`, the stack pointer of
//   the task's kernel stack at its call depth, and `$stack0` at a function entry, which holds
//   the return address into the caller (what `+0($stack)` reads in the seeds' session);
// * modelled: `$arg1` points into the caller's frame (a struct passed by reference, as
//   kernel_clone's `struct kernel_clone_args *`); the other argument registers hold 0;
//   `flags` is 0x246 (interrupts were enabled in the task);
// * memory: the task's own stack words other than the return address read 0, as does any other
//   kernel address (R153's "meaningless value", 0 in the model); user memory is not mapped, so a
//   `+u`/`ustring` read faults; a kernel string reads as "".

/** x86_64 calling convention: the first six integer arguments (§15.6 `$argN`). */
const ARG_REGS = ['di', 'si', 'dx', 'cx', 'r8', 'r9'] as const;
const STACK_AREA = 0xffffc90000000000n;
const THREAD_SIZE = 0x4000n;
/** Bytes of the stack used below the top before the first frame (pt_regs of the syscall). */
const ENTRY_FRAME = 0xa8n;
/** Bytes each call level takes on the stack in the model. */
const FRAME_BYTES = 0x40n;
const USER_LIMIT = 0x0000800000000000n;

/** The top of a task's kernel stack: one THREAD_SIZE slot per pid in the vmalloc'd stack area. */
export function stackTop(pid: number): bigint {
  return STACK_AREA + BigInt(pid + 1) * THREAD_SIZE * 2n;
}

function depth(f: Frame | null): number {
  let n = 0;
  for (let fr = f; fr !== null; fr = fr.up) n++;
  return n;
}

/**
 * Where a frame returns to: just past the call instruction in its caller, or into the system
 * call entry for the outermost frame (a task's operations are what its system calls do).
 */
export function returnAddress(symbols: SymbolTable, frame: Frame): bigint {
  const up = frame.up;
  if (up === null) {
    const entry = symbols.lookup('entry_SYSCALL_64');
    return entry === undefined ? 0n : entry.addr + BigInt(Math.max(0, entry.size - 1));
  }
  const fn = symbols.lookup(up.fn);
  if (fn?.kind !== 'func') return 0n;
  const insn = fn.body[Math.max(0, up.pc - 1)]!;
  return fn.addr + BigInt(insn.off + insn.len);
}

/** The call chain for ftrace's `<stack trace>`, innermost first, ending in the syscall entry. */
export function stackNames(frame: Frame | null): string[] {
  const out: string[] = [];
  for (let fr = frame; fr !== null; fr = fr.up) out.push(fr.fn);
  out.push('entry_SYSCALL_64');
  return out;
}

export interface Hit {
  readonly task: TaskState;
  /** The frame of the probed function (the innermost frame at the hit). */
  readonly frame: Frame;
  readonly ip: bigint;
  /** At a function entry `[sp]` holds the return address. */
  readonly atEntry: boolean;
  readonly retval: bigint | null;
}

export function probedContext(symbols: SymbolTable, hit: Hit): ProbedContext {
  const d = BigInt(depth(hit.frame));
  // At the entry the call has pushed the return address; elsewhere the frame is set up below it.
  const sp = stackTop(hit.task.pid) - ENTRY_FRAME - FRAME_BYTES * d + (hit.atEntry ? 0n : -0x10n);
  const retAddr = returnAddress(symbols, hit.frame);
  const callerFrame = sp + (hit.atEntry ? 8n : 0x18n) + 0x20n;
  const regs: Record<string, bigint> = {
    ip: hit.ip,
    sp,
    flags: 0x246n,
    ax: hit.retval ?? 0n,
    di: callerFrame,
  };
  const load = (address: bigint, user: boolean): bigint | null => {
    const a = BigInt.asUintN(64, address);
    if (user || a < USER_LIMIT) return null;
    return hit.atEntry && a === sp ? retAddr : 0n;
  };
  return {
    reg: (name) => regs[name] ?? 0n,
    sp,
    retval: hit.retval,
    arg: (index) => {
      const r = ARG_REGS[index - 1];
      // Arguments past the sixth are on the stack above the return address.
      return r !== undefined ? (regs[r] ?? 0n) : load(sp + 8n * BigInt(index - ARG_REGS.length), false);
    },
    load,
    loadString: (address, user) => (user || address < USER_LIMIT ? null : ''),
    symbolAddress: (name) => symbols.lookup(name)?.addr,
    comm: hit.task.comm,
  };
}
