import type { Setup } from '../model/setup.ts';
import { programOf } from '../model/setup.ts';
import type { KernelState, TaskState } from '../model/state.ts';

// A task's user memory as the kernel sees it through a system call: the string its call passes
// (an `openat`'s path, given by the task operation's `path`) at a fixed user address, and, for the
// system-call wrappers that take the user's pt_regs (__x64_sys_*, __arm64_sys_*), those registers.
// Everything else of user space is unmapped: strncpy_from_user() of it is -EFAULT. The argument
// registers of the functions on the call's path hold the pointer where their C signature has it.

/** Where the path string is, and the user pt_regs the wrappers get. */
export const USER_STRING = 0x00007ffd10000000n;
export const USER_REGS = 0x00007ffd10001000n;

/** Which argument of each function of the open path is the filename (0-based); -1: the user pt_regs. */
const FILENAME_ARG: Readonly<Record<string, number>> = {
  sys_openat: 1,
  do_sys_open: 1,
  do_sys_openat2: 1,
  getname: 0,
  __x64_sys_openat: -1,
  __arm64_sys_openat: -1,
};

/** The path the task's running operation passes, if it is a call with one. */
export function currentPath(setup: Setup, task: TaskState | undefined): string | undefined {
  if (task === undefined || task.frames === null) return undefined;
  const op = programOf(setup, task.prog)[task.job];
  return op?.op === 'call' && op.path !== undefined ? op.path : undefined;
}

function pathBytes(path: string): number[] {
  return [...new TextEncoder().encode(path), 0];
}

/** The user pt_regs of a system call (x86: si holds the filename; arm64: regs[1]), 8 bytes a register. */
function userRegs(arch: string): number[] {
  const b = new Array<number>(0xa8 + 0x100).fill(0);
  // x86 struct pt_regs: si is the 14th unsigned long (offset 0x68); arm64: regs[1] at 0x8.
  const off = arch === 'x86_64' ? 0x68 : 0x8;
  let v = USER_STRING;
  for (let i = 0; i < 8; i++, v >>= 8n) b[off + i] = Number(v & 0xffn);
  return b;
}

/** Bytes of the task's user memory at `addr`, or undefined where nothing is mapped. */
export function userMemory(setup: Setup, _w: KernelState, task: TaskState | undefined): (addr: bigint, size: number) => number[] | undefined {
  return (addr, size) => {
    const path = currentPath(setup, task);
    if (path === undefined) return undefined;
    const inside = (base: bigint, bytes: number[]) => {
      if (addr < base || addr + BigInt(size) > base + BigInt(bytes.length)) return undefined;
      const off = Number(addr - base);
      return bytes.slice(off, off + size);
    };
    return inside(USER_STRING, pathBytes(path)) ?? inside(USER_REGS, userRegs(setup.symbols.image.arch));
  };
}

/**
 * The argument registers of `fn` on the task's system-call path (index → value), or undefined
 * when the running operation passes nothing: the filename pointer where the function takes it.
 */
export function syscallArgs(setup: Setup, task: TaskState | undefined, fn: string): readonly (bigint | undefined)[] | undefined {
  if (currentPath(setup, task) === undefined) return undefined;
  const i = FILENAME_ARG[fn];
  if (i === undefined) return undefined;
  if (i === -1) return [USER_REGS];
  const out: (bigint | undefined)[] = [];
  out[i] = USER_STRING;
  // openat's dfd is AT_FDCWD (-100) where a function takes it first.
  if (i === 1) out[0] = BigInt.asUintN(64, -100n);
  return out;
}
