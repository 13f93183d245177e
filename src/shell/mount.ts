// A host directory mounted read-only in the shell's tree (`kprobesim shell --mount HOSTDIR:/mnt`),
// as the shell sees it: a MountSource answers, for a path below the mount point, what is there.
// The shell never touches the host itself: the session gives it a source (src/session/host-dir.ts
// reads the host, confined to HOSTDIR; a replay serves the answers its log recorded).

import { E } from './messages.ts';

/** One entry of a mounted directory: `denied` is a symbolic link out of the mount or a special file. */
export interface MountEntry {
  readonly name: string;
  readonly type: 'file' | 'dir' | 'denied';
}

/** What is at a path of a mount. */
export type MountNode =
  /** A directory: its entries, sorted bytewise. */
  | { readonly dir: readonly MountEntry[] }
  /** A regular file's text. */
  | { readonly file: string }
  /** A regular file larger than a read may take (MAX_MOUNT_FILE): its size. */
  | { readonly too_big: number }
  /** Nothing readable: ENOENT (no such entry), EACCES (out of the mount, or not a file or directory). */
  | { readonly errno: number };

export interface MountSource {
  /**
   * What is at `rel` (names below the mount point, none of them "", "." or ".."). Deterministic
   * for a session: the same path gives the same answer every time.
   */
  lookup(rel: readonly string[]): MountNode;
  /** The same answer without recording it (Tab completion, which a replay does not repeat). */
  peek?(rel: readonly string[]): MountNode;
}

export interface Mount {
  /** The mount point: absolute, normalized (`/mnt`). */
  readonly path: string;
  readonly source: MountSource;
}

/** The most a read of a mounted file returns (a module's source is a few kilobytes). */
export const MAX_MOUNT_FILE = 1024 * 1024;
/** The most entries a mounted directory lists. */
export const MAX_MOUNT_ENTRIES = 4096;

/** The shell tree's own top-level directories: a mount may not hide them. */
const RESERVED = ['dev', 'proc', 'sys'];

/**
 * A mount point as typed (`/mnt`, `/home/user/mods/`): absolute, no `.`/`..` components, not `/`
 * and not inside the tree's own /dev, /proc, /sys. Returns the normalized path or a reason.
 */
export function checkMountPoint(path: string): { readonly ok: true; readonly path: string } | { readonly ok: false; readonly why: string } {
  if (!path.startsWith('/')) return { ok: false, why: 'the mount point must be an absolute path (such as /mnt)' };
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) return { ok: false, why: 'the mount point cannot be / (the tree with /sys/kernel/tracing is there)' };
  if (parts.some((p) => p === '.' || p === '..')) return { ok: false, why: 'the mount point may not contain . or .. components' };
  if (RESERVED.includes(parts[0]!)) return { ok: false, why: `/${parts[0]} is the simulated kernel's own; mount somewhere else (such as /mnt)` };
  return { ok: true, path: `/${parts.join('/')}` };
}

/** Whether one mount point contains (or is) the other. */
export function mountsOverlap(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/** A node as a log carries it, checked: a hand-edited log gets a message, not a crash. */
export function mountNodeFromJson(raw: unknown): MountNode | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'node must be an object';
  const o = raw as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 1) return 'node must have exactly one of dir, file, too_big, errno';
  if ('file' in o) return typeof o.file === 'string' && o.file.length <= MAX_MOUNT_FILE ? { file: o.file } : 'node.file must be a string of at most 1 MiB';
  if ('too_big' in o) return Number.isSafeInteger(o.too_big) && (o.too_big as number) > MAX_MOUNT_FILE ? { too_big: o.too_big as number } : 'node.too_big must be a size over 1 MiB';
  if ('errno' in o) return o.errno === E.ENOENT || o.errno === E.EACCES ? { errno: o.errno } : 'node.errno must be 2 (ENOENT) or 13 (EACCES)';
  if ('dir' in o) {
    if (!Array.isArray(o.dir) || o.dir.length > MAX_MOUNT_ENTRIES) return `node.dir must be a list of at most ${MAX_MOUNT_ENTRIES} entries`;
    const entries: MountEntry[] = [];
    for (const [i, e] of o.dir.entries()) {
      const x = e as Record<string, unknown>;
      if (typeof e !== 'object' || e === null || typeof x.name !== 'string' || !validName(x.name) || (x.type !== 'file' && x.type !== 'dir' && x.type !== 'denied')) {
        return `node.dir[${i}] must be {"name": a file name, "type": "file", "dir" or "denied"}`;
      }
      entries.push({ name: x.name, type: x.type });
    }
    return { dir: entries };
  }
  return 'node must have exactly one of dir, file, too_big, errno';
}

/** A single path component: not empty, `.` or `..`, no `/` or NUL. */
export function validName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}
