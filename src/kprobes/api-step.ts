import type { DomainEvent } from '../model/events.ts';
import { toHex } from '../model/hex.ts';
import { cpusInReadSection, cpusWithIrqsOff, findTask, gpComplete, syncComplete } from '../model/queries.ts';
import { programOf, type Setup } from '../model/setup.ts';
import type { KernelState } from '../model/state.ts';
import { EINVAL } from './errno.ts';
import { kprobeBucket } from './table.ts';

// One step of a register_kprobe / unregister_kprobe call, made by the kprobe manager on behalf of
// the task that called it (on that task's CPU). The order is the kernel's:
//   register:   resolve → lock kprobe_mutex → insert in table (R18) → arm + sync → unlock → return 0
//   unregister: lock → disable (R64) → disarm + sync CPUs (R55) → unlink → unlock → grace period
//               (R65) → return (R67)
// Every arrow is an interleaving point: other CPUs step in between.

export interface ApiStepInput {
  readonly setup: Setup;
  readonly w: KernelState;
  readonly cpu: number;
  readonly pid: number;
  /** A fresh id for a registered probe (seeded nanoid); called only when one is needed. */
  readonly newHandle: () => string;
}

export function planApiStep({ setup, w, cpu, pid, newHandle }: ApiStepInput): DomainEvent[] {
  const task = findTask(w, pid);
  if (task === undefined) throw new Error(`internal: kprobes call from unknown task ${pid}`);
  const call = w.kprobes.calls[pid];
  const k = w.kprobes;

  if (call === undefined) {
    const op = programOf(setup, task.prog)[task.job];
    if (op?.op === 'register_kprobe') {
      const reg = k.probes[op.probe]!;
      // R23: a probe that is registered (or being registered) cannot be registered again.
      if (reg.state !== 'unregistered') {
        return [{ type: 'kprobe.register.fail', cpu, pid, probe: op.probe, errno: -EINVAL, reason: 'already registered (R23)' }];
      }
      const res = setup.resolutions.get(op.probe)!;
      if (!res.ok) return [{ type: 'kprobe.register.fail', cpu, pid, probe: op.probe, errno: res.errno, reason: res.reason }];
      const spec = setup.probes.get(op.probe)!;
      return [
        {
          type: 'kprobe.register',
          cpu,
          pid,
          probe: op.probe,
          symbol: spec.symbol ?? null,
          offset: spec.offset ?? 0,
          addr: toHex(res.addr),
        },
      ];
    }
    if (op?.op === 'unregister_kprobe') return [{ type: 'kprobe.unregister', cpu, pid, probe: op.probe }];
    throw new Error(`internal: task ${pid} has no kprobes call to make`);
  }

  const probe = call.probe;
  const reg = k.probes[probe]!;
  const addr = reg.addr;
  const unlock = (): DomainEvent => ({ type: 'mutex.unlock', cpu, pid, next: k.mutex.waiters[0] ?? null });
  // Write the breakpoint byte (or the original byte back) and IPI every CPU to serialize (R55).
  const patch = (kind: 'text.arm' | 'text.disarm'): DomainEvent[] => {
    const gen = k.sync_gen + 1;
    const waiting = cpusWithIrqsOff(w, cpu);
    const out: DomainEvent[] = [
      { type: kind, cpu, pid, addr: addr! },
      { type: 'text.sync.start', cpu, pid, sync: gen, waiting },
    ];
    if (waiting.length === 0) out.push({ type: 'text.sync.end', cpu, pid, sync: gen });
    return out;
  };

  switch (call.phase) {
    case 'lock':
      if (k.mutex.owner === null || k.mutex.owner === pid) return [{ type: 'mutex.lock', cpu, pid }];
      return [{ type: 'mutex.wait', cpu, pid }];
    case 'insert': {
      const at = addr!;
      const point = k.table[at];
      const insert: DomainEvent = { type: 'kprobe.insert', cpu, pid, probe, addr: at, bucket: kprobeBucket(BigInt(at)), handle: newHandle() };
      // R8: a second probe at an armed point joins it; the breakpoint stays armed throughout.
      if (point?.armed) return [insert, unlock(), { type: 'kprobe.registered', cpu, pid, probe, addr: at }];
      return [insert];
    }
    case 'arm':
      return patch('text.arm');
    case 'sync':
      return syncComplete(w) ? [{ type: 'text.sync.end', cpu, pid, sync: k.sync!.gen }] : [];
    case 'unlock':
      if (call.fn === 'register_kprobe') return [unlock(), { type: 'kprobe.registered', cpu, pid, probe, addr: addr! }];
      return [unlock()];
    case 'disable': {
      // R64: checked under kprobe_mutex: a probe that is not registered (never was, or another
      // unregister already took it down) is skipped; the call still ends with a grace period.
      if (reg.state !== 'registered' || addr === null || !k.table[addr]?.probes.includes(probe)) return [unlock()];
      const out: DomainEvent[] = [{ type: 'kprobe.disable', cpu, pid, probe }];
      const point = k.table[addr];
      const othersEnabled = point?.probes.some((p) => p !== probe && !k.probes[p]?.disabled) ?? false;
      // R13/R34: the point is disarmed when its last enabled probe goes.
      if (point?.armed && !othersEnabled) out.push(...patch('text.disarm'));
      return out;
    }
    case 'unlink':
      return [{ type: 'kprobe.unlink', cpu, pid, probe, addr: addr! }];
    case 'gp': {
      const done = (gp: number): DomainEvent[] => [
        { type: 'rcu.gp.end', cpu, pid, gp },
        { type: 'kprobe.unregistered', cpu, pid, probe },
      ];
      if (task.wait?.on === 'gp') return gpComplete(w, task.wait.gp) ? done(task.wait.gp) : [];
      // R65: synchronize_rcu(); only CPUs inside a preempt-disabled region must be waited for.
      const gp = k.gp_gen + 1;
      const waiting = cpusInReadSection(w, cpu);
      const start: DomainEvent = { type: 'rcu.gp.start', cpu, pid, gp, waiting };
      return waiting.length === 0 ? [start, ...done(gp)] : [start];
    }
  }
}
