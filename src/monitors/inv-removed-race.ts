import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import type { InvariantChecker, Report } from './checker.ts';

// INV-removed-race: a kprobe-owned breakpoint trap always finds its probe in the table (disarm,
// synchronize every CPU, then unlink: R18, R55); the kernel's "int3 with no probe" oops is the
// sign that it did not.

export class RemovedRaceChecker implements InvariantChecker {
  readonly inv = 'INV-removed-race';

  observe(_before: KernelState, e: LoggedEvent, _after: KernelState, report: Report): void {
    if (e.type === 'kernel.oops' && e.message.startsWith('int3')) {
      report(e.seq, `cpu ${e.cpu} trapped at ${e.addr} and found no probe (R55)`);
    }
  }
}
