// R47.2: on a kernel without CONFIG_PREEMPTION (`"config": {"preempt": false}`) a probe whose
// copy was prepared "boostable" is not single-stepped: the copy runs with a jump back, with
// current_kprobe already NULL, no second trap and no post-handler. The decision is taken once,
// when the copy is prepared. Such a kernel also never preempts kernel code.

import { describe, expect, it } from 'vitest';
import { symbolsFor, type FunctionSymbol } from '../src/kernel/index.ts';
import type { ProbeSpec, TaskSpec } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { indexOf, ofType, trace } from './helpers.ts';

function kernel(preempt: boolean, probes: ProbeSpec[], tasks: TaskSpec[], cpus = 1) {
  return validateScenario({ name: 'boost', cpus, config: { preempt }, max_steps: 50_000, probes, tasks });
}
const register = (...probes: string[]) => probes.map((probe) => ({ op: 'register_kprobe' as const, probe }));
const vfsRead = symbolsFor('6.17').lookup('vfs_read') as FunctionSymbol;
const hex = (n: bigint) => `0x${n.toString(16)}`;

describe('R47.2: boosted single-steps', () => {
  it('a probe without a post-handler on an ordinary instruction is prepared boostable and runs its copy at once', () => {
    const r = trace(kernel(false, [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'print', text: 'pre' }] }], [{ comm: 'cat', program: [...register('kp'), { op: 'call', fn: 'vfs_read' }] }]));
    expect(r.violations).toEqual([]);
    expect(ofType(r.events, 'kprobe.boostable')).toMatchObject([{ addr: hex(vfsRead.addr) }]);
    expect(ofType(r.events, 'kprobe.ss')).toEqual([]);
    expect(ofType(r.events, 'kprobe.ss.done')).toEqual([]);
    const boost = indexOf(r.events, (e) => e.type === 'kprobe.boost');
    // The copy ran in the same step: the task's next instruction follows, and the CPU is free.
    expect(r.events[boost + 1]).toMatchObject({ type: 'insn.exec', ip: hex(vfsRead.addr), ctx: 'task' });
    expect(r.states[boost]!.cpus[0]).toMatchObject({ status: 'idle', current: null, preempt_count: 0, irqs_off: false });
    expect(r.final.stats.kp).toMatchObject({ hits: 1, pre_calls: 1, post_calls: 0 });
  });

  it('not boostable: on a preemptible kernel, with a post-handler, or on a call instruction', () => {
    const call = vfsRead.body.find((i) => i.op.k === 'call')!;
    const cases: [boolean, ProbeSpec][] = [
      [true, { name: 'kp', symbol: 'vfs_read', pre: [] }],
      [false, { name: 'kp', symbol: 'vfs_read', pre: [], post: [] }],
      [false, { name: 'kp', symbol: 'vfs_read', offset: call.off, pre: [] }],
    ];
    for (const [preempt, probe] of cases) {
      const r = trace(kernel(preempt, [probe], [{ comm: 'cat', program: [...register('kp'), { op: 'call', fn: 'vfs_read' }] }]));
      expect(r.violations).toEqual([]);
      expect(ofType(r.events, 'kprobe.boostable')).toEqual([]);
      expect(ofType(r.events, 'kprobe.boost')).toEqual([]);
      expect(ofType(r.events, 'kprobe.ss')).toHaveLength(1);
    }
  });

  it('quirk: a child with a post-handler added later at a boosted address never gets it called', () => {
    const r = trace(
      kernel(false, [{ name: 'first', symbol: 'vfs_read', pre: [] }, { name: 'later', symbol: 'vfs_read', pre: [], post: [{ do: 'print', text: 'never' }] }], [
        { comm: 'cat', program: [...register('first', 'later'), { op: 'call', fn: 'vfs_read' }] },
      ]),
    );
    expect(r.violations).toEqual([]);
    expect(ofType(r.events, 'kprobe.boostable')).toHaveLength(1);
    expect(r.final.stats.later).toMatchObject({ pre_calls: 1, post_calls: 0 });
    expect(ofType(r.events, 'printk')).toEqual([]);
  });

  it('a boosted reentry counts the miss and runs the copy without touching the control block (R50)', () => {
    const r = trace(
      kernel(false, [{ name: 'outer', symbol: 'ksys_read', pre: [{ do: 'call', fn: 'vfs_read' }] }, { name: 'inner', symbol: 'vfs_read', pre: [] }], [
        { comm: 'cat', program: [...register('outer', 'inner'), { op: 'call', fn: 'ksys_read' }] },
      ]),
    );
    expect(r.violations).toEqual([]);
    const miss = indexOf(r.events, (e) => e.type === 'kprobe.miss');
    expect(r.events[miss + 1]).toMatchObject({ type: 'kprobe.boost' });
    // After the step the outer run is exactly as before the trap: no REENTER left behind.
    expect(r.states[miss + 1]!.cpus[0]).toMatchObject({ status: 'KPROBE_HIT_ACTIVE', prev: null });
    expect(r.final.stats.inner).toMatchObject({ hits: 2, nmissed: 1, pre_calls: 1 });
  });

  it('a fault in a boosted copy: a mapped page lets it run once, with no second hit; a fixup is not found, an oops (R57)', () => {
    const run = (outcome: 'resolved' | 'fixup') =>
      trace(kernel(false, [{ name: 'kp', symbol: 'vfs_read', pre: [] }], [{ comm: 'cat', program: [...register('kp'), { op: 'call', fn: 'vfs_read', fault: { at: 0, outcome } }] }]));
    const ok = run('resolved');
    expect(ok.violations).toEqual([]);
    expect(ok.final.stats.kp).toMatchObject({ hits: 1, nmissed: 0 });
    expect(ofType(ok.events, 'kernel.oops')).toEqual([]);
    expect(ofType(ok.events, 'func.ret').some((e) => e.fn === 'vfs_read')).toBe(true);
    const bad = run('fixup');
    expect(ofType(bad.events, 'kernel.oops')).toMatchObject([{ message: expect.stringContaining('boosted kprobe copy') }]);
  });

  it('without CONFIG_PREEMPTION a task running kernel code is never switched out', () => {
    const tasks: TaskSpec[] = ['a', 'b', 'c'].map((comm) => ({ comm, program: [{ op: 'call', fn: 'ksys_read', times: 3 }] }));
    for (const seed of [1, 2, 3]) {
      const r = trace(kernel(false, [], tasks), { seed });
      expect(r.violations).toEqual([]);
      for (const e of ofType(r.events, 'sched.switch')) {
        if (e.prev === null) continue;
        const before = r.states[r.events.indexOf(e) - 1]!;
        const prev = before.tasks.find((t) => t.pid === e.prev);
        // Only between operations (back in user space) or while blocked.
        if (prev !== undefined) expect(prev.frames === null || prev.wait !== null).toBe(true);
      }
    }
  });
});
