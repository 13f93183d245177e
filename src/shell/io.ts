// open(2) on the simulated tree: path resolution (vfs.ts), the file's mode, and the handler's
// open-time side effects (files/).

import { fileOps, type FileOps } from './files/index.ts';
import { E } from './messages.ts';
import type { Tracing } from './tracing.ts';
import type { Vfs } from './vfs.ts';

export type OpenResult =
  | { readonly ok: true; readonly ops: FileOps; readonly path: string }
  | { readonly ok: false; readonly errno: number };

/** open(path, O_RDONLY). A directory opens (reading it then fails with EISDIR). */
export function openRead(vfs: Vfs, tracing: Tracing, cwd: string, path: string): OpenResult | { readonly ok: true; readonly dir: true } {
  const r = vfs.resolve(cwd, path);
  if (!r.ok) return r;
  if (r.node.type === 'dir') return { ok: true, dir: true };
  const ops = fileOps(tracing, r.node.ref);
  if (!ops.readable) return { ok: false, errno: E.EACCES };
  const errno = ops.open({ write: false, truncate: false, append: false });
  return errno === 0 ? { ok: true, ops, path: r.path } : { ok: false, errno };
}

/**
 * open(path, O_WRONLY|O_CREAT|O_TRUNC) for `>` or O_APPEND for `>>`. A missing file cannot be
 * created anywhere in the simulated tree (EACCES, or ENOENT when its directory is missing);
 * a directory is EISDIR; a read-only file (trace_pipe, kprobe_profile, format, id) is EACCES.
 */
export function openWrite(vfs: Vfs, tracing: Tracing, cwd: string, path: string, append: boolean): OpenResult {
  const r = vfs.resolve(cwd, path);
  if (!r.ok) return { ok: false, errno: vfs.createError(cwd, path, r.errno) };
  if (r.node.type === 'dir') return { ok: false, errno: E.EISDIR };
  const ops = fileOps(tracing, r.node.ref);
  if (ops.readOnlyFs === true) return { ok: false, errno: E.EROFS };
  if (!ops.writable) return { ok: false, errno: E.EACCES };
  const errno = ops.open({ write: true, truncate: !append, append });
  return errno === 0 ? { ok: true, ops, path: r.path } : { ok: false, errno };
}
