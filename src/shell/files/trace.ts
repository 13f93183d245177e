// `trace` and `trace_pipe` (spec §19). `trace` shows the kernel header and every buffered entry
// merged by timestamp across CPUs (R154 line layout); opening it with truncation (`echo > trace`)
// empties the buffer, written data is ignored. `trace_pipe` prints the same lines without a
// header and consumes them (R155); in this simulation it never blocks: a read returns what is
// buffered, possibly nothing.

import type { Tracing } from '../tracing.ts';
import { E } from '../messages.ts';
import { ok, type FileOps } from './types.ts';
import { traceHeader as header, traceLayout } from '../../tracefs/trace-layout.ts';
import { DEFAULT_KERNEL } from '../../kernel/releases.ts';

/** The reference kernel's header (the one implementation is src/tracefs/trace-layout.ts). */
export function traceHeader(entries: number, written: number, cpus: number): string {
  return header(traceLayout(DEFAULT_KERNEL), entries, written, cpus);
}

export function traceFile(t: Tracing): FileOps {
  return {
    readable: true,
    writable: true,
    open(flags) {
      if (flags.write && flags.truncate) t.resetBuffer();
      return 0;
    },
    read() {
      const entries = t.orderedEntries();
      return ok(header(t.layout, entries.length, entries.length + t.overrun, t.backend.cpus) + entries.map((e) => e.text).join(''));
    },
    write: () => 0,
  };
}

export function tracePipeFile(t: Tracing): FileOps {
  return {
    readable: true,
    writable: false,
    open: () => 0,
    read: () => ok(t.consumeAll().map((e) => e.text).join('')),
    write: () => E.EINVAL,
  };
}
