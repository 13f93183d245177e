import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import { edgeKey, STATUS_EDGES } from '../machines/kprobe-status.ts';
import { steppingCpu, type InvariantChecker, type Report } from './checker.ts';

// INV-status: a CPU's kprobe_status moves only along the kernel's graph, and a hit while the
// status is KPROBE_REENTER is an unrecoverable-kprobe oops, never a silent continue.

// The allowed moves are derived from the CPU machine's config (src/machines/kprobe-status.ts):
// an event may move a CPU from one status to another exactly when the machine has that transition.

export class StatusChecker implements InvariantChecker {
  readonly inv = 'INV-status';

  observe(before: KernelState, e: LoggedEvent, after: KernelState, report: Report): void {
    const cpu = steppingCpu(e);
    if (cpu === undefined) return;
    const b = before.cpus[cpu]!;
    const a = after.cpus[cpu]!;
    if ((e.type === 'kprobe.hit' || e.type === 'kprobe.miss') && b.status === 'KPROBE_REENTER') {
      report(e.seq, `cpu ${b.id}: a hit in KPROBE_REENTER went on instead of "Unrecoverable kprobe detected" (R50)`);
    }
    if (a.status !== b.status && STATUS_EDGES.get(e.type)?.has(edgeKey(b.status, a.status)) !== true) {
      report(e.seq, `cpu ${b.id}: ${e.type} moved kprobe_status ${b.status} → ${a.status}`);
    }
  }
}
