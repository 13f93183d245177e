// A host directory as a mount's source (`kprobesim shell --mount HOSTDIR:/mnt`): the only part of
// the host a session can read. Every path is resolved with realpath and must stay inside HOSTDIR
// (itself resolved once, when mounted): a symbolic link that leads out, or anything that is not a
// regular file or a directory (a FIFO would block, a device is not data), is EACCES, as a
// Landlock-confined process is refused outside its hierarchy. The shell never builds a host path
// from `..` (its tree resolves `..` itself, vfs.ts), and names are checked again here. Reads take
// at most MAX_MOUNT_FILE bytes; nothing is ever written.

import { closeSync, constants, fstatSync, openSync, readdirSync, readlinkSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join, sep } from 'node:path';
import { InputError } from '../errors.ts';
import { Errno } from '../errno.ts';
import { MAX_MOUNT_ENTRIES, MAX_MOUNT_FILE, validName, type MountEntry, type MountNode, type MountSource } from '../shell/mount.ts';

const { ENOENT, EACCES } = Errno;

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

export class HostDir implements MountSource {
  /** HOSTDIR, resolved. */
  readonly root: string;

  /** `option`: how the user named it, for messages (`--mount`). */
  constructor(hostDir: string, option = '--mount') {
    let root: string;
    try {
      root = realpathSync(hostDir);
    } catch {
      throw new InputError(option, `${hostDir}: no such directory on the host`);
    }
    if (!statSync(root).isDirectory()) throw new InputError(option, `${hostDir}: not a directory`);
    this.root = root;
  }

  /** A resolved host path is HOSTDIR or below it. */
  private inside(real: string): boolean {
    return real === this.root || real.startsWith(this.root.endsWith(sep) ? this.root : this.root + sep);
  }

  /** The real path of `path`, if it exists and stays inside; else the errno to report. */
  private resolve(path: string): { readonly real: string; readonly st: Stats } | { readonly errno: number } {
    let real: string;
    try {
      real = realpathSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return { errno: code === 'ENOENT' || code === 'ENOTDIR' ? ENOENT : EACCES };
    }
    if (!this.inside(real)) return { errno: EACCES };
    try {
      return { real, st: statSync(real) };
    } catch {
      return { errno: EACCES };
    }
  }

  lookup(rel: readonly string[]): MountNode {
    if (!rel.every(validName)) return { errno: EACCES };
    const r = this.resolve(join(this.root, ...rel));
    if ('errno' in r) return r;
    if (r.st.isDirectory()) return this.list(r.real);
    if (!r.st.isFile()) return { errno: EACCES };
    if (r.st.size > MAX_MOUNT_FILE) return { too_big: r.st.size };
    return this.read(r.real);
  }

  peek(rel: readonly string[]): MountNode {
    return this.lookup(rel);
  }

  private list(real: string): MountNode {
    let names: string[];
    try {
      names = readdirSync(real).sort(byBytes).slice(0, MAX_MOUNT_ENTRIES);
    } catch {
      return { errno: EACCES };
    }
    const entries: MountEntry[] = names.filter(validName).map((name) => {
      const r = this.resolve(join(real, name));
      const type = 'errno' in r ? 'denied' : r.st.isDirectory() ? 'dir' : r.st.isFile() ? 'file' : 'denied';
      return { name, type };
    });
    return { dir: entries };
  }

  private read(real: string): MountNode {
    let fd: number;
    try {
      // O_NOFOLLOW: `real` has no links left, so a link put there since is refused; O_NONBLOCK:
      // a FIFO swapped in cannot block the session.
      fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      return { errno: EACCES };
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return { errno: EACCES };
      // What was opened, as the kernel names it: still inside (a parent swapped for a link since
      // the realpath would show here). Without /proc the realpath check above stands alone.
      const opened = procFdPath(fd);
      if (opened !== null && !this.inside(opened)) return { errno: EACCES };
      const buf = Buffer.alloc(Math.min(st.size, MAX_MOUNT_FILE) + 1);
      let n = 0;
      for (;;) {
        const got = readSync(fd, buf, n, buf.length - n, null);
        if (got === 0) break;
        n += got;
        if (n === buf.length) break;
      }
      if (n > MAX_MOUNT_FILE) return { too_big: Math.max(st.size, n) };
      return { file: buf.subarray(0, n).toString('utf8') };
    } catch {
      return { errno: EACCES };
    } finally {
      closeSync(fd);
    }
  }
}

function procFdPath(fd: number): string | null {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}
