import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import { own } from '../model/own.ts';
import type { InvariantChecker, Report } from './checker.ts';

// INV-kretprobe: live instances ≤ maxactive; each instance is taken and given back exactly once;
// each return handler sees its own call; a hit with an empty pool increments nmissed (R72 to R80).

export class KretprobeChecker implements InvariantChecker {
  readonly inv = 'INV-kretprobe';
  /** kretprobe instances taken and not yet given back. */
  private readonly live = new Set<string>();

  observe(before: KernelState, e: LoggedEvent, after: KernelState, report: Report): void {
    switch (e.type) {
      case 'kretprobe.take':
        if (this.live.has(e.instance)) report(e.seq, `instance ${e.instance} taken twice`);
        this.live.add(e.instance);
        checkPool(after, e.probe, e.seq, report);
        break;
      case 'kretprobe.put':
        if (!this.live.delete(e.instance)) report(e.seq, `instance ${e.instance} given back but not taken`);
        checkPool(after, e.probe, e.seq, report);
        break;
      case 'kretprobe.miss': {
        const pool = own(before.kretprobes, e.probe);
        if (pool !== undefined && pool.attached && pool.free > 0) {
          report(e.seq, `${e.probe} counted a pool miss with ${pool.free} free instances (R73)`);
        }
        break;
      }
      case 'kretprobe.ret_handler': {
        // R75/R76: the handler runs for an instance of the frame that is returning, newest first.
        const t = before.cpus[e.cpu]!.trampoline;
        if (t === null || t.pending[0] !== e.instance) {
          report(e.seq, `return handler of ${e.instance} is not for the call returning on cpu ${e.cpu}`);
        }
        break;
      }
      case 'task.exit':
        // R78: the instances of a task that never returns come back when it is freed.
        for (let f = before.tasks.find((t) => t.pid === e.pid)?.frames ?? null; f !== null; f = f.up) {
          for (const inst of f.rp ?? []) this.live.delete(inst);
        }
        break;
      default:
        break;
    }
  }
}

/** Live instances never exceed maxactive, nor go below zero free. */
function checkPool(s: KernelState, probe: string, seq: number, report: Report): void {
  const pool = own(s.kretprobes, probe);
  if (pool !== undefined && (pool.free < 0 || pool.free > pool.maxactive)) {
    report(seq, `${probe}: ${pool.free} free of maxactive ${pool.maxactive}`);
  }
}
