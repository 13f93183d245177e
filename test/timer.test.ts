// The local timer interrupt (issue 3 item 4, spec §7 context rules): with `"timer": {"period": N}`
// each CPU running a task with interrupts enabled takes it every N ticks; its handler runs in hard
// interrupt context on the task's stack, and its code can hit probes (R50, R60).

import { describe, expect, it } from 'vitest';
import { symbolsFor, type FunctionSymbol } from '../src/kernel/index.ts';
import type { ProbeSpec, TaskSpec } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { indexOf, ofType, trace } from './helpers.ts';

function withTimer(period: number, probes: ProbeSpec[], tasks: TaskSpec[], cpus = 1) {
  return validateScenario({ name: 'timer', cpus, timer: { period }, max_steps: 50_000, probes, tasks });
}

describe('timer interrupts', () => {
  it('the handler runs on the interrupted task’s stack in hard interrupt context, then the task goes on where it was', () => {
    const s = withTimer(30, [], [{ comm: 'cat', program: [{ op: 'call', fn: 'ksys_read', times: 3 }] }]);
    const r = trace(s);
    expect(r.violations).toEqual([]);
    const enter = indexOf(r.events, (e) => e.type === 'irq.enter');
    expect(enter).toBeGreaterThan(-1);
    const before = r.states[enter - 1]!;
    const inside = r.states[enter]!;
    // The interrupt frame sits on top of whatever the task was running.
    expect(inside.tasks[0]!.frames).toMatchObject({ fn: 'asm_sysvec_apic_timer_interrupt', pc: 0, irq: true, up: before.tasks[0]!.frames });
    expect(inside.cpus[0]).toMatchObject({ irqs_off: true, in_irq: 1, preempt_count: before.cpus[0]!.preempt_count + 1 });
    const exit = indexOf(r.events, (e) => e.type === 'irq.exit', enter);
    // Back exactly where it was: the same frames (pc included), interrupts on again.
    expect(r.states[exit]!.tasks[0]!.frames).toEqual(before.tasks[0]!.frames);
    expect(r.states[exit]!.cpus[0]).toMatchObject({ irqs_off: false, in_irq: 0, preempt_count: before.cpus[0]!.preempt_count });
    // The whole chain ran, down to scheduler_tick.
    const calls = ofType(r.events.slice(enter, exit), 'func.call').map((e) => e.fn);
    expect(calls).toEqual(['sysvec_apic_timer_interrupt', 'hrtimer_interrupt', 'tick_sched_timer', 'update_process_times', 'account_process_tick', 'scheduler_tick']);
    // The task's three reads all completed, and the next tick came `period` ticks after the exit.
    expect(ofType(r.events, 'func.ret').filter((e) => e.fn === 'ksys_read' && e.ctx === 'task')).toHaveLength(3);
    const exits = ofType(r.events, 'irq.exit');
    const enters = ofType(r.events, 'irq.enter');
    for (let i = 1; i < enters.length; i++) expect(enters[i]!.t).toBeGreaterThanOrEqual(exits[i - 1]!.next);
    expect(exits[0]!.next).toBe(exits[0]!.t + 30);
  });

  it('a probe in the tick code fires from interrupt context, with the interrupted task as current', () => {
    const s = withTimer(
      40,
      [{ name: 'tick', symbol: 'scheduler_tick', pre: [{ do: 'print', text: 'tick in {comm} on cpu {cpu}' }] }],
      [
        { comm: 'insmod', cpu: 0, program: [{ op: 'register_kprobe', probe: 'tick' }, { op: 'call', fn: 'vfs_read', times: 10 }] },
        { comm: 'cat', cpu: 1, program: [{ op: 'call', fn: 'vfs_read', times: 10 }] },
      ],
      2,
    );
    const r = trace(s);
    expect(r.violations).toEqual([]);
    const hits = ofType(r.events, 'kprobe.hit');
    expect(hits.length).toBeGreaterThan(1);
    for (const h of hits) {
      const i = r.events.indexOf(h);
      // In hard interrupt context: interrupts were off when the breakpoint trapped.
      expect(r.states[i - 1]!.cpus[h.cpu]!.in_irq).toBe(1);
      expect(h.pid).toBe(h.cpu === 0 ? 100 : 101);
    }
    const texts = new Set(ofType(r.events, 'printk').map((e) => e.text));
    expect(texts).toEqual(new Set(['tick in insmod on cpu 0', 'tick in cat on cpu 1']));
  });

  it('no interrupt while interrupts are off: a breakpoint handler that spins is never interrupted (R60)', () => {
    const s = withTimer(10, [{ name: 'slow', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 60 }] }], [
      { comm: 'cat', program: [{ op: 'register_kprobe', probe: 'slow' }, { op: 'call', fn: 'vfs_read' }] },
    ]);
    const r = trace(s);
    expect(r.violations).toEqual([]);
    const enter = indexOf(r.events, (e) => e.type === 'handler.enter');
    const exit = indexOf(r.events, (e) => e.type === 'kprobe.done', enter);
    // The timer was due long before the handler ended (60 spins, period 10), yet waited.
    expect(ofType(r.events.slice(enter, exit), 'irq.enter')).toEqual([]);
    expect(ofType(r.events.slice(exit), 'irq.enter').length).toBeGreaterThan(0);
  });

  it('a kprobe hit inside the interrupt returns with interrupts still off; the interrupt ends them', () => {
    const s = withTimer(25, [{ name: 'tick', symbol: 'update_process_times', pre: [] }], [
      { comm: 'cat', program: [{ op: 'register_kprobe', probe: 'tick' }, { op: 'call', fn: 'ksys_read', times: 4 }] },
    ]);
    const r = trace(s);
    expect(r.violations).toEqual([]);
    const done = indexOf(r.events, (e) => e.type === 'kprobe.done');
    expect(r.states[done]!.cpus[0]).toMatchObject({ irqs_off: true, in_irq: 1 });
    const exit = indexOf(r.events, (e) => e.type === 'irq.exit', done);
    expect(r.states[exit]!.cpus[0]).toMatchObject({ irqs_off: false, in_irq: 0 });
  });

  it('the tick code is in every image; the interrupt entry is not probeable (R28)', () => {
    for (const arch of ['x86_64', 'arm64'] as const) {
      const t = symbolsFor('6.17', arch);
      const entry = t.image.timerEntry!;
      expect(t.isBlacklisted(entry)).toBe(true);
      expect(t.isBlacklisted('scheduler_tick')).toBe(false);
      expect((t.lookup(entry) as FunctionSymbol).body.some((i) => i.op.k === 'call')).toBe(true);
    }
    expect(() => validateScenario({ name: 'x', cpus: 1, timer: { period: 2 }, probes: [], tasks: [] })).toThrow(/^scenario\.timer\.period: /);
  });

  it('an interrupt can arrive inside an ftrace-based handler (interrupts on, R93); a probe its code hits is a miss (R91, R50)', () => {
    const s = validateScenario({
      name: 'timer-in-ftrace-handler',
      cpus: 1,
      config: { ftrace: true },
      timer: { period: 15 },
      max_steps: 50_000,
      probes: [
        // ftrace-based (entry), with a long handler the tick will land in.
        { name: 'slow', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 40 }] },
        // ftrace-based too: reached from the interrupt while slow's handler runs.
        { name: 'tick', symbol: 'scheduler_tick', pre: [] },
        // A breakpoint probe in the tick code, past its fentry NOP (+5).
        { name: 'upt', symbol: 'update_process_times', offset: 5, pre: [] },
      ],
      tasks: [{ comm: 'cat', program: [{ op: 'register_kprobes', probes: ['slow', 'tick', 'upt'] }, { op: 'call', fn: 'vfs_read' }] }],
    });
    const r = trace(s);
    expect(r.violations).toEqual([]);
    const enter = indexOf(r.events, (e) => e.type === 'handler.enter' && e.probe === 'slow');
    const done = indexOf(r.events, (e) => e.type === 'kprobe.done', enter);
    const inside = r.events.slice(enter, done);
    // Interrupts came while slow's handler ran, each ending before it went on.
    const n = ofType(inside, 'irq.enter').length;
    expect(n).toBeGreaterThan(0);
    expect(ofType(inside, 'irq.exit')).toHaveLength(n);
    // From an interrupt, another context: tick (ftrace-based) is a miss each time, never dropped
    // by the recursion guard; upt (breakpoint) goes through REENTER and comes back.
    expect(ofType(inside, 'kprobe.ftrace.miss').map((e) => e.probes)).toEqual(Array.from({ length: n }, () => ['tick']));
    expect(ofType(inside, 'kprobe.ftrace.recursion')).toEqual([]);
    expect(ofType(inside, 'kprobe.miss').map((e) => [e.probes, e.status])).toEqual(Array.from({ length: n }, () => [['upt'], 'KPROBE_HIT_ACTIVE']));
    const restored = indexOf(r.events, (e) => e.type === 'kprobe.ss.done', enter);
    expect(r.states[restored]!.cpus[0]).toMatchObject({ status: 'KPROBE_HIT_ACTIVE', kprobe_irq: 0, in_irq: 1 });
    // slow's handler finished after the interrupt: its spins resumed where they were.
    expect(ofType(r.events, 'handler.exit').filter((e) => e.probe === 'slow')).toHaveLength(1);
    // Ticks outside the handler hit normally; the ones inside are all misses.
    expect(r.final.stats.tick!.nmissed).toBe(n);
    expect(r.final.stats.upt!.nmissed).toBe(n);
    expect(r.final.stats.tick!.hits).toBeGreaterThan(n);
  });
});
