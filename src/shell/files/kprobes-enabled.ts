// debugfs `kprobes/enabled` (R42): reads `1` or `0`; a write is parsed by kstrtobool() (`1`, `y`,
// `t`, `on` arm every probe; `0`, `n`, `f`, `off` disarm them), anything else is EINVAL.

import type { Tracing } from '../tracing.ts';
import { E } from '../messages.ts';
import { ok, type FileOps } from './types.ts';

/** lib/kstrtox.c kstrtobool(): only the first one or two characters count. */
export function kstrtobool(data: string): boolean | null {
  const [a = '', b = ''] = data;
  if ('yYtT1'.includes(a) && a !== '') return true;
  if ('nNfF0'.includes(a) && a !== '') return false;
  if (a === 'o' || a === 'O') {
    if (b === 'n' || b === 'N') return true;
    if (b === 'f' || b === 'F') return false;
  }
  return null;
}

export function kprobesEnabledFile(t: Tracing): FileOps {
  return {
    readable: true,
    writable: true,
    open: () => 0,
    read: () => ok(t.backend.kprobesFile?.('enabled') ?? ''),
    write(data) {
      const on = kstrtobool(data);
      if (on === null) return E.EINVAL;
      return t.backend.setKprobesEnabled?.(on) ?? E.EINVAL;
    },
  };
}
