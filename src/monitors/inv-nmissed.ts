import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import type { InvariantChecker, Report } from './checker.ts';

// INV-nmissed: for every probe, hits = handler runs + nmissed + the legitimately skipped hits of
// R53 (R168); a hit inside a handler on the same CPU never runs handlers (R50, R52).

export class NmissedChecker implements InvariantChecker {
  readonly inv = 'INV-nmissed';

  observe(before: KernelState, e: LoggedEvent, after: KernelState, report: Report): void {
    switch (e.type) {
      case 'handler.enter': {
        const c = before.cpus[e.cpu]!;
        if (c.handler !== null) report(e.seq, `cpu ${e.cpu}: handler of ${e.probe} nested in ${c.handler.probe}'s (R50)`);
        if (c.status === 'KPROBE_REENTER') report(e.seq, `cpu ${e.cpu}: handler of ${e.probe} ran in KPROBE_REENTER (R50)`);
        break;
      }
      case 'log.end':
        checkCounts(after, report);
        break;
      default:
        break;
    }
  }
}

/** R53/R168: every hit is a handler run, a miss, or a legitimate skip. */
function checkCounts(s: KernelState, report: Report): void {
  if (s.halted !== null) return;
  // A run cut off by its step limit may end with a hit whose handlers are not dispatched yet.
  const settled = s.cpus.every((c) => c.status === 'idle' && c.trap === null);
  for (const [name, p] of Object.entries(s.stats)) {
    // Faults counted as misses (R58) add to nmissed without a hit.
    const accounted = p.handled + p.nmissed + p.skipped - p.fault_misses;
    if (settled ? p.hits !== accounted : p.hits < accounted) {
      report(s.seq, `${name}: hits ${p.hits} ≠ handled ${p.handled} + nmissed ${p.nmissed} + skipped ${p.skipped}`);
    }
  }
}
