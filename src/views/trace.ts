import type { LoggedEvent } from '../model/events.ts';
import { findTask } from '../model/queries.ts';
import type { KernelState } from '../model/state.ts';
import type { SymbolTable } from '../kernel/index.ts';
import { kernelTimestamp } from './clock.ts';
import type { Projection } from './folder.ts';

// A first ftrace `trace` view: one record per probe hit whose handlers ran, in the kernel's line
// layout (spec R152, R154). Breakpoint-path kprobes run NMI-like with interrupts off: `d.Z..`.

const HEADER = (entries: number, cpus: number) => [
  '# tracer: nop',
  '#',
  `# entries-in-buffer/entries-written: ${entries}/${entries}   #P:${cpus}`,
  '#',
  '#                                _-----=> irqs-off/BH-disabled',
  '#                               / _----=> need-resched',
  '#                              | / _---=> hardirq/softirq',
  '#                              || / _--=> preempt-depth',
  '#                              ||| / _-=> migrate-disable',
  '#                              |||| /     delay',
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
  '#              | |         |   |||||     |         |',
];

export class TraceView implements Projection {
  private readonly records: string[] = [];

  constructor(private readonly symbols: SymbolTable) {}

  observe(before: KernelState, e: LoggedEvent): void {
    // A record per probe whose pre-phase dispatch happened (the event's handler ran).
    const ran =
      (e.type === 'handler.enter' && e.phase === 'pre') ||
      (e.type === 'handler.skip' && e.phase === 'pre' && e.reason === 'no_handler');
    if (!ran) return;
    const cpu = before.cpus[e.cpu]!;
    const pid = before.sched.curr[e.cpu] ?? 0;
    const comm = findTask(before, pid)?.comm ?? '<idle>';
    const addr = cpu.current === null ? 0n : BigInt(cpu.current);
    const where = this.symbols.format(addr) ?? `0x${addr.toString(16).padStart(8, '0')}`;
    const head = `${comm.padStart(16, ' ')}-${String(pid).padEnd(7, ' ')} [${String(e.cpu).padStart(3, '0')}] d.Z.. ${kernelTimestamp(e.t)}: `;
    this.records.push(`${head}${e.probe}: (${where})`);
  }

  text(cpus: number): string {
    return [...HEADER(this.records.length, cpus), ...this.records].join('\n') + '\n';
  }
}
