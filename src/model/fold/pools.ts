import type { DomainEvent } from '../events.ts';
import type { KernelState, KretprobePool } from '../state.ts';
import type { Draft } from './draft.ts';
import { fail } from './errors.ts';
import { own } from '../own.ts';
import { recGet, recSet } from './record.ts';

// ── kretprobe pools (shared: the manager allocates and detaches, CPUs take and give back) ──

/** The kretprobe an instance id ("probe#n") belongs to. */
export function instanceProbe(instance: string): string {
  return instance.slice(0, instance.lastIndexOf('#'));
}

/** Whether an instance came from the pool the kretprobe has now (not a detached earlier one). */
export function instanceOfCurrentPool(pool: KretprobePool, instance: string): boolean {
  return Number(instance.slice(instance.lastIndexOf('#') + 1)) >= pool.first;
}

function setPool(pools: KernelState['kretprobes'], name: string, f: (p: KretprobePool) => KretprobePool) {
  const p = recGet(pools, name);
  if (p === undefined) return fail(`kretprobe "${name}" has no instance pool`);
  return recSet(pools, name, f(p));
}

export function putInstance(pools: KernelState['kretprobes'], instance: string): KernelState['kretprobes'] {
  // A detached pool's instances are freed, not recycled (R69, R80).
  return setPool(pools, instanceProbe(instance), (p) => {
    if (!p.attached || !instanceOfCurrentPool(p, instance)) return p;
    const slot = own(p.held, instance);
    if (slot === undefined) return { ...p, free: p.free + 1 };
    const { [instance]: _gone, ...held } = p.held;
    return { ...p, free: p.free + 1, slots: [...p.slots, slot], held };
  });
}

/** Which preallocated instance (slot) an instance id is, while it is taken. */
export function slotOf(pool: KretprobePool | undefined, instance: string): number | undefined {
  return pool === undefined ? undefined : own(pool.held, instance);
}

export function evolvePools(d: Draft, e: DomainEvent): void {
  switch (e.type) {
    case 'kretprobe.pool': {
      // Instance numbers go on across registrations, so an old call's instance is recognised.
      const taken = recGet(d.kretprobes, e.probe)?.taken ?? 0;
      // R72: maxactive instances, data zeroed; the last on the free list is taken first.
      const slots = Array.from({ length: e.maxactive }, (_, i) => e.maxactive - 1 - i);
      const data = Array.from({ length: e.maxactive }, () => 0);
      d.kretprobes = recSet(d.kretprobes, e.probe, { maxactive: e.maxactive, free: e.maxactive, nmissed: 0, attached: true, taken, first: taken + 1, slots, held: {}, data });
      return;
    }
    case 'kretprobe.detach':
      d.kretprobes = setPool(d.kretprobes, e.probe, (p) => ({ ...p, attached: false }));
      return;
    case 'kretprobe.take':
      d.kretprobes = setPool(d.kretprobes, e.probe, (p) => {
        const slot = p.slots.at(-1);
        if (slot === undefined) return fail(`kretprobe "${e.probe}" took an instance from an empty pool`);
        return { ...p, free: p.free - 1, taken: p.taken + 1, slots: p.slots.slice(0, -1), held: { ...p.held, [e.instance]: slot } };
      });
      return;
    case 'kretprobe.data':
      d.kretprobes = setPool(d.kretprobes, e.probe, (p) => {
        const slot = own(p.held, e.instance);
        if (slot === undefined) return fail(`instance ${e.instance} is not taken`);
        const data = p.data.slice();
        data[slot] = e.value;
        return { ...p, data };
      });
      return;
    case 'kretprobe.miss':
      d.kretprobes = setPool(d.kretprobes, e.probe, (p) => ({ ...p, nmissed: p.nmissed + 1 }));
      return;
    case 'kretprobe.put':
      d.kretprobes = putInstance(d.kretprobes, e.instance);
      return;
    default:
      return;
  }
}
