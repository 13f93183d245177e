import { describe, expect, it } from 'vitest';
import type { LoggedEvent } from '../src/model/events.ts';
import { initialState } from '../src/model/initial.ts';
import type { CpuState, KernelState } from '../src/model/state.ts';
import { InvariantMonitor, type InvariantId } from '../src/monitors/invariants.ts';
import { scenario, type Unstamped } from './helpers.ts';

// The monitors must be able to fail: each test feeds one hand-made violation and expects it to
// be reported under the right invariant (and nothing when the same step is legal).

const s0 = initialState(scenario({ cpus: 2, probes: [{ name: 'kp', symbol: 'vfs_read' }], tasks: [{ comm: 'a', program: [] }] }));
const ADDR = '0xffffffff81000120' as const;

function withCpu(s: KernelState, id: number, patch: Partial<CpuState>): KernelState {
  const cpus = s.cpus.slice();
  cpus[id] = { ...cpus[id]!, ...patch };
  return { ...s, cpus };
}

function report(before: KernelState, e: Unstamped, after: KernelState = before): InvariantId[] {
  const m = new InvariantMonitor();
  m.observe(before, { seq: 7, t: 3, ...e } as LoggedEvent, after);
  return m.violations.map((v) => v.inv);
}

describe('invariant monitors report violations', () => {
  it('INV-status: a status change off the kernel graph', () => {
    const after = withCpu(s0, 0, { status: 'KPROBE_HIT_SSDONE', preempt_count: 1 });
    expect(report(s0, { src: 'cpu/0', type: 'kprobe.ss', cpu: 0, addr: ADDR }, after)).toContain('INV-status');
  });

  it('INV-status: a hit taken in KPROBE_REENTER that goes on instead of a BUG', () => {
    const before = withCpu(s0, 0, { status: 'KPROBE_REENTER', current: ADDR, preempt_count: 2, trap: ADDR });
    const e = { src: 'cpu/0', type: 'kprobe.miss', cpu: 0, pid: 100, addr: ADDR, probes: ['kp'], running: ADDR, status: 'KPROBE_REENTER' } as const;
    expect(report(before, e, before)).toContain('INV-status');
  });

  it('INV-nmissed: a handler nested inside another on the same CPU', () => {
    const before = withCpu(s0, 0, {
      status: 'KPROBE_HIT_ACTIVE',
      preempt_count: 1,
      handler: { probe: 'kp', phase: 'pre', instance: null, step: 0, spin: 0, frames: null },
    });
    expect(report(before, { src: 'cpu/0', type: 'handler.enter', cpu: 0, probe: 'kp', phase: 'pre' }, before)).toContain('INV-nmissed');
  });

  it('INV-nmissed: hits not accounted for at the end of a settled run', () => {
    const after = { ...s0, stats: { kp: { hits: 3, nmissed: 1, handled: 1, skipped: 0, pre_calls: 1, post_calls: 0, ret_calls: 0, fault_misses: 0 } } };
    expect(report(after, { src: 'log', type: 'log.end', digest: 'x', reason: 'done' }, after)).toContain('INV-nmissed');
    const ok = { ...s0, stats: { kp: { hits: 3, nmissed: 1, handled: 2, skipped: 0, pre_calls: 2, post_calls: 0, ret_calls: 0, fault_misses: 0 } } };
    expect(report(ok, { src: 'log', type: 'log.end', digest: 'x', reason: 'done' }, ok)).toEqual([]);
  });

  it('INV-preempt: a context switch on a CPU with preemption disabled', () => {
    const before = withCpu(s0, 1, { preempt_count: 1, status: 'KPROBE_HIT_ACTIVE' });
    expect(report(before, { src: 'sched', type: 'sched.switch', cpu: 1, prev: null, next: 100, migrated: false })).toContain('INV-preempt');
    expect(report(s0, { src: 'sched', type: 'sched.switch', cpu: 1, prev: null, next: 100, migrated: false })).toEqual([]);
  });

  it('INV-unregister: a handler that starts after unregister_kprobe returned', () => {
    const m = new InvariantMonitor();
    const calling = { ...s0, kprobes: { ...s0.kprobes, calls: { 100: { fn: 'unregister_kprobe', probe: 'kp', phase: 'gp', effective: true } } } } as KernelState;
    m.observe(calling, { seq: 1, t: 1, src: 'kprobes', type: 'kprobe.unregistered', cpu: 0, pid: 100, probe: 'kp' }, s0);
    expect(m.violations).toEqual([]);
    m.observe(s0, { seq: 2, t: 2, src: 'cpu/1', type: 'handler.enter', cpu: 1, probe: 'kp', phase: 'pre' }, s0);
    expect(m.violations.map((v) => v.inv)).toEqual(['INV-unregister']);
  });

  it('INV-removed-race: a kprobe trap that finds no probe', () => {
    expect(report(s0, { src: 'cpu/0', type: 'kernel.oops', cpu: 0, pid: 100, addr: ADDR, message: 'int3 with no kprobe behind it' })).toContain(
      'INV-removed-race',
    );
  });

  it('INV-mutex: a table change by a task that does not hold kprobe_mutex', () => {
    const e = { src: 'kprobes', type: 'kprobe.unlink', cpu: 0, pid: 100, probe: 'kp', addr: ADDR } as const;
    expect(report(s0, e)).toContain('INV-mutex');
    const held = { ...s0, kprobes: { ...s0.kprobes, mutex: { owner: 100, waiters: [] } } };
    expect(report(held, e, held)).not.toContain('INV-mutex');
  });

  it('INV-text: the last probe leaves the table with its breakpoint still armed', () => {
    const before = { ...s0, kprobes: { ...s0.kprobes, mutex: { owner: 100, waiters: [] }, table: { [ADDR]: { probes: ['kp'], armed: true } } } };
    const after = { ...before, kprobes: { ...before.kprobes, table: {} } };
    expect(report(before, { src: 'kprobes', type: 'kprobe.unlink', cpu: 0, pid: 100, probe: 'kp', addr: ADDR }, after)).toEqual(['INV-text']);
  });
});

describe('INV-disabled monitor', () => {
  it('reports a handler for a trap taken after disable_kprobe returned, not one taken before', () => {
    const m = new InvariantMonitor();
    const ev = (seq: number, e: Unstamped) => m.observe(s0, { seq, t: seq, ...e } as LoggedEvent, s0);
    ev(1, { src: 'cpu/1', type: 'kprobe.trap', cpu: 1, pid: 100, addr: ADDR });
    ev(2, { src: 'kprobes', type: 'kprobe.returned', cpu: 0, pid: 101, probe: 'kp', fn: 'disable_kprobe', ret: 0 });
    ev(3, { src: 'cpu/1', type: 'handler.enter', cpu: 1, probe: 'kp', phase: 'pre' });
    expect(m.violations).toEqual([]);
    ev(4, { src: 'cpu/1', type: 'kprobe.trap', cpu: 1, pid: 100, addr: ADDR });
    ev(5, { src: 'cpu/1', type: 'handler.enter', cpu: 1, probe: 'kp', phase: 'pre' });
    expect(m.violations.map((v) => v.inv)).toEqual(['INV-disabled']);
  });
});
