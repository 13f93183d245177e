import type { LoggedEvent } from '../model/events.ts';
import type { CpuState, KernelState, KprobeStatus } from '../model/state.ts';
import type { Projection } from '../views/folder.ts';
import { own } from '../model/own.ts';

// Runtime monitors for the invariants of design.md, checked on every event of a run or a log.
// Each violation names the invariant, the seq where it showed and what was seen. Kernel bugs the
// model reproduces on purpose (a sleep in a handler, an unrecoverable kprobe) are not violations:
// they are events, reported as such in the summary.

export const INVARIANTS = [
  'INV-status',
  'INV-nmissed',
  'INV-preempt',
  'INV-unregister',
  'INV-removed-race',
  'INV-mutex',
  'INV-text',
  'INV-disabled',
  'INV-kretprobe',
] as const;
export type InvariantId = (typeof INVARIANTS)[number];

export interface Violation {
  readonly inv: InvariantId;
  readonly seq: number;
  readonly message: string;
}

/** The kernel's kprobe_status graph (spec §6): which event may move a CPU from which status. */
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

function runsProbe(c: CpuState, probe: string): boolean {
  return c.probes.includes(probe) || c.handler?.probe === probe || (c.prev?.probes.includes(probe) ?? false);
}

export class InvariantMonitor implements Projection {
  readonly violations: Violation[] = [];
  /** Probes whose unregister_kprobe has returned and that were not registered again since. */
  private readonly gone = new Set<string>();
  /** Probes whose disable_kprobe has returned (and not re-enabled since), with that seq. */
  private readonly disabledAt = new Map<string, number>();
  /** The seq of each CPU's latest breakpoint trap. */
  private readonly trapSeq = new Map<number, number>();
  /** kretprobe instances taken and not yet given back. */
  private readonly live = new Set<string>();

  private flag(inv: InvariantId, seq: number, message: string): void {
    if (this.violations.length < 1000) this.violations.push({ inv, seq, message });
  }

  observe(before: KernelState, e: LoggedEvent, after: KernelState): void {
    if ('cpu' in e && e.src.startsWith('cpu/')) this.checkCpu(before.cpus[e.cpu]!, after.cpus[e.cpu]!, e);
    switch (e.type) {
      case 'sched.switch': {
        const c = before.cpus[e.cpu]!;
        if (c.preempt_count > 0 || c.status !== 'idle' || c.handler !== null || c.trap !== null) {
          this.flag('INV-preempt', e.seq, `cpu ${e.cpu} switched tasks with preempt_count ${c.preempt_count}, status ${c.status}`);
        }
        break;
      }
      case 'kprobe.trap':
        this.trapSeq.set(e.cpu, e.seq);
        break;
      case 'kretprobe.take':
        if (this.live.has(e.instance)) this.flag('INV-kretprobe', e.seq, `instance ${e.instance} taken twice`);
        this.live.add(e.instance);
        this.checkPool(after, e.probe, e.seq);
        break;
      case 'kretprobe.put':
        if (!this.live.delete(e.instance)) this.flag('INV-kretprobe', e.seq, `instance ${e.instance} given back but not taken`);
        this.checkPool(after, e.probe, e.seq);
        break;
      case 'kretprobe.miss': {
        const pool = own(before.kretprobes, e.probe);
        if (pool !== undefined && pool.attached && pool.free > 0) {
          this.flag('INV-kretprobe', e.seq, `${e.probe} counted a pool miss with ${pool.free} free instances (R73)`);
        }
        break;
      }
      case 'kretprobe.ret_handler': {
        // R75/R76: the handler runs for an instance of the frame that is returning, newest first.
        const t = before.cpus[e.cpu]!.trampoline;
        if (t === null || t.pending[0] !== e.instance) {
          this.flag('INV-kretprobe', e.seq, `return handler of ${e.instance} is not for the call returning on cpu ${e.cpu}`);
        }
        break;
      }
      case 'task.exit':
        // R78: the instances of a task that never returns come back when it is freed.
        for (let f = before.tasks.find((t) => t.pid === e.pid)?.frames ?? null; f !== null; f = f.up) {
          for (const inst of f.rp ?? []) this.live.delete(inst);
        }
        break;
      case 'kprobe.returned':
        if (e.ret === 0 && e.fn === 'disable_kprobe') this.disabledAt.set(e.probe, e.seq);
        if (e.ret === 0 && e.fn === 'enable_kprobe') this.disabledAt.delete(e.probe);
        break;
      case 'handler.enter': {
        const c = before.cpus[e.cpu]!;
        // R37/R170: a trap taken after disable_kprobe returned runs none of that probe's handlers.
        const off = this.disabledAt.get(e.probe);
        if (off !== undefined && (this.trapSeq.get(e.cpu) ?? 0) > off) {
          this.flag('INV-disabled', e.seq, `handler of ${e.probe} ran for a trap taken after disable_kprobe returned (R37)`);
        }
        // R1/R14: a GONE probe is disabled for good, even at a point that came back to life.
        if (own(before.kprobes.probes, e.probe)?.gone) this.flag('INV-disabled', e.seq, `handler of ${e.probe} ran although its code was freed (GONE, R14)`);
        if (c.handler !== null) this.flag('INV-nmissed', e.seq, `cpu ${e.cpu}: handler of ${e.probe} nested in ${c.handler.probe}'s (R50)`);
        if (c.status === 'KPROBE_REENTER') this.flag('INV-nmissed', e.seq, `cpu ${e.cpu}: handler of ${e.probe} ran in KPROBE_REENTER (R50)`);
        if (this.gone.has(e.probe)) this.flag('INV-unregister', e.seq, `handler of ${e.probe} started after unregister_kprobe returned (R67)`);
        break;
      }
      case 'kprobe.register':
        this.gone.delete(e.probe);
        this.disabledAt.delete(e.probe);
        break;
      case 'kprobe.unregistered': {
        if (!(before.kprobes.calls[e.pid]?.effective || before.kprobes.batches[e.pid]?.effective.includes(e.probe))) break;
        this.gone.add(e.probe);
        for (const c of after.cpus) {
          if (runsProbe(c, e.probe)) this.flag('INV-unregister', e.seq, `unregister_kprobe(${e.probe}) returned while cpu ${c.id} is still in it (R67)`);
        }
        break;
      }
      case 'kernel.oops':
        if (e.message.startsWith('int3')) this.flag('INV-removed-race', e.seq, `cpu ${e.cpu} trapped at ${e.addr} and found no probe (R55)`);
        break;
      case 'mutex.lock':
      case 'kprobe.insert':
      case 'text.arm':
      case 'text.disarm':
      case 'kprobe.disable':
      case 'kprobe.unlink': {
        const owner = e.type === 'mutex.lock' ? before.kprobes.mutex.owner : after.kprobes.mutex.owner;
        if (e.type === 'mutex.lock' ? owner !== null && owner !== e.pid : owner !== e.pid) {
          this.flag('INV-mutex', e.seq, `${e.type} by task ${e.pid} while kprobe_mutex is held by ${owner ?? 'nobody'} (R16)`);
        }
        // R169: a GONE point is not restored: its memory is freed.
        const gone = e.type === 'kprobe.unlink' && own(before.kprobes.probes, e.probe)?.gone === true;
        if (e.type === 'kprobe.unlink' && !gone && before.kprobes.table[e.addr]?.armed && after.kprobes.table[e.addr] === undefined) {
          this.flag('INV-text', e.seq, `the last probe at ${e.addr} left the table with the breakpoint still armed`);
        }
        if (e.type === 'text.arm' && after.kprobes.table[e.addr] === undefined) {
          this.flag('INV-text', e.seq, `breakpoint armed at ${e.addr} with no probe there`);
        }
        if (e.type === 'text.arm' && after.kprobes.all_disarmed) {
          this.flag('INV-text', e.seq, `breakpoint armed at ${e.addr} while global arming is off (R42, R169)`);
        }
        break;
      }
      case 'log.end':
        this.checkCounts(after);
        break;
      default:
        break;
    }
  }

  private checkCpu(b: CpuState, a: CpuState, e: LoggedEvent): void {
    if ((e.type === 'kprobe.hit' || e.type === 'kprobe.miss') && b.status === 'KPROBE_REENTER') {
      this.flag('INV-status', e.seq, `cpu ${b.id}: a hit in KPROBE_REENTER went on instead of "Unrecoverable kprobe detected" (R50)`);
    }
    if (a.status !== b.status || GRAPH[e.type] !== undefined) {
      const allowed = GRAPH[e.type];
      if (a.status !== b.status && !allowed?.some(([from, to]) => from === b.status && to === a.status)) {
        this.flag('INV-status', e.seq, `cpu ${b.id}: ${e.type} moved kprobe_status ${b.status} → ${a.status}`);
      }
    }
    if (a.status !== 'idle' && a.preempt_count <= 0) {
      this.flag('INV-preempt', e.seq, `cpu ${a.id} is in ${a.status} with preempt_count ${a.preempt_count} (R59)`);
    }
  }

  /** INV-kretprobe: live instances never exceed maxactive, nor go below zero free. */
  private checkPool(s: KernelState, probe: string, seq: number): void {
    const pool = own(s.kretprobes, probe);
    if (pool !== undefined && (pool.free < 0 || pool.free > pool.maxactive)) {
      this.flag('INV-kretprobe', seq, `${probe}: ${pool.free} free of maxactive ${pool.maxactive}`);
    }
  }

  /** R53/R168: every hit is a handler run, a miss, or a legitimate skip. */
  private checkCounts(s: KernelState): void {
    if (s.halted !== null) return;
    // A run cut off by its step limit may end with a hit whose handlers are not dispatched yet.
    const settled = s.cpus.every((c) => c.status === 'idle' && c.trap === null);
    for (const [name, p] of Object.entries(s.stats)) {
      // Faults counted as misses (R58) add to nmissed without a hit.
      const accounted = p.handled + p.nmissed + p.skipped - p.fault_misses;
      if (settled ? p.hits !== accounted : p.hits < accounted) {
        this.flag('INV-nmissed', s.seq, `${name}: hits ${p.hits} ≠ handled ${p.handled} + nmissed ${p.nmissed} + skipped ${p.skipped}`);
      }
    }
  }
}
