// BusyBox insmod: `insmod FILE [SYMBOL=VALUE]...`. FILE is the module's C source (the simulator
// builds it as kbuild would, so gcc's diagnostics come first when it does not build); a FILE.ko
// that does not exist names FILE.c beside it, so the seeds' `insmod kprobe_example.ko` works. The
// child `insmod` execs, opens and reads FILE, then finit_module(2). A failure is BusyBox's
// `insmod: can't insert 'FILE': <moderror()>`, and its exit status is insmod's return code as
// BusyBox computes it: the positive errno of the system call (ENOEXEC 8 for a module that does not
// build), or the negative errno of a file it could not read (ENOENT: 254).

import type { CommandContext } from '../builtins.ts';
import { E, STATUS, strerror } from '../messages.ts';
import { readInput, type Applet } from './applet.ts';

/** BusyBox's moderror(): the texts it gives some init_module(2) errors, strerror() for the rest. */
export function moderror(err: number): string {
  switch (err) {
    case -1:
      return 'no such module';
    case E.ENOEXEC:
      return 'invalid module format';
    case E.ENOENT:
      return 'unknown symbol in module, or unknown parameter';
    case E.ESRCH:
      return 'module has wrong symbol version';
    case E.ENOSYS:
      return 'kernel does not support requested operation';
  }
  return strerror(Math.abs(err));
}

/** The file insmod reads: FILE, or FILE.c for a FILE.ko that is not there. */
function sourcePath(ctx: CommandContext, file: string): string {
  if (!file.endsWith('.ko')) return file;
  const s = ctx.state;
  if (s.vfs.resolve(s.cwd, file).ok) return file;
  const c = `${file.slice(0, -3)}.c`;
  return s.vfs.resolve(s.cwd, c).ok ? c : file;
}

export const insmod: Applet = {
  usage: 'insmod FILE [SYMBOL=VALUE]...',
  summary: "build the module in C source FILE (FILE.ko: FILE.c) and load it; SYMBOL=VALUE set its module_param()s",
  inputs: (argv) => (argv[1] === undefined ? [] : [argv[1]]),
  ownKernelWork: true,
  run(ctx: CommandContext) {
    const file = ctx.argv[1];
    if (file === undefined) {
      ctx.write(2, 'Usage: insmod FILE [SYMBOL=VALUE]...\n');
      return STATUS.FAILURE;
    }
    const load = ctx.state.backend.loadModule;
    const path = sourcePath(ctx, file);
    const input = readInput(ctx, path);
    if (load === undefined) {
      ctx.write(2, `insmod: can't insert '${file}': ${moderror(E.ENOSYS)}\n`);
      return E.ENOSYS;
    }
    const r = load.call(ctx.state.backend, input.ok ? { path, source: input.data, params: ctx.argv.slice(2) } : { path, source: null, readErrno: input.errno, params: ctx.argv.slice(2) });
    if (r.diagnostics !== '') ctx.write(2, r.diagnostics);
    if (r.ret === 0) return 0;
    // A file that could not be read is BusyBox's own -errno; the system call's is errno.
    const rc = input.ok ? -r.ret : r.ret;
    ctx.write(2, `insmod: can't insert '${file}': ${moderror(rc)}\n`);
    return rc & 0xff;
  },
};
