// What every program of the shell (a BusyBox applet: cat, grep, head, …) is, and the helpers
// they share: reading an operand from the simulated tree or standard input, splitting lines,
// writing the output, BusyBox's option errors.

import type { ChildStep } from '../backend.ts';
import type { CommandContext } from '../builtins.ts';
import { openRead } from '../io.ts';
import { E, msg, STATUS, strerror } from '../messages.ts';

export interface Applet {
  readonly usage: string;
  readonly summary: string;
  /**
   * The files the program reads, in order (`-`: standard input), or null when its arguments are
   * wrong (it fails before reading anything). This is what its child does in the kernel: an
   * open(2) for each file, a read(2) for each one that opened.
   */
  inputs(argv: readonly string[]): readonly string[] | null;
  /** Kernel work other than reading its inputs (sleep's nanosleep), after the exec. */
  extraWork?(argv: readonly string[]): readonly ChildStep[];
  /**
   * Its run() asks the kernel itself (insmod, rmmod: the system call's result is what it prints),
   * through a backend call that forks and runs its child; the shell forks nothing for it beforehand.
   */
  readonly ownKernelWork?: boolean;
  run(ctx: CommandContext): number;
}

export type Input = { readonly ok: true; readonly data: string } | { readonly ok: false; readonly errno: number; readonly opened: boolean };

/** Read `path` (`-`: standard input) whole. `opened`: the open succeeded and the read failed. */
/** The files an applet reads: its operands, or standard input ("-") when it has none. */
export function inputFiles(files: readonly string[]): readonly string[] {
  return files.length === 0 ? ['-'] : files;
}

export function readInput(ctx: CommandContext, path: string): Input {
  if (path === '-') return { ok: true, data: ctx.stdin };
  const s = ctx.state;
  const o = openRead(s.vfs, s.tracing, s.cwd, path);
  if (!o.ok) return { ok: false, errno: o.errno, opened: false };
  if ('dir' in o) return { ok: false, errno: E.EISDIR, opened: true };
  const r = o.ops.read();
  return r.ok ? { ok: true, data: r.data } : { ok: false, errno: r.errno, opened: true };
}

/** The lines of a text (a last line without its newline counts as a line, as in BusyBox). */
export function lines(data: string): string[] {
  if (data === '') return [];
  const all = data.split('\n');
  if (all[all.length - 1] === '') all.pop();
  return all;
}

/** Write the program's output (nothing when empty); a write error ends it with status 1. */
export function output(ctx: CommandContext, applet: string, text: string): boolean {
  if (text === '') return true;
  const errno = ctx.write(1, text);
  if (errno === 0) return true;
  ctx.write(2, msg.appletWriteError(applet, errno));
  return false;
}

/** BusyBox's message for a file that cannot be read: `APPLET: PATH: No such file or directory`. */
export function perror(ctx: CommandContext, applet: string, path: string, errno: number): void {
  ctx.write(2, `${applet}: ${path}: ${strerror(errno)}\n`);
}

/** BusyBox's `read error` message for a file that opened but could not be read (a directory). */
export function readError(ctx: CommandContext, applet: string, errno: number): void {
  ctx.write(2, `${applet}: read error: ${strerror(errno)}\n`);
}

/** `APPLET: invalid option -- 'x'`, status 1. */
export function badOption(ctx: CommandContext, applet: string, option: string): number {
  ctx.write(2, msg.invalidOption(applet, option));
  return STATUS.FAILURE;
}
