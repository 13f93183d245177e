import { describe, expect, it } from 'vitest';
import type { LoggedEvent } from '../src/model/events.ts';
import { evolve, FoldError } from '../src/model/evolve.ts';
import { initialState } from '../src/model/initial.ts';
import type { KernelState } from '../src/model/state.ts';
import { scenario, type Unstamped } from './helpers.ts';

// evolve(state, event) on hand-made events: what each event does to the state, by reasoning
// from the event's meaning, and the errors a corrupt log runs into.

const base = initialState(scenario({ cpus: 2, probes: [{ name: 'kp', symbol: 'vfs_read' }], tasks: [{ comm: 'bash', pid: 500, program: [] }] }));
const apply = (s: KernelState, ...events: Unstamped[]) =>
  events.reduce((acc, e, i) => evolve(acc, { seq: acc.seq + 1, t: acc.t + (i === 0 ? 1 : 0), ...e } as LoggedEvent), s);

describe('evolve', () => {
  const running = apply(base, { src: 'sched', type: 'sched.pick', cpu: 1, switch_to: 500 }, { src: 'sched', type: 'sched.switch', cpu: 1, prev: null, next: 500, migrated: false });

  it('records seq and t of the last event; a pick counts a scheduler step', () => {
    expect(running).toMatchObject({ seq: 2, t: 1, sched: { steps: 1, curr: [null, 500] } });
    expect(running.tasks[0]).toMatchObject({ pid: 500, cpu: 1, last_cpu: 1 });
  });

  it('func.call pushes a frame; insn.exec advances it; func.ret pops and completes the program step', () => {
    const s1 = apply(running, { src: 'cpu/1', type: 'func.call', cpu: 1, pid: 500, ip: null, fn: 'vfs_read', ctx: 'task' });
    expect(s1.tasks[0]!.frames).toEqual({ fn: 'vfs_read', pc: 0, up: null });
    const s2 = apply(s1, { src: 'cpu/1', type: 'insn.exec', cpu: 1, pid: 500, ip: '0xffffffff81000120', ctx: 'task' });
    expect(s2.tasks[0]!.frames).toEqual({ fn: 'vfs_read', pc: 1, up: null });
    const s3 = apply(s2, { src: 'cpu/1', type: 'func.call', cpu: 1, pid: 500, ip: '0xffffffff81000121', fn: 'rw_verify_area', ctx: 'task' });
    // The caller's frame moved past the call: that is the return address.
    expect(s3.tasks[0]!.frames).toEqual({ fn: 'rw_verify_area', pc: 0, up: { fn: 'vfs_read', pc: 2, up: null } });
    const s4 = apply(s3, { src: 'cpu/1', type: 'func.ret', cpu: 1, pid: 500, ip: '0xffffffff81000200', fn: 'rw_verify_area', ret: 0, ctx: 'task' });
    expect(s4.tasks[0]).toMatchObject({ frames: { fn: 'vfs_read', pc: 2, up: null }, job: 0 });
    const s5 = apply(s4, { src: 'cpu/1', type: 'func.ret', cpu: 1, pid: 500, ip: '0xffffffff81000130', fn: 'vfs_read', ret: 0, ctx: 'task' });
    expect(s5.tasks[0]).toMatchObject({ frames: null, job: 1 });
  });

  it('R43/R50/R49: a miss saves the running kprobe in prev_kprobe; the end of its single-step restores it', () => {
    const hit = apply(
      running,
      { src: 'cpu/1', type: 'kprobe.trap', cpu: 1, pid: 500, addr: '0xffffffff81000120' },
      { src: 'cpu/1', type: 'kprobe.hit', cpu: 1, pid: 500, addr: '0xffffffff81000120', probes: ['kp'] },
    );
    expect(hit.cpus[1]).toMatchObject({ status: 'KPROBE_HIT_ACTIVE', current: '0xffffffff81000120', preempt_count: 1, irqs_off: true, trap: null });
    const missed = apply(
      hit,
      { src: 'cpu/1', type: 'kprobe.trap', cpu: 1, pid: 500, addr: '0xffffffff81000300' },
      { src: 'cpu/1', type: 'kprobe.miss', cpu: 1, pid: 500, addr: '0xffffffff81000300', probes: ['kp'], running: '0xffffffff81000120', status: 'KPROBE_HIT_ACTIVE' },
    );
    expect(missed.cpus[1]).toMatchObject({ status: 'KPROBE_REENTER', current: '0xffffffff81000300', preempt_count: 2 });
    expect(missed.cpus[1]!.prev).toEqual({ current: '0xffffffff81000120', probes: ['kp'], status: 'KPROBE_HIT_ACTIVE', next: 0 });
    expect(missed.stats.kp).toMatchObject({ hits: 2, nmissed: 1 });
    const restored = apply(missed, { src: 'cpu/1', type: 'kprobe.ss', cpu: 1, addr: '0xffffffff81000300' }, { src: 'cpu/1', type: 'kprobe.ss.done', cpu: 1, addr: '0xffffffff81000300' });
    expect(restored.cpus[1]).toEqual(hit.cpus[1]);
  });

  it('kprobe.done clears the running kprobe and gives back preemption and interrupts', () => {
    const busy = apply(running, { src: 'cpu/1', type: 'kprobe.trap', cpu: 1, pid: 500, addr: '0xffffffff81000120' }, { src: 'cpu/1', type: 'kprobe.hit', cpu: 1, pid: 500, addr: '0xffffffff81000120', probes: ['kp'] });
    const done = apply(busy, { src: 'cpu/1', type: 'kprobe.done', cpu: 1, addr: '0xffffffff81000120' });
    expect(done.cpus[1]).toEqual({ ...running.cpus[1], next: 0 });
  });

  it('is pure: the input state is not modified', () => {
    const snapshot = JSON.stringify(running);
    apply(running, { src: 'cpu/1', type: 'func.call', cpu: 1, pid: 500, ip: null, fn: 'vfs_read', ctx: 'task' });
    expect(JSON.stringify(running)).toBe(snapshot);
  });

  it('refuses events that do not fit the state (a corrupt or edited log)', () => {
    expect(() => apply(running, { src: 'cpu/1', type: 'insn.exec', cpu: 9, pid: 500, ip: '0xffffffff81000120', ctx: 'task' })).toThrow(FoldError);
    expect(() => apply(running, { src: 'cpu/1', type: 'insn.exec', cpu: 1, pid: 999, ip: '0xffffffff81000120', ctx: 'task' })).toThrow(/no task with pid 999/);
    expect(() => apply(running, { src: 'cpu/1', type: 'func.ret', cpu: 1, pid: 500, ip: '0xffffffff81000120', fn: 'vfs_read', ret: 0, ctx: 'task' })).toThrow(FoldError);
    expect(() => apply(running, { src: 'kprobes', type: 'mutex.unlock', cpu: 0, pid: 500, next: null })).toThrow(/does not hold/);
  });
});
