// The `trace` file's layout per kernel release (spec R154), in one place: its header, each line's
// prefix and the context-flag columns. The `kprobesim trace` command and the shell's `trace`
// file both print through here.
//
// kernel/trace/trace.c, print_func_help_header_irq() and trace_print_context():
// * v4.14: `%16s-%-5d [%03d] ` (5-digit pids) and four flag columns (irqs-off, need-resched,
//   hardirq/softirq, preempt-depth);
// * v5.10: pids widened to 7 digits ("TASK-PID     CPU#"), still four columns (seed 003);
// * v5.11+: a fifth column, migrate-disable, and since v5.17 the first one reads
//   "irqs-off/BH-disabled" (v6.17's header).

import type { Arch } from './types.ts';
import { atLeast, type KernelVersion } from '../kernel/releases.ts';

export interface TraceLayout {
  /** Flag columns after the CPU: 4 before v5.11, 5 (migrate-disable) since. */
  readonly columns: 4 | 5;
  /** `%-Nd` of the pid: 5 before v5.10's 7. */
  readonly pidWidth: 5 | 7;
  /** The first column's legend says "irqs-off/BH-disabled" (v5.17+). */
  readonly bhDisabled: boolean;
}

export function traceLayout(kernel: KernelVersion): TraceLayout {
  return {
    columns: atLeast(kernel, '5.11') ? 5 : 4,
    pidWidth: atLeast(kernel, '5.10') ? 7 : 5,
    bhDisabled: atLeast(kernel, '5.17'),
  };
}

/**
 * Whether a breakpoint-path kprobe's handler runs in NMI context, the `Z` in the hardirq/softirq
 * column: x86's int3 handler enters NMI-like since v5.8 (exc_int3 → irqentry_nmi_enter); arm64's
 * debug exceptions from EL1 are handled as NMIs since v5.11 (arm64_enter_el1_dbg).
 */
export function breakpointIsNmi(arch: Arch, kernel: KernelVersion): boolean {
  return atLeast(kernel, arch === 'x86_64' ? '5.8' : '5.11');
}

/**
 * A record's context flags in the release's columns, from the five-column form the model writes
 * (`d.Z..`): before v5.11 there is no migrate-disable column.
 */
export function contextFlags(layout: TraceLayout, five: string): string {
  return five.slice(0, layout.columns);
}

/** The header the nop tracer prints with the default options. */
export function traceHeader(layout: TraceLayout, entries: number, written: number, cpus: number): string {
  // The legend's art sits over the flag columns, which start after the prefix: one column further
  // right for each extra pid digit.
  const pad = `#${' '.repeat(layout.pidWidth === 7 ? 30 : 28)}`;
  const legend =
    layout.columns === 5
      ? [
          `${pad}  _-----=> irqs-off${layout.bhDisabled ? '/BH-disabled' : ''}`,
          `${pad} / _----=> need-resched`,
          `${pad}| / _---=> hardirq/softirq`,
          `${pad}|| / _--=> preempt-depth`,
          `${pad}||| / _-=> migrate-disable`,
          `${pad}|||| /     delay`,
          '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
          '#              | |         |   |||||     |         |',
        ]
      : layout.pidWidth === 7
        ? [
            `${pad}  _-----=> irqs-off`,
            `${pad} / _----=> need-resched`,
            `${pad}| / _---=> hardirq/softirq`,
            `${pad}|| / _--=> preempt-depth`,
            `${pad}||| /     delay`,
            '#           TASK-PID     CPU#  ||||   TIMESTAMP  FUNCTION',
            '#              | |         |   ||||      |         |',
          ]
        : [
            `${pad}  _-----=> irqs-off`,
            `${pad} / _----=> need-resched`,
            `${pad}| / _---=> hardirq/softirq`,
            `${pad}|| / _--=> preempt-depth`,
            `${pad}||| /     delay`,
            '#           TASK-PID   CPU#  ||||    TIMESTAMP  FUNCTION',
            '#              | |       |   ||||       |         |',
          ];
  return ['# tracer: nop', '#', `# entries-in-buffer/entries-written: ${entries}/${written}   #P:${cpus}`, '#', ...legend].join('\n') + '\n';
}

/** `%5lu.%06lu`: seconds right-aligned in 5 columns, microseconds zero-padded to 6 digits. */
export function traceTimestamp(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  const usec = (ns % 1_000_000_000n) / 1000n;
  return `${sec.toString().padStart(5, ' ')}.${usec.toString().padStart(6, '0')}`;
}

/** The generic line prefix (R154): `%16s-%-7d [%03d] FLAGS %5lu.%06lu: ` (pid `%-5d` on v4.14). */
export function tracePrefix(layout: TraceLayout, r: { comm: string; pid: number; cpu: number; flags: string; timestampNs: bigint }): string {
  return `${r.comm.padStart(16, ' ')}-${String(r.pid).padEnd(layout.pidWidth, ' ')} [${String(r.cpu).padStart(3, '0')}] ${r.flags} ${traceTimestamp(r.timestampNs)}: `;
}
