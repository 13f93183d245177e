import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import type { InvariantChecker, Report } from './checker.ts';

// INV-aggr-order: at one probe point, handlers run newest-registered first. The kernel's
// add_new_kprobe (and init_aggr_kprobe for the probe that was there first) links a child with
// list_add_rcu, at the front of the aggregator's list (R8, R9); aggr_pre_handler and
// aggr_post_handler walk that list front to back (R10, R11), and so do the optimized (R86) and
// ftrace (§12) paths. So two children's handlers of one phase, in one hit, run in the reverse
// order of their linking.
//
// The checker keeps its own record of when each probe was linked (its `kprobe.insert`), not the
// fold's child list: a kernel that linked at the tail would build its list, and walk it,
// consistently wrong. Two places are checked: the child list a hit captured (`probes` of the hit
// event) and the order the CPU then enters or skips the children's handlers.

/** Where a CPU is in the walk of one hit's children: the phase and the last child reached. */
interface Walk {
  readonly phase: 'pre' | 'post';
  readonly probe: string;
  readonly linked: number;
}

export class AggrOrderChecker implements InvariantChecker {
  readonly inv = 'INV-aggr-order';
  /** The seq of each probe's latest `kprobe.insert`: a later link is a newer child. */
  private readonly linked = new Map<string, number>();
  /**
   * Each CPU's walk, by interrupt level: a timer interrupt during an ftrace-based handler starts
   * a run of its own, and the interrupted walk goes on after `irq.exit`.
   */
  private readonly walks = new Map<string, Walk | null>();

  observe(before: KernelState, e: LoggedEvent, after: KernelState, report: Report): void {
    switch (e.type) {
      case 'kprobe.insert':
        this.linked.set(e.probe, e.seq);
        break;
      // A hit captures the point's child list and begins a walk of it.
      case 'kprobe.hit':
      case 'kprobe.opt.hit':
      case 'kprobe.ftrace.hit':
        this.walks.set(walkKey(e.cpu, after), null);
        this.checkList(e.seq, e.addr, e.probes, report);
        break;
      case 'handler.enter':
      case 'handler.skip':
        if (e.phase !== 'ret') this.checkWalk(e.seq, e.cpu, e.probe, e.phase, walkKey(e.cpu, before), report);
        break;
      default:
        break;
    }
  }

  /** Within one walk, each child reached in a phase was linked before the one reached previously. */
  private checkWalk(seq: number, cpu: number, probe: string, phase: 'pre' | 'post', key: string, report: Report): void {
    const linked = this.linked.get(probe);
    if (linked === undefined) return;
    const last = this.walks.get(key) ?? null;
    if (last !== null && last.phase === phase && last.linked <= linked) {
      const rule = phase === 'pre' ? 'R10' : 'R11';
      report(seq, `cpu ${cpu}: ${phase}-handler of ${probe} reached after ${last.probe}'s, but ${probe} was registered later: children run newest first (R9, ${rule})`);
    }
    this.walks.set(key, { phase, probe, linked });
  }

  /** A hit's child list is newest first: each child was linked after the ones behind it. */
  private checkList(seq: number, addr: string, probes: readonly string[], report: Report): void {
    let newer: { probe: string; linked: number } | null = null;
    for (const probe of probes) {
      const linked = this.linked.get(probe);
      if (linked === undefined) continue;
      if (newer !== null && linked >= newer.linked) {
        report(seq, `the hit at ${addr} lists ${newer.probe} before ${probe}, which was registered later: list_add_rcu puts a new child first (R9)`);
        return;
      }
      newer = { probe, linked };
    }
  }
}

/** A walk belongs to a CPU at an interrupt level. */
function walkKey(cpu: number, s: KernelState): string {
  return `${cpu}/${s.cpus[cpu]?.in_irq ?? 0}`;
}
