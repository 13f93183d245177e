// A regular file of a mounted host directory: read whole (at most MAX_MOUNT_FILE bytes: a bigger
// one fails its read with EFBIG), never written (the mount is read-only: EROFS at open time).

import type { MountSource } from '../mount.ts';
import { E } from '../messages.ts';
import { fail, ok, type FileOps } from './types.ts';

export function hostFile(source: MountSource, rel: readonly string[], peek: boolean): FileOps {
  return {
    readable: true,
    writable: false,
    readOnlyFs: true,
    open: () => 0,
    read: () => {
      const node = peek && source.peek ? source.peek(rel) : source.lookup(rel);
      if ('file' in node) return ok(node.file);
      if ('too_big' in node) return fail(E.EFBIG);
      if ('dir' in node) return fail(E.EISDIR);
      return fail(node.errno);
    },
    write: () => E.EROFS,
  };
}
