import type { LoggedEvent } from '../model/events.ts';
import type { KernelState, KprobeStatus } from '../model/state.ts';
import { edgeKey, KPROBE_STATUS_STATES, KPROBE_STATUSES, STATUS_EDGES, STATUS_EVENTS, type StatusStateConfig } from '../machines/kprobe-status.ts';
import { steppingCpu, type InvariantChecker, type Report } from './checker.ts';

// INV-status: a CPU's kprobe_status moves only along the kernel's graph, and a hit while the status
// is KPROBE_REENTER is an unrecoverable-kprobe oops, never a silent continue.

// The allowed moves are derived from the CPU machine's config (src/machines/kprobe-status.ts):
// an event may move a CPU from one status to another exactly when the machine has that transition,
// and an event of the graph may happen in a status only if that status has a transition for it
// (the machine refuses it otherwise). The second catches a move that leaves the status as it was:
// a second kprobe.hit in KPROBE_HIT_ACTIVE is no change of status, but it is no move of the graph.

/** The event types of the graph each status has a transition for. */
const HANDLED: ReadonlyMap<KprobeStatus, ReadonlySet<string>> = new Map(
  KPROBE_STATUSES.map((s) => [s, new Set(Object.keys((KPROBE_STATUS_STATES as Readonly<Record<string, StatusStateConfig>>)[s]!.on ?? {}))]),
);

/** The events that start a kprobe run: on a CPU already running one they must be a miss (R50). */
const HITS: ReadonlySet<string> = new Set(['kprobe.hit', 'kprobe.ftrace.hit', 'kprobe.opt.hit', 'kretprobe.ret_handler']);

export class StatusChecker implements InvariantChecker {
  readonly inv = 'INV-status';

  observe(before: KernelState, e: LoggedEvent, after: KernelState, report: Report): void {
    const cpu = steppingCpu(e);
    if (cpu === undefined) return;
    const b = before.cpus[cpu]!;
    const a = after.cpus[cpu]!;
    if ((e.type === 'kprobe.hit' || e.type === 'kprobe.miss') && b.status === 'KPROBE_REENTER') {
      report(e.seq, `cpu ${b.id}: a hit in KPROBE_REENTER went on instead of "Unrecoverable kprobe detected" (R50)`);
    } else if (a.status !== b.status && STATUS_EDGES.get(e.type)?.has(edgeKey(b.status, a.status)) !== true) {
      report(e.seq, `cpu ${b.id}: ${e.type} moved kprobe_status ${b.status} → ${a.status}`);
    } else if (STATUS_EVENTS.has(e.type) && HANDLED.get(b.status)?.has(e.type) !== true) {
      const why = HITS.has(e.type) ? ': a hit on a CPU that runs a kprobe is reenter_kprobe\'s miss, its handlers do not run (R50)' : '';
      report(e.seq, `cpu ${b.id}: ${e.type} in ${b.status}, which the kprobe_status graph has no move for${why}`);
    }
  }
}
