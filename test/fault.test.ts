import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.ts';
import type { KernelVersion } from '../src/kernel/index.ts';
import type { HandlerStep, ProbeSpec } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { ofType, scenario, trace } from './helpers.ts';

// Faults inside handlers (spec R58): intercepted by kprobes before v5.14, ordinary since.

function run(kernel: KernelVersion, step: HandlerStep, extra: Partial<ProbeSpec> = {}) {
  const s = scenario({
    probes: [{ name: 'kp', symbol: 'vfs_read', pre: [step, { do: 'print', text: 'after the fault' }] }],
    tasks: [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'vfs_read' }] }],
  });
  return trace({ ...s, kernel, probes: [{ ...s.probes[0]!, ...extra }] });
}

const texts = (r: ReturnType<typeof run>) => ofType(r.events, 'printk').map((p) => p.text);

describe('a fault inside a handler', () => {
  it('R58 (v5.14+): no fixup → the kernel oopses; kprobes counts no miss', () => {
    const r = run('6.17', { do: 'fault' });
    expect(r.sim.endReason).toBe('bug');
    expect(texts(r)).toContain('BUG: kernel NULL pointer dereference, address: 0000000000000000');
    expect(r.final.stats.kp!.nmissed).toBe(0);
    expect(ofType(r.events, 'kprobe.fault')[0]).toMatchObject({ probes: [], outcome: 'oops' });
  });

  it('R58 (v5.14+): an access with an exception-table fixup returns an error and the handler goes on', () => {
    const r = run('6.17', { do: 'fault', fixup: true });
    expect(r.sim.endReason).toBe('done');
    expect(texts(r)).toContain('after the fault');
    expect(r.final.stats.kp!.nmissed).toBe(0);
    expect(r.violations).toEqual([]);
  });

  it('R58 (before v5.14): the fault first counts as a miss of the running probe, then fault_handler decides', () => {
    const handled = run('5.10', { do: 'fault' }, { fault_handler: { print: 'fault_handler: p->addr = 0x…, trap #14', handled: true } });
    expect(handled.sim.endReason).toBe('done');
    expect(texts(handled)).toEqual(['fault_handler: p->addr = 0x…, trap #14', 'after the fault']);
    expect(handled.final.stats.kp).toMatchObject({ hits: 1, handled: 1, nmissed: 1, fault_misses: 1 });
    expect(handled.violations).toEqual([]);

    const unhandled = run('5.10', { do: 'fault' }, { fault_handler: { handled: false } });
    expect(unhandled.sim.endReason).toBe('bug');
    expect(unhandled.final.stats.kp!.nmissed).toBe(1);

    const fixedUp = run('4.14', { do: 'fault', fixup: true }, { fault_handler: { handled: false } });
    expect(fixedUp.sim.endReason).toBe('done');
    expect(ofType(fixedUp.events, 'kprobe.fault')[0]).toMatchObject({ probes: ['kp'], outcome: 'fixup' });
  });

  it('R58: a fault_handler on a kernel without one is refused, naming the field and the releases that had it', () => {
    let message = '';
    try {
      validateScenario({ name: 'x', cpus: 1, probes: [{ name: 'kp', symbol: 'vfs_read', fault_handler: { handled: false } }], tasks: [] });
    } catch (e) {
      if (e instanceof InputError) message = e.message;
    }
    expect(message).toBe('scenario.probes[0].fault_handler: kernel 6.17 has no fault_handler (removed in 5.14; kernels 4.14 and 5.10 have it)');
  });
});
