// A file whose contents the kernel generates and nobody may write (`/proc/kallsyms`,
// `available_filter_functions`): writing is refused at open time, as the mode bits say (0444).

import { ok, type FileOps } from './types.ts';

export function readOnly(contents: () => string): FileOps {
  return { readable: true, writable: false, open: () => 0, read: () => ok(contents()), write: () => 0 };
}
