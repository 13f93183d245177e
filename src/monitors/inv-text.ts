import type { LoggedEvent } from '../model/events.ts';
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
        if (!gone && before.kprobes.table[e.addr]?.armed && after.kprobes.table[e.addr] === undefined) {
          report(e.seq, `the last probe at ${e.addr} left the table with the breakpoint still armed`);
        }
        break;
      }
      case 'text.arm':
        if (after.kprobes.table[e.addr] === undefined) {
          report(e.seq, `breakpoint armed at ${e.addr} with no probe there`);
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
