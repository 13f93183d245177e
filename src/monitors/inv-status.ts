import type { LoggedEvent } from '../model/events.ts';
import type { KernelState, KprobeStatus } from '../model/state.ts';
import { steppingCpu, type InvariantChecker, type Report } from './checker.ts';

// INV-status: a CPU's kprobe_status moves only along the kernel's graph, and a hit while the
// status is KPROBE_REENTER is an unrecoverable-kprobe oops, never a silent continue.

/**
 * The kernel's kprobe_status graph (spec §6): which event may move a CPU from which status.
 * The same graph is also the CPU machine's states (src/machines/cpu.ts) and the status
 * assignments of the fold (src/model/fold/cpu.ts); this copy is kept apart on purpose, as the
 * check those two are held to, until the machine's config becomes its one definition (issue 10,
 * part 1).
 */
const GRAPH: Record<string, readonly [KprobeStatus, KprobeStatus][]> = {
  'kprobe.hit': [['idle', 'KPROBE_HIT_ACTIVE']],
  'kprobe.ftrace.hit': [['idle', 'KPROBE_HIT_ACTIVE']],
  'kprobe.opt.hit': [['idle', 'KPROBE_HIT_ACTIVE']],
  'kprobe.opt.done': [['KPROBE_HIT_ACTIVE', 'idle']],
  // R47.1: the detour buffer's copy, like a boosted one (below).
  'kprobe.detour': [
    ['KPROBE_HIT_ACTIVE', 'idle'],
    ['KPROBE_REENTER', 'KPROBE_HIT_ACTIVE'],
    ['KPROBE_REENTER', 'KPROBE_HIT_SS'],
    ['KPROBE_REENTER', 'KPROBE_HIT_SSDONE'],
  ],
  // R47.2: a boosted copy needs no single-step; a boosted reentry leaves the outer run as it was.
  'kprobe.boost': [
    ['KPROBE_HIT_ACTIVE', 'idle'],
    ['KPROBE_REENTER', 'KPROBE_HIT_ACTIVE'],
    ['KPROBE_REENTER', 'KPROBE_HIT_SS'],
    ['KPROBE_REENTER', 'KPROBE_HIT_SSDONE'],
  ],
  // R92: an ftrace-based probe has no single-step: post-handlers follow the pre-handlers.
  'kprobe.ftrace.post': [['KPROBE_HIT_ACTIVE', 'KPROBE_HIT_SSDONE']],
  'kprobe.ss': [
    ['KPROBE_HIT_ACTIVE', 'KPROBE_HIT_SS'],
    ['KPROBE_REENTER', 'KPROBE_REENTER'],
  ],
  'kprobe.miss': [
    ['KPROBE_HIT_ACTIVE', 'KPROBE_REENTER'],
    ['KPROBE_HIT_SS', 'KPROBE_REENTER'],
    ['KPROBE_HIT_SSDONE', 'KPROBE_REENTER'],
  ],
  'kprobe.ss.done': [
    ['KPROBE_HIT_SS', 'KPROBE_HIT_SSDONE'],
    ['KPROBE_REENTER', 'KPROBE_HIT_ACTIVE'],
    ['KPROBE_REENTER', 'KPROBE_HIT_SS'],
    ['KPROBE_REENTER', 'KPROBE_HIT_SSDONE'],
  ],
  // R57: the stepped copy faulted: back to NULL, or to the outer probe of a reentrant hit.
  'kprobe.ss.fault': [
    ['KPROBE_HIT_SS', 'idle'],
    ['KPROBE_REENTER', 'KPROBE_HIT_ACTIVE'],
    ['KPROBE_REENTER', 'KPROBE_HIT_SS'],
    ['KPROBE_REENTER', 'KPROBE_HIT_SSDONE'],
  ],
  'kprobe.done': [
    ['KPROBE_HIT_SSDONE', 'idle'],
    // R92: an ftrace-based probe without post-handlers is done after its pre-handlers.
    ['KPROBE_HIT_ACTIVE', 'idle'],
  ],
  'kprobe.redirect': [['KPROBE_HIT_ACTIVE', 'idle']],
  'kprobe.override': [['KPROBE_HIT_ACTIVE', 'idle']],
  'kprobe.jump': [['KPROBE_HIT_ACTIVE', 'idle']],
  // R75: a kretprobe return handler runs with current_kprobe set and HIT_ACTIVE, then NULL.
  'kretprobe.ret_handler': [['idle', 'KPROBE_HIT_ACTIVE']],
  'kretprobe.put': [['KPROBE_HIT_ACTIVE', 'idle']],
};

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
    if (a.status !== b.status || GRAPH[e.type] !== undefined) {
      const allowed = GRAPH[e.type];
      if (a.status !== b.status && !allowed?.some(([from, to]) => from === b.status && to === a.status)) {
        report(e.seq, `cpu ${b.id}: ${e.type} moved kprobe_status ${b.status} → ${a.status}`);
      }
    }
  }
}
