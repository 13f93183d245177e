// `kprobe_profile` (spec §20, R157–R158): one line per probe in creation order,
// `  %-44s %15lu %15lu\n` — the event name, hits and misses. Read-only.

import type { Tracing } from '../tracing.ts';
import { E } from '../messages.ts';
import { ok, type FileOps } from './types.ts';

export function profileLine(event: string, hits: number | bigint, misses: number | bigint): string {
  return `  ${event.padEnd(44, ' ')} ${String(hits).padStart(15, ' ')} ${String(misses).padStart(15, ' ')}\n`;
}

export function kprobeProfileFile(t: Tracing): FileOps {
  return {
    readable: true,
    writable: false,
    open: () => 0,
    read: () =>
      ok(
        t.events.probes
          .map((p) => profileLine(p.probe.event, p.registered ? t.backend.hits(p.probe) : 0, p.registered ? t.backend.misses(p.probe) : 0))
          .join(''),
      ),
    write: () => E.EINVAL,
  };
}
