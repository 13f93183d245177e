// /dev/null: reads are empty, writes vanish.

import { ok, type FileOps } from './types.ts';

export function devNull(): FileOps {
  return { readable: true, writable: true, open: () => 0, read: () => ok(''), write: () => 0 };
}
