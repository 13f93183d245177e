// `trace` and `trace_pipe` (spec §19). `trace` shows the kernel header and every buffered entry
// merged by timestamp across CPUs (R154 line layout); opening it with truncation (`echo > trace`)
// empties the buffer, written data is ignored. `trace_pipe` prints the same lines without a
// header and consumes them (R155); in this simulation it never blocks: a read returns what is
// buffered, possibly nothing.

import type { Tracing } from '../tracing.ts';
import { E } from '../messages.ts';
import { ok, type FileOps } from './types.ts';

/** The header the nop tracer prints with the default options (print_func_help_header_irq, v6.x). */
export function traceHeader(entries: number, written: number, cpus: number): string {
  const pad = '#                              ';
  return (
    '# tracer: nop\n' +
    '#\n' +
    `# entries-in-buffer/entries-written: ${entries}/${written}   #P:${cpus}\n` +
    '#\n' +
    `${pad}  _-----=> irqs-off/BH-disabled\n` +
    `${pad} / _----=> need-resched\n` +
    `${pad}| / _---=> hardirq/softirq\n` +
    `${pad}|| / _--=> preempt-depth\n` +
    `${pad}||| / _-=> migrate-disable\n` +
    `${pad}|||| /     delay\n` +
    '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n' +
    '#              | |         |   |||||     |         |\n'
  );
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
      return ok(traceHeader(entries.length, entries.length + t.overrun, t.backend.cpus) + entries.map((e) => e.text).join(''));
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
