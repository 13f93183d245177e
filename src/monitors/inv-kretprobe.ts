import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import { own } from '../model/own.ts';
import { instanceOfCurrentPool, instanceProbe } from '../model/fold/pools.ts';
import type { InvariantChecker, Report } from './checker.ts';

// INV-kretprobe: live instances ≤ maxactive; each instance is taken and given back exactly once;
// each return handler sees its own call; a hit with an empty pool increments nmissed (R72 to R80).
// A pool's free count is also held to the calls that hold its instances: `free` equals maxactive
// minus the instances some call still has (R72). Without that, an instance that a returning call
// never gave back (R75) would only show later as an empty pool, which looks like a legitimate miss.

export class KretprobeChecker implements InvariantChecker {
  readonly inv = 'INV-kretprobe';
  /** kretprobe instances taken and not yet given back. */
  private readonly live = new Set<string>();
  /** The instances each CPU's trampoline is walking (R75): all are given back before it returns. */
  private readonly returning = new Map<number, readonly string[]>();

  observe(before: KernelState, e: LoggedEvent, after: KernelState, report: Report): void {
    switch (e.type) {
      case 'kretprobe.take':
        if (this.live.has(e.instance)) report(e.seq, `instance ${e.instance} taken twice`);
        this.live.add(e.instance);
        checkPool(after, e.probe, e.seq, report);
        checkHeld(after, e.probe, this.walked(), e.seq, report);
        break;
      case 'kretprobe.put':
        if (!this.live.delete(e.instance)) report(e.seq, `instance ${e.instance} given back but not taken`);
        checkPool(after, e.probe, e.seq, report);
        checkHeld(after, e.probe, this.walked(), e.seq, report);
        break;
      case 'kretprobe.miss': {
        const pool = own(before.kretprobes, e.probe);
        if (pool !== undefined && pool.attached && pool.free > 0) {
          report(e.seq, `${e.probe} counted a pool miss with ${pool.free} free instances (R73)`);
        }
        checkHeld(before, e.probe, this.walked(), e.seq, report);
        break;
      }
      case 'kretprobe.trampoline':
        this.returning.set(e.cpu, e.instances);
        break;
      case 'kretprobe.return': {
        // R75: the frame's instances are unlinked and given back before the real return.
        const walked = this.returning.get(e.cpu) ?? [];
        this.returning.delete(e.cpu);
        for (const inst of walked) {
          if (this.live.has(inst)) report(e.seq, `${e.fn} returned on cpu ${e.cpu} without giving back instance ${inst}: it leaks from ${instanceProbe(inst)}'s pool (R75)`);
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
      case 'kunit.throw': {
        // R78: the instances of a task that never returns come back when it is freed; a KUnit
        // assertion that ends a call gives back those of the frames it drops.
        const kept = new Set<string>();
        for (let f = after.tasks.find((t) => t.pid === e.pid)?.frames ?? null; f !== null; f = f.up) for (const inst of f.rp ?? []) kept.add(inst);
        for (let f = before.tasks.find((t) => t.pid === e.pid)?.frames ?? null; f !== null; f = f.up) {
          for (const inst of f.rp ?? []) if (!kept.has(inst)) this.live.delete(inst);
        }
        break;
      }
      case 'log.end':
        for (const probe of Object.keys(after.kretprobes)) checkHeld(after, probe, this.walked(), e.seq, report);
        break;
      default:
        break;
    }
  }

  /** Instances a trampoline walks: the fold keeps them on the frame until the real return. */
  private walked(): ReadonlySet<string> {
    const all = new Set<string>();
    for (const insts of this.returning.values()) for (const inst of insts) all.add(inst);
    return all;
  }
}

/** Live instances never exceed maxactive, nor go below zero free. */
function checkPool(s: KernelState, probe: string, seq: number, report: Report): void {
  const pool = own(s.kretprobes, probe);
  if (pool !== undefined && (pool.free < 0 || pool.free > pool.maxactive)) {
    report(seq, `${probe}: ${pool.free} free of maxactive ${pool.maxactive}`);
  }
}

/**
 * An attached pool's free count is maxactive minus the instances of this pool that calls hold:
 * hooked on a task's frame (R73), still to be given back by a CPU's trampoline (R75; the frame
 * keeps the ones it walks, `walked`, until the real return), or taken by an entry handler that
 * has not hooked the call yet. An instance none of them holds and the pool has not got back
 * is leaked; one the pool counts as free while a call holds it is shared by two calls.
 */
function checkHeld(s: KernelState, probe: string, walked: ReadonlySet<string>, seq: number, report: Report): void {
  const pool = own(s.kretprobes, probe);
  if (pool === undefined || !pool.attached) return;
  const held = new Set<string>();
  const hold = (inst: string | null | undefined) => {
    if (inst != null && instanceProbe(inst) === probe && instanceOfCurrentPool(pool, inst)) held.add(inst);
  };
  for (const t of s.tasks) for (let f = t.frames; f !== null; f = f.up) for (const inst of f.rp ?? []) if (!walked.has(inst)) hold(inst);
  for (const c of s.cpus) {
    for (const inst of c.trampoline?.pending ?? []) hold(inst);
    hold(c.handler?.instance);
  }
  if (pool.free !== pool.maxactive - held.size) {
    const diff = pool.maxactive - held.size - pool.free;
    const what = diff > 0 ? `${diff} instance${diff === 1 ? '' : 's'} leaked: neither free nor held by a call` : `${-diff} instance${diff === -1 ? '' : 's'} counted free while a call holds ${diff === -1 ? 'it' : 'them'}`;
    report(seq, `${probe}: ${pool.free} free of maxactive ${pool.maxactive} with ${held.size} held by calls, ${what} (R72, R75)`);
  }
}
