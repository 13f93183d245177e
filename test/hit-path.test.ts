import { describe, expect, it } from 'vitest';
import { BUILTIN_SYMBOLS } from '../src/kernel/index.ts';
import { hereOf, kprobe_int3_handler } from '../src/kprobes/cpu-step.ts';
import { KPROBE_STATUS_STATES } from '../src/machines/kprobe-status.ts';
import { toHex } from '../src/model/hex.ts';
import { indexOf, ofType, scenario, trace } from './helpers.ts';

const addrOf = (fn: string) => toHex(BUILTIN_SYMBOLS.lookup(fn)!.addr);

describe('the breakpoint path on an idle CPU (spec §6.2)', () => {
  const s = scenario({
    probes: [
      {
        name: 'kp',
        symbol: 'vfs_read',
        pre: [{ do: 'print', text: 'pre ip={ip} flags={flags}' }],
        post: [{ do: 'print', text: 'post' }],
      },
    ],
    tasks: [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'vfs_read' }] }],
  });
  const run = trace(s);
  const at = addrOf('vfs_read');
  const trap = indexOf(run.events, (e) => e.type === 'kprobe.trap');
  const path = run.events.slice(trap).filter((e) => e.src === 'cpu/0');

  it('R46, R47, R48, R49: trap, pre-handler in HIT_ACTIVE, single-step in HIT_SS, the second trap, post-handler in HIT_SSDONE, done', () => {
    const kinds = path
      .filter((e) => e.type.startsWith('kprobe.') || e.type === 'handler.enter' || e.type === 'handler.exit')
      .map((e) => (e.type.startsWith('handler.') ? `${e.type}:${(e as { phase: string }).phase}` : e.type));
    expect(kinds.slice(0, 8)).toEqual([
      'kprobe.trap',
      'kprobe.hit',
      'handler.enter:pre',
      'handler.exit:pre',
      'kprobe.ss',
      'kprobe.ss.done',
      'handler.enter:post',
      'handler.exit:post',
    ]);
    expect(kinds[8]).toBe('kprobe.done');
    const statusAfter = (type: string) => run.states[indexOf(run.events, (e) => e.type === type, trap)]!.cpus[0]!.status;
    expect(statusAfter('kprobe.hit')).toBe('KPROBE_HIT_ACTIVE');
    expect(statusAfter('kprobe.ss')).toBe('KPROBE_HIT_SS');
    expect(statusAfter('kprobe.ss.done')).toBe('KPROBE_HIT_SSDONE');
    expect(statusAfter('kprobe.done')).toBe('idle');
  });

  it('R47.3: the single-step executes the probed instruction itself (the first of vfs_read)', () => {
    const ss = indexOf(run.events, (e) => e.type === 'kprobe.ss');
    expect(run.events[ss + 1]).toMatchObject({ type: 'insn.exec', ip: at, ctx: 'task' });
  });

  it('R45/R46: the trap address is the probe address; regs->ip in the pre-handler is the byte after the int3', () => {
    expect(run.events[trap]).toMatchObject({ addr: at });
    const pre = ofType(run.events, 'printk').find((e) => e.text.startsWith('pre '))!;
    expect(pre.text).toBe(`pre ip=${(BigInt(at) + 1n).toString(16)} flags=246`);
  });

  it('R59/R60: preemption and interrupts are off from the trap until the kprobe is done', () => {
    const done = indexOf(run.events, (e) => e.type === 'kprobe.done');
    for (let i = trap; i < done; i++) {
      expect(run.states[i]!.cpus[0]!.preempt_count).toBeGreaterThan(0);
      expect(run.states[i]!.cpus[0]!.irqs_off).toBe(true);
    }
    expect(run.states[done]!.cpus[0]).toMatchObject({ preempt_count: 0, irqs_off: false, current: null });
  });

  it('R53: one hit, one handler run, nothing missed', () => {
    expect(run.final.stats.kp).toMatchObject({ hits: 1, handled: 1, nmissed: 0, pre_calls: 1, post_calls: 1 });
    expect(run.violations).toEqual([]);
  });
});

describe('reentrancy (spec §6.3)', () => {
  // lib/tests/test_kprobes.c, test_kprobe_missed: handlers that call the probed function.
  const s = scenario({
    probes: [{ name: 'kp', symbol: 'dput', pre: [{ do: 'call', fn: 'dput' }], post: [{ do: 'call', fn: 'dput' }] }],
    tasks: [{ comm: 'kunit', program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'dput' }] }],
  });
  const run = trace(s);

  it('R52: pre- and post-handler each call the probed function once ⇒ nmissed == 2, each handler ran once', () => {
    expect(run.final.stats.kp).toMatchObject({ hits: 3, nmissed: 2, pre_calls: 1, post_calls: 1 });
    expect(run.violations).toEqual([]);
  });

  it('R50: a hit while a handler runs counts a miss, runs no handler and single-steps in REENTER', () => {
    const misses = ofType(run.events, 'kprobe.miss');
    expect(misses.map((m) => m.status)).toEqual(['KPROBE_HIT_ACTIVE', 'KPROBE_HIT_SSDONE']);
    for (const m of misses) {
      const i = run.events.indexOf(m);
      expect(run.states[i]!.cpus[0]!.status).toBe('KPROBE_REENTER');
      // Nothing of the probe's handlers starts between the miss and the end of its single-step.
      const end = indexOf(run.events, (e) => e.type === 'kprobe.ss.done', i);
      expect(run.events.slice(i, end).some((e) => e.type === 'handler.enter')).toBe(false);
    }
  });

  it('R49/R51: after the reentrant single-step the outer kprobe is restored exactly', () => {
    for (const m of ofType(run.events, 'kprobe.miss')) {
      const i = run.events.indexOf(m);
      // The state before the nested trap was taken.
      let trapAt = i;
      while (run.events[trapAt]!.type !== 'kprobe.trap') trapAt--;
      const before = run.states[trapAt - 1]!.cpus[0]!;
      const end = indexOf(run.events, (e) => e.type === 'kprobe.ss.done', i);
      const after = run.states[end]!.cpus[0]!;
      expect({ status: after.status, current: after.current, probes: after.probes, prev: after.prev }).toEqual({
        status: before.status,
        current: before.current,
        probes: before.probes,
        prev: null,
      });
      expect(after.preempt_count).toBe(before.preempt_count);
    }
  });

  it('R50: a hit while KPROBE_REENTER is "Unrecoverable kprobe detected", a BUG, never a silent continue', () => {
    // The schedule cannot reach it (a single-step is one step), so ask the CPU directly what it
    // would do if a trap were pending in REENTER.
    const i = run.events.indexOf(ofType(run.events, 'kprobe.miss')[0]!);
    const world = run.states[i]!;
    const cpu = { ...world.cpus[0]!, trap: addrOf('dput') };
    // The machine runs kprobe_int3_handler for a pending trap in REENTER, before the single-step.
    expect(KPROBE_STATUS_STATES.KPROBE_REENTER.step.find((c) => c.guard === 'trapped')?.run).toBe('kprobe_int3_handler');
    expect(KPROBE_STATUS_STATES.KPROBE_REENTER.step.findIndex((c) => c.guard === 'trapped')).toBeLessThan(KPROBE_STATUS_STATES.KPROBE_REENTER.step.findIndex((c) => c.run === 'setup_singlestep'));
    const events = kprobe_int3_handler(hereOf(run.sim.setup, world, cpu));
    expect(events.map((e) => e.type)).toContain('kprobe.bug');
    expect(events.find((e) => e.type === 'printk')).toMatchObject({ text: 'Unrecoverable kprobe detected.' });
  });
});

describe('aggregated probes at one address (spec §1.3)', () => {
  const s = scenario({
    probes: [
      { name: 'older', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 1 }] },
      { name: 'newer', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 1 }] },
      { name: 'caller', symbol: 'dput', pre: [{ do: 'call', fn: 'vfs_read' }] },
    ],
    tasks: [
      {
        comm: 'insmod',
        program: [
          { op: 'register_kprobe', probe: 'older' },
          { op: 'register_kprobe', probe: 'newer' },
          { op: 'register_kprobe', probe: 'caller' },
          { op: 'call', fn: 'vfs_read' },
          { op: 'call', fn: 'dput' },
        ],
      },
    ],
  });
  const run = trace(s);

  it('R9: handlers at one address run newest-registered first', () => {
    const order = ofType(run.events, 'handler.enter').filter((e) => e.phase === 'pre').map((e) => e.probe);
    expect(order.slice(0, 2)).toEqual(['newer', 'older']);
  });

  it('R12: a miss at an aggregated point increments nmissed of every child', () => {
    expect(ofType(run.events, 'kprobe.miss')[0]!.probes).toEqual(['newer', 'older']);
    expect(run.final.stats.newer!.nmissed).toBe(1);
    expect(run.final.stats.older!.nmissed).toBe(1);
  });

  it('R8: the second probe joins the armed point without writing the breakpoint again', () => {
    expect(ofType(run.events, 'text.arm').filter((e) => e.addr === addrOf('vfs_read'))).toHaveLength(1);
  });
});

describe('handler context (spec §7)', () => {
  it('R61: a handler that sleeps is "BUG: scheduling while atomic"; the scheduler does not switch', () => {
    const run = trace(
      scenario({
        cpus: 1,
        probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'sleep' }, { do: 'spin', steps: 5 }] }],
        tasks: [
          { comm: 'cat', pid: 700, program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'vfs_read' }] },
          { comm: 'other', program: [{ op: 'call', fn: 'dput', times: 20 }] },
        ],
      }),
      { seed: 3 },
    );
    const bug = ofType(run.events, 'bug.atomic_sleep');
    expect(bug).toHaveLength(1);
    // The kernel's format: comm/pid/preempt_count as 0x%08x; one level from the int3 entry.
    expect(ofType(run.events, 'printk').some((e) => e.text === 'BUG: scheduling while atomic: cat/700/0x00000001')).toBe(true);
    const from = run.events.indexOf(bug[0]!);
    const done = indexOf(run.events, (e) => e.type === 'kprobe.done', from);
    expect(run.events.slice(from, done).some((e) => e.type === 'sched.switch')).toBe(false);
    expect(run.violations).toEqual([]);
  });

  it('R62: a handler finishes on the CPU it started on', () => {
    const run = trace(
      scenario({
        cpus: 3,
        probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 30 }] }],
        tasks: [
          { comm: 'insmod', program: [{ op: 'register_kprobe', probe: 'kp' }] },
          { comm: 'a', program: [{ op: 'sleep', ticks: 20 }, { op: 'call', fn: 'vfs_read', times: 5 }] },
          { comm: 'b', program: [{ op: 'sleep', ticks: 20 }, { op: 'call', fn: 'vfs_read', times: 5 }] },
        ],
      }),
      { seed: 11 },
    );
    const enters = ofType(run.events, 'handler.enter');
    expect(enters.length).toBeGreaterThan(2);
    for (const e of enters) {
      const i = run.events.indexOf(e);
      const pid = run.states[i]!.sched.curr[e.cpu]!;
      const exit = indexOf(run.events, (x) => x.type === 'handler.exit' && x.cpu === e.cpu, i);
      // Throughout the handler the task stays on this CPU and this CPU keeps running it.
      for (let j = i; j <= exit; j++) {
        expect(run.states[j]!.sched.curr[e.cpu]).toBe(pid);
        expect(run.states[j]!.tasks.find((t) => t.pid === pid)?.cpu).toBe(e.cpu);
      }
    }
  });
});
