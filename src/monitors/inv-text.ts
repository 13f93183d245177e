import type { Hex, LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import { own } from '../model/own.ts';
import type { InvariantChecker, Report } from './checker.ts';

// INV-text: the byte at an address is the breakpoint exactly while at least one armed probe
// exists there; when none remains the original byte is restored (R169).

export class TextChecker implements InvariantChecker {
  readonly inv = 'INV-text';

  observe(before: KernelState, e: LoggedEvent, after: KernelState, report: Report): void {
    switch (e.type) {
      case 'kprobe.unlink': {
        // R169: a GONE point is not restored: its memory is freed.
        const gone = own(before.kprobes.probes, e.probe)?.gone === true;
        const armed = own(before.kprobes.table, e.addr)?.armed === true;
        if (!gone && armed && (own(after.kprobes.table, e.addr) === undefined || strayBreakpoint(after, e.addr))) {
          report(e.seq, `the last probe at ${e.addr} left the table with the breakpoint still armed`);
        }
        break;
      }
      case 'text.arm':
        // R18: the probe is in the table before its breakpoint is written.
        if (strayBreakpoint(after, e.addr)) {
          report(e.seq, `breakpoint armed at ${e.addr} with no probe there (R18)`);
        }
        if (after.kprobes.all_disarmed) {
          report(e.seq, `breakpoint armed at ${e.addr} while global arming is off (R42, R169)`);
        }
        break;
      default:
        break;
    }
  }
}

/**
 * The breakpoint at `addr` is armed and no probe is there: a point with no children that the table
 * keeps only for its byte (not an emptied aggregator the optimizer still has to tear down, R68, nor
 * one a revival left enabled, R15).
 */
function strayBreakpoint(s: KernelState, addr: Hex): boolean {
  const point = own(s.kprobes.table, addr);
  return point !== undefined && point.armed && point.probes.length === 0 && point.opt?.state !== 'unopt' && point.aggr_disabled !== false;
}
