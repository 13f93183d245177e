import type { LoggedEvent } from '../model/events.ts';
import type { CpuState, KernelState } from '../model/state.ts';
import type { InvariantChecker, Report } from './checker.ts';

// INV-unregister: no handler of a probe starts after its unregister_kprobe returned, and the call
// returns only after every CPU has left that probe's handlers (the grace period, R64 to R67).

function runsProbe(c: CpuState, probe: string): boolean {
  return c.probes.includes(probe) || c.handler?.probe === probe || (c.prev?.probes.includes(probe) ?? false);
}

export class UnregisterChecker implements InvariantChecker {
  readonly inv = 'INV-unregister';
  /** Probes whose unregister_kprobe has returned and that were not registered again since. */
  private readonly gone = new Set<string>();

  observe(before: KernelState, e: LoggedEvent, after: KernelState, report: Report): void {
    switch (e.type) {
      case 'handler.enter':
        if (this.gone.has(e.probe)) report(e.seq, `handler of ${e.probe} started after unregister_kprobe returned (R67)`);
        break;
      case 'kprobe.register':
        this.gone.delete(e.probe);
        break;
      case 'kprobe.unregistered': {
        if (!(before.kprobes.calls[e.pid]?.effective || before.kprobes.batches[e.pid]?.effective.includes(e.probe))) break;
        this.gone.add(e.probe);
        for (const c of after.cpus) {
          if (runsProbe(c, e.probe)) report(e.seq, `unregister_kprobe(${e.probe}) returned while cpu ${c.id} is still in it (R67)`);
        }
        break;
      }
      default:
        break;
    }
  }
}
