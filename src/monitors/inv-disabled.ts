import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import { own } from '../model/own.ts';
import type { InvariantChecker, Report } from './checker.ts';

// INV-disabled: no handler of a probe starts on a trap taken after its disable_kprobe returned
// (disable gives no quiescence for hits already in flight, R37, R170), and a GONE probe never
// runs again (R14).

export class DisabledChecker implements InvariantChecker {
  readonly inv = 'INV-disabled';
  /** Probes whose disable_kprobe has returned (and not re-enabled since), with that seq. */
  private readonly disabledAt = new Map<string, number>();
  /** The seq of each CPU's latest breakpoint trap. */
  private readonly trapSeq = new Map<number, number>();

  observe(before: KernelState, e: LoggedEvent, _after: KernelState, report: Report): void {
    switch (e.type) {
      case 'kprobe.trap':
        this.trapSeq.set(e.cpu, e.seq);
        break;
      case 'kprobe.returned':
        if (e.ret === 0 && e.fn === 'disable_kprobe') this.disabledAt.set(e.probe, e.seq);
        if (e.ret === 0 && e.fn === 'enable_kprobe') this.disabledAt.delete(e.probe);
        break;
      case 'kprobe.register':
        this.disabledAt.delete(e.probe);
        break;
      case 'handler.enter': {
        // R37/R170: a trap taken after disable_kprobe returned runs none of that probe's handlers.
        const off = this.disabledAt.get(e.probe);
        if (off !== undefined && (this.trapSeq.get(e.cpu) ?? 0) > off) {
          report(e.seq, `handler of ${e.probe} ran for a trap taken after disable_kprobe returned (R37)`);
        }
        // R1/R14: a GONE probe is disabled for good, even at a point that came back to life.
        if (own(before.kprobes.probes, e.probe)?.gone) report(e.seq, `handler of ${e.probe} ran although its code was freed (GONE, R14)`);
        break;
      }
      default:
        break;
    }
  }
}
