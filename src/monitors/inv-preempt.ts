import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import { steppingCpu, type InvariantChecker, type Report } from './checker.ts';

// INV-preempt: while a CPU is in any non-idle kprobe status its preempt_count is above zero
// (R59), and the scheduler never switches tasks on a CPU with preemption disabled.

export class PreemptChecker implements InvariantChecker {
  readonly inv = 'INV-preempt';

  observe(before: KernelState, e: LoggedEvent, after: KernelState, report: Report): void {
    const cpu = steppingCpu(e);
    if (cpu !== undefined) {
      const a = after.cpus[cpu]!;
      if (a.status !== 'idle' && a.preempt_count <= 0) {
        report(e.seq, `cpu ${a.id} is in ${a.status} with preempt_count ${a.preempt_count} (R59)`);
      }
    }
    if (e.type === 'sched.switch') {
      const c = before.cpus[e.cpu]!;
      if (c.preempt_count > 0 || c.status !== 'idle' || c.handler !== null || c.trap !== null) {
        report(e.seq, `cpu ${e.cpu} switched tasks with preempt_count ${c.preempt_count}, status ${c.status}`);
      }
    }
  }
}
