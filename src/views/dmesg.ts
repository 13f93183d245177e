import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import { kernelTimestamp } from './clock.ts';
import type { Projection } from './folder.ts';

/** The kernel log as `dmesg` prints it: `[    0.000066] text`. */
export class DmesgView implements Projection {
  readonly lines: string[] = [];

  observe(_before: KernelState, e: LoggedEvent): void {
    if (e.type === 'printk') this.lines.push(`[${kernelTimestamp(e.t)}] ${e.text}`);
  }

  /** A line a checker of the run prints at time `t` (KCSAN's reports: src/kcsan), in order with the rest. */
  print(t: number, text: string): void {
    this.lines.push(`[${kernelTimestamp(t)}] ${text}`);
  }
}
