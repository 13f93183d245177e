import { describe, expect, it } from 'vitest';
import { EINVAL } from '../src/kprobes/errno.ts';
import { InputError } from '../src/errors.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { kprobesList } from '../src/views/debugfs.ts';
import { ofType, trace } from './helpers.ts';

// Jprobes as the 4.14 kernel documented them (spec R82).

const jscenario = (offset = 0) =>
  validateScenario({
    name: 'jprobe',
    kernel: '4.14',
    cpus: 1,
    probes: [{ name: 'jp', kind: 'jprobe', symbol: '_do_fork', offset, handler: [{ do: 'print', text: 'jdo_fork in {comm}' }] }],
    tasks: [{ comm: 'sh', program: [{ op: 'register_kprobe', probe: 'jp' }, { op: 'call', fn: '_do_fork', times: 2 }] }],
  });

describe('jprobes (4.14)', () => {
  it('R82: at each entry of the probed function, execution is diverted into the handler, then the function runs', () => {
    const s = jscenario();
    const r = trace(s);
    expect(ofType(r.events, 'printk').map((p) => p.text)).toEqual(['jdo_fork in sh', 'jdo_fork in sh']);
    for (const e of ofType(r.events, 'handler.enter')) {
      // In probe context: preemption disabled, the jprobe is current_kprobe (R59).
      const c = r.states[r.events.indexOf(e)]!.cpus[0]!;
      expect(c).toMatchObject({ status: 'KPROBE_HIT_ACTIVE' });
      expect(c.preempt_count).toBeGreaterThan(0);
    }
    // Both calls ran to their end and forked.
    expect(ofType(r.events, 'task.fork')).toHaveLength(2);
    expect(kprobesList(r.final, s, r.sim.setup.symbols)).toMatch(/^[0-9a-f]{16}  j  _do_fork\+0x0    \n$/);
    expect(r.violations).toEqual([]);
  });

  it('R82: only at a function entry', () => {
    const r = trace(jscenario(1));
    expect(ofType(r.events, 'kprobe.register.fail').map((f) => f.errno)).toEqual([-EINVAL]);
  });

  it('R82: a jprobe on a kernel after 4.14 is refused, naming the field and the release that had them', () => {
    let message = '';
    try {
      validateScenario({ name: 'x', cpus: 1, probes: [{ name: 'jp', kind: 'jprobe', symbol: 'kernel_clone', handler: [] }], tasks: [] });
    } catch (e) {
      if (e instanceof InputError) message = e.message;
    }
    expect(message).toBe('scenario.probes[0].kind: kernel 6.17 has no jprobes (disabled in 4.15, removed in 4.19; kernel 4.14 has them)');
  });
});
