import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import type { Projection } from '../views/folder.ts';
import type { InvariantChecker, InvariantId, Report, Violation } from './checker.ts';
import { AggrOrderChecker } from './inv-aggr-order.ts';
import { DisabledChecker } from './inv-disabled.ts';
import { KretprobeChecker } from './inv-kretprobe.ts';
import { MutexChecker } from './inv-mutex.ts';
import { NmissedChecker } from './inv-nmissed.ts';
import { PreemptChecker } from './inv-preempt.ts';
import { RemovedRaceChecker } from './inv-removed-race.ts';
import { StatusChecker } from './inv-status.ts';
import { TextChecker } from './inv-text.ts';
import { UnregisterChecker } from './inv-unregister.ts';

export { INVARIANTS, type InvariantId, type Violation } from './checker.ts';

// Runtime monitors for the invariants of design.md, checked on every event of a run or a log.
// Each violation names the invariant, the seq where it showed and what was seen. Kernel bugs the
// model reproduces on purpose (a sleep in a handler, an unrecoverable kprobe) are not violations:
// they are events, reported as such in the summary. One checker per invariant (inv-*.ts); this
// class only runs them and collects what they report.

export class InvariantMonitor implements Projection {
  readonly violations: Violation[] = [];
  // The order is that in which one event's violations are listed (the CPU's own checks first,
  // then the handler checks in the order the kernel makes them, then the kprobe_mutex steps).
  private readonly checkers: readonly InvariantChecker[] = [
    new StatusChecker(),
    new PreemptChecker(),
    new DisabledChecker(),
    new NmissedChecker(),
    new UnregisterChecker(),
    new RemovedRaceChecker(),
    new MutexChecker(),
    new TextChecker(),
    new KretprobeChecker(),
    new AggrOrderChecker(),
  ];
  /** Each checker's report function, bound to its invariant once rather than on every event. */
  private readonly reports: readonly Report[] = this.checkers.map((c) => (seq, message) => this.flag(c.inv, seq, message));

  private flag(inv: InvariantId, seq: number, message: string): void {
    if (this.violations.length < 1000) this.violations.push({ inv, seq, message });
  }

  observe(before: KernelState, e: LoggedEvent, after: KernelState): void {
    for (let i = 0; i < this.checkers.length; i++) this.checkers[i]!.observe(before, e, after, this.reports[i]!);
  }
}
