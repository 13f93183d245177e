import type { KernelVersion, SymbolTable } from '../kernel/index.ts';
import { KERNEL_RELEASE } from '../kprobes/stack.ts';
import type { Frame } from '../model/state.ts';
import { accessText, type AccessType } from './access.ts';

// KCSAN's report, laid out as kernel/kcsan/report.c print_report() prints it. KCSAN's watcher
// ("this" thread) is the access that came first: it set up a watchpoint and stalled, and the
// other thread's access ran into it. report.c prints the other access first, then the watcher's
// with its stack, then the value the watcher saw change while it stalled, then who reported:
//
//   ==================================================================
//   BUG: KCSAN: data-race in bump / bump
//
//   write to 0xffffffffc0081000 of 4 bytes by task 103 on cpu 0:
//    bump+0xc/0x24 [racy]
//    ...
//
//   read to 0xffffffffc0081000 of 4 bytes by task 102 on cpu 1:
//    bump+0x4/0x24 [racy]
//    ...
//
//   value changed: 0x00000000 -> 0x00000001
//
//   Reported by Kernel Concurrency Sanitizer on:
//   CPU: 1 PID: 102 Comm: b Tainted: G           O       6.17.0-rc3 #1
//   ==================================================================

/** One side of a data race: the access and where it was made. */
export interface RaceAccess {
  readonly seq: number;
  readonly type: AccessType;
  readonly marked: boolean;
  readonly addr: bigint;
  readonly size: number;
  /** `task N` (in_task()) or `interrupt`: KCSAN's get_thread_desc(). */
  readonly by: string;
  readonly cpu: number;
  readonly pid: number;
  readonly comm: string;
  /** The stack at the access: a handler's frames over its task's, innermost first. */
  readonly handlerFrames: Frame | null;
  readonly taskFrames: Frame | null;
}

/** A found data race: `first` came first (KCSAN's watcher), `second` ran into it. */
export interface KcsanReport {
  /** The event of the second access. */
  readonly seq: number;
  readonly t: number;
  /** `data-race in a / b`, the functions in the order report.c sorts them. */
  readonly title: string;
  readonly first: RaceAccess;
  readonly second: RaceAccess;
  /** The value at the first access's bytes before and after the second access (a write that changed it). */
  readonly change: { readonly old: bigint; readonly new: bigint } | null;
  /** The report's lines, as dmesg shows them. */
  readonly lines: readonly string[];
}

const hex = (v: bigint, digits: number) => `0x${v.toString(16).padStart(digits, '0')}`;

/** A frame's line as %pS prints it: `fn+0xOFF/0xSIZE [module]`. */
function frameText(symbols: SymbolTable, f: Frame, exact: boolean): string | null {
  const fn = symbols.lookup(f.fn);
  if (fn === undefined || fn.kind !== 'func') return null;
  // The innermost frame stands on the access; a caller's line is its return address (a C
  // frame's pc stays on its calling instruction, a kernel frame's has moved past it).
  const index = exact || f.cl !== undefined ? f.pc : Math.max(0, f.pc - 1);
  const insn = fn.body[Math.min(index, fn.body.length - 1)];
  if (insn === undefined) return null;
  const off = exact ? insn.off : insn.off + insn.len;
  return `${fn.name}+0x${off.toString(16)}/0x${fn.size.toString(16)}${fn.module !== undefined ? ` [${fn.module}]` : ''}`;
}

function frames(symbols: SymbolTable, f: Frame | null, exactFirst: boolean): string[] {
  const out: string[] = [];
  let exact = exactFirst;
  for (let x = f; x !== null; x = x.up) {
    const line = frameText(symbols, x, exact);
    if (line !== null) out.push(line);
    exact = false;
  }
  return out;
}

/** The access's stack, innermost first, without the leading space stack_trace_print() adds. */
export function stackOf(symbols: SymbolTable, a: RaceAccess): string[] {
  if (a.handlerFrames === null) return frames(symbols, a.taskFrames, true);
  // The task stands on the probed instruction, which trapped into the handler.
  return [...frames(symbols, a.handlerFrames, true), ...frames(symbols, a.taskFrames, true)];
}

function fnName(pS: string | undefined): string {
  return pS === undefined ? '0x0' : pS.replace(/\+.*$/, '');
}

/** report.c orders the two functions by their %pS text ("for consistent bug titles"). */
export function titleOf(symbols: SymbolTable, first: RaceAccess, second: RaceAccess): string {
  const [a, b] = [stackOf(symbols, second)[0], stackOf(symbols, first)[0]];
  const cmp = (a ?? '') < (b ?? '') ? -1 : 1;
  return `data-race in ${fnName(cmp < 0 ? a : b)} / ${fnName(cmp < 0 ? b : a)}`;
}

/** `write to 0x… of 4 bytes by task 101 on cpu 1:` */
export function accessLine(a: RaceAccess): string {
  return `${accessText(a.type, a.marked)} to ${hex(a.addr, 16)} of ${a.size} bytes by ${a.by} on cpu ${a.cpu}:`;
}

export function reportLines(symbols: SymbolTable, kernel: KernelVersion, title: string, first: RaceAccess, second: RaceAccess, change: KcsanReport['change']): string[] {
  const rule = '==================================================================';
  const lines = [rule, `BUG: KCSAN: ${title}`, '', accessLine(second), ...stackOf(symbols, second).map((l) => ` ${l}`), '', accessLine(first), ...stackOf(symbols, first).map((l) => ` ${l}`)];
  if (change !== null) lines.push('', `value changed: ${hex(change.old, first.size * 2)} -> ${hex(change.new, first.size * 2)}`);
  // The watcher reports, from its own context; a module is loaded: the kernel is tainted O.
  lines.push('', 'Reported by Kernel Concurrency Sanitizer on:', `CPU: ${first.cpu} PID: ${first.pid} Comm: ${first.comm} Tainted: G           O       ${KERNEL_RELEASE[kernel]} #1`, rule);
  return lines;
}
