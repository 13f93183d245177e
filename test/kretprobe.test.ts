import { describe, expect, it } from 'vitest';
import { BUILTIN_SYMBOLS } from '../src/kernel/index.ts';
import { EINVAL } from '../src/kprobes/errno.ts';
import { resolveProbe } from '../src/kprobes/resolve.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { indexOf, ofType, scenario, trace } from './helpers.ts';

// Kretprobes (spec §9).

describe('register_kretprobe (R70, R71)', () => {
  it('R70: a kretprobe must sit at a function entry, and not on __switch_to', () => {
    expect(resolveProbe({ name: 'rp', kind: 'kretprobe', symbol: 'vfs_read', offset: 1 }, BUILTIN_SYMBOLS)).toMatchObject({ ok: false, errno: -EINVAL });
    expect(resolveProbe({ name: 'rp', kind: 'kretprobe', symbol: '__switch_to' }, BUILTIN_SYMBOLS)).toMatchObject({ ok: false, errno: -EINVAL });
    // The same spots are fine for a plain kprobe.
    expect(resolveProbe({ name: 'kp', symbol: 'vfs_read', offset: 1 }, BUILTIN_SYMBOLS)).toMatchObject({ ok: true });
    expect(resolveProbe({ name: 'kp', symbol: '__switch_to' }, BUILTIN_SYMBOLS)).toMatchObject({ ok: true });
  });

  for (const [cpus, expected] of [
    [2, 10],
    [8, 16],
  ] as const) {
    it(`R71: maxactive 0 becomes max(10, 2 × CPUs) = ${expected} on ${cpus} CPUs, written back`, () => {
      const run = trace(
        scenario({
          cpus,
          probes: [{ name: 'rp', kind: 'kretprobe', symbol: 'vfs_read', maxactive: 0 }],
          tasks: [{ comm: 'insmod', program: [{ op: 'register_kprobe', probe: 'rp' }] }],
        }),
      );
      expect(ofType(run.events, 'kretprobe.pool')[0]!.maxactive).toBe(expected);
      expect(run.final.kretprobes.rp).toMatchObject({ maxactive: expected, free: expected, nmissed: 0, attached: true });
    });
  }
});

describe('the kretprobe-pool scenario (R72-R76)', () => {
  const run = trace(BUILTIN_SCENARIOS.get('kretprobe-pool')!, { seed: 42 });

  it('R73/R74: an entry hit with no free instance counts in rp->nmissed, not in the entry probe\'s nmissed', () => {
    const misses = ofType(run.events, 'kretprobe.miss');
    expect(misses.length).toBeGreaterThan(0);
    expect(run.final.kretprobes.rp!.nmissed).toBe(misses.length);
    for (const m of misses) expect(run.states[run.events.indexOf(m) - 1]!.kretprobes.rp!.free).toBe(0);
    expect(run.final.stats.rp!.nmissed).toBe(0);
    expect(run.violations).toEqual([]);
  });

  it('R72: never more than maxactive instances out at once; all back at the end', () => {
    for (const s of run.states) if (s.kretprobes.rp) expect(s.kretprobes.rp.free).toBeGreaterThanOrEqual(0);
    expect(run.final.kretprobes.rp!.free).toBe(2);
  });

  it('R75/R76: each return handler runs once for its own call and sees that call\'s return value', () => {
    const trampolines = ofType(run.events, 'kretprobe.trampoline');
    expect(trampolines.length).toBe(ofType(run.events, 'kretprobe.hook').length);
    const printed = ofType(run.events, 'printk').filter((p) => p.text.startsWith('kernel_clone returned'));
    expect(printed).toHaveLength(trampolines.length);
    for (const tr of trampolines) {
      const i = run.events.indexOf(tr);
      // kernel_clone returns the pid of the child this very call forked.
      const fork = run.events.slice(0, i).reverse().find((e) => e.type === 'task.fork' && e.pid === tr.pid);
      expect(fork && fork.type === 'task.fork' && fork.child).toBe(tr.ret);
      const line = printed.find((p) => p.seq > tr.seq && p.cpu === tr.cpu)!;
      expect(line.text).toBe(`kernel_clone returned ${tr.ret} on cpu ${tr.cpu}`);
    }
  });

  it('R75: the return handler runs in KPROBE_HIT_ACTIVE with preemption off, then current_kprobe is NULL', () => {
    for (const e of ofType(run.events, 'handler.enter').filter((x) => x.phase === 'ret')) {
      const c = run.states[run.events.indexOf(e)]!.cpus[e.cpu]!;
      expect(c).toMatchObject({ status: 'KPROBE_HIT_ACTIVE', probes: ['rp'] });
      expect(c.preempt_count).toBeGreaterThan(0);
    }
    for (const e of ofType(run.events, 'kretprobe.put').filter((x) => x.reason === 'returned')) {
      expect(run.states[run.events.indexOf(e)]!.cpus[e.cpu]).toMatchObject({ status: 'idle', current: null });
    }
  });
});

describe('two kretprobes on one function (R75: newest instance first)', () => {
  it('return handlers run in the reverse order of the entry hooks', () => {
    const run = trace(
      scenario({
        probes: [
          { name: 'a', kind: 'kretprobe', symbol: 'dput', handler: [{ do: 'print', text: 'a returns' }] },
          { name: 'b', kind: 'kretprobe', symbol: 'dput', handler: [{ do: 'print', text: 'b returns' }] },
        ],
        tasks: [{ comm: 'x', program: [{ op: 'register_kprobe', probe: 'a' }, { op: 'register_kprobe', probe: 'b' }, { op: 'call', fn: 'dput' }] }],
      }),
    );
    // R9: b (newer) hooks first, so its instance is the older one on the frame.
    expect(ofType(run.events, 'kretprobe.hook').map((e) => e.instance)).toEqual(['b#1', 'a#1']);
    expect(ofType(run.events, 'kretprobe.trampoline')[0]!.instances).toEqual(['a#1', 'b#1']);
    expect(ofType(run.events, 'printk').map((p) => p.text)).toEqual(['a returns', 'b returns']);
    expect(run.violations).toEqual([]);
  });
});

describe('calls that never return, and unregistering with calls in flight', () => {
  it('R78: a kretprobe on do_exit never runs its handler; the instance comes back when the task is freed', () => {
    const run = trace(
      scenario({
        probes: [{ name: 'rp', kind: 'kretprobe', symbol: 'do_exit', maxactive: 1, handler: [{ do: 'print', text: 'never' }] }],
        tasks: [
          { comm: 'insmod', program: [{ op: 'register_kprobe', probe: 'rp' }] },
          { comm: 'a', program: [{ op: 'sleep', ticks: 30 }] },
        ],
      }),
    );
    expect(ofType(run.events, 'kretprobe.hook').length).toBeGreaterThan(0);
    expect(ofType(run.events, 'kretprobe.trampoline')).toHaveLength(0);
    expect(run.final.stats.rp!.ret_calls).toBe(0);
    expect(run.final.kretprobes.rp!.free).toBe(1);
    expect(run.violations).toEqual([]);
  });

  it('R69/R80: after unregister returns, a call hooked earlier returns without its handler', () => {
    const run = trace(
      scenario({
        cpus: 2,
        probes: [
          { name: 'rp', kind: 'kretprobe', symbol: 'do_sys_openat2', handler: [{ do: 'print', text: 'returned {retval}' }] },
          { name: 'slow', symbol: 'vfs_open', pre: [{ do: 'spin', steps: 300 }] },
        ],
        tasks: [
          {
            comm: 'rmmod',
            cpu: 0,
            program: [
              { op: 'register_kprobe', probe: 'slow' },
              { op: 'register_kprobe', probe: 'rp' },
              { op: 'sleep', ticks: 150 },
              { op: 'unregister_kprobe', probe: 'rp' },
            ],
          },
          { comm: 'open', cpu: 1, program: [{ op: 'sleep', ticks: 40 }, { op: 'call', fn: 'do_sys_openat2' }] },
        ],
      }),
      { seed: 42 },
    );
    const returned = ofType(run.events, 'kprobe.unregistered')[0]!;
    const hook = ofType(run.events, 'kretprobe.hook')[0]!;
    const tramp = ofType(run.events, 'kretprobe.trampoline')[0]!;
    // The call was hooked before unregistration and returned after it.
    expect(hook.seq).toBeLessThan(returned.seq);
    expect(tramp.seq).toBeGreaterThan(returned.seq);
    expect(ofType(run.events, 'kretprobe.ret_handler')).toHaveLength(0);
    expect(ofType(run.events, 'kretprobe.put').map((p) => p.reason)).toEqual(['detached']);
    // The call still got its real return address and value back.
    const ret = indexOf(run.events, (e) => e.type === 'kretprobe.return');
    expect(run.events[ret]).toMatchObject({ fn: 'do_sys_openat2', ret: 3 });
    expect(run.violations).toEqual([]);
  });
});

describe('disable_kprobe on a kretprobe (R39)', () => {
  it('R39: disabling stops new entries from being hooked; a call hooked earlier still runs its return handler', () => {
    const run = trace(
      scenario({
        cpus: 2,
        probes: [
          { name: 'rp', kind: 'kretprobe', symbol: 'do_sys_openat2', handler: [{ do: 'print', text: 'returned {retval}' }] },
          { name: 'slow', symbol: 'vfs_open', pre: [{ do: 'spin', steps: 200 }] },
        ],
        tasks: [
          {
            comm: 'ctl',
            cpu: 0,
            program: [
              { op: 'register_kprobe', probe: 'slow' },
              { op: 'register_kprobe', probe: 'rp' },
              { op: 'sleep', ticks: 150 },
              { op: 'disable_kprobe', probe: 'rp' },
            ],
          },
          { comm: 'open', cpu: 1, program: [{ op: 'sleep', ticks: 40 }, { op: 'call', fn: 'do_sys_openat2' }, { op: 'sleep', ticks: 600 }, { op: 'call', fn: 'do_sys_openat2' }] },
        ],
      }),
      { seed: 42 },
    );
    const disabled = ofType(run.events, 'kprobe.returned').find((e) => e.fn === 'disable_kprobe')!;
    const hooks = ofType(run.events, 'kretprobe.hook');
    // The first call was hooked before the disable, the second call came after it and was not.
    expect(hooks).toHaveLength(1);
    expect(hooks[0]!.seq).toBeLessThan(disabled.seq);
    const handler = ofType(run.events, 'kretprobe.ret_handler');
    expect(handler).toHaveLength(1);
    expect(handler[0]!.seq).toBeGreaterThan(disabled.seq);
    expect(ofType(run.events, 'printk').map((p) => p.text)).toEqual(['returned 3']);
    expect(run.violations).toEqual([]);
  });
});

describe('stack traces while a kretprobed function runs (R79)', () => {
  for (const [kernel, shows] of [
    ['5.10', true],
    ['6.17', false],
  ] as const) {
    it(`R79: on ${kernel} dump_stack ${shows ? 'shows the trampoline' : 'shows the real caller'} where the hooked call returns`, () => {
      const s = scenario({
        probes: [
          { name: 'rp', kind: 'kretprobe', symbol: 'do_filp_open' },
          { name: 'kp', symbol: 'vfs_open', pre: [{ do: 'dump_stack' }] },
        ],
        tasks: [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: 'rp' }, { op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'do_sys_open' }] }],
      });
      const run = trace({ ...s, kernel });
      const lines = ofType(run.events, 'printk').map((p) => p.text);
      // vfs_open is called by do_filp_open, which was called by do_sys_open(at2): the line after
      // do_filp_open's is its return address.
      const at = lines.findIndex((l) => l.startsWith(' do_filp_open+'));
      expect(at).toBeGreaterThan(0);
      if (shows) expect(lines[at + 1]).toMatch(/^ kretprobe_trampoline\+0x0\//);
      else expect(lines[at + 1]).toMatch(/^ do_sys_open(at2)?\+0x/);
      expect(run.violations).toEqual([]);
    });
  }
});

describe('re-registration with a call still hooked by the old pool (R69, R80)', () => {
  it('the old instance is freed when its call returns, not credited to the new pool', () => {
    // Found by the property tests (shrunk): unregister and register again while kernel_clone,
    // hooked by the first registration, is still running.
    const s = scenario({
      cpus: 5,
      probes: [{ name: 'kp0', kind: 'kretprobe', symbol: 'kernel_clone', maxactive: 0 }],
      tasks: [
        { comm: 'insmod', program: [{ op: 'register_kprobe', probe: 'kp0' }, { op: 'sleep', ticks: 1 }] },
        { comm: 'bash', cpu: 0, program: [{ op: 'call', fn: 'kernel_clone' }] },
        { comm: 'bash', program: [{ op: 'unregister_kprobe', probe: 'kp0' }, { op: 'clear_kprobe', probe: 'kp0' }, { op: 'register_kprobe', probe: 'kp0' }] },
      ],
    });
    const run = trace({ ...s, kernel: '5.10' }, { seed: 2340228587 });
    const hook = ofType(run.events, 'kretprobe.hook')[0]!;
    const secondPool = ofType(run.events, 'kretprobe.pool')[1]!;
    const put = ofType(run.events, 'kretprobe.put')[0]!;
    expect(hook.seq).toBeLessThan(secondPool.seq);
    expect(put).toMatchObject({ instance: hook.instance, reason: 'detached' });
    expect(run.final.kretprobes.kp0).toMatchObject({ maxactive: 10, free: 10 });
    expect(run.violations).toEqual([]);
  });
});

describe('changing the return value from a return handler', () => {
  it('set_retval: the caller gets the new value, and an older instance\'s handler already sees it (trampoline newest first, R75)', () => {
    const original = (BUILTIN_SYMBOLS.lookup('vfs_read') as { ret: number }).ret;
    const r = trace(
      scenario({
        probes: [
          // Registered first: last in the aggregated list (R9), so its instance is hooked last
          // and its return handler runs first.
          { name: 'fixer', kind: 'kretprobe', symbol: 'vfs_read', handler: [{ do: 'print', text: 'fixer saw {retval}' }, { do: 'set_retval', value: -5 }] },
          { name: 'watcher', kind: 'kretprobe', symbol: 'vfs_read', handler: [{ do: 'print', text: 'watcher saw {retval}' }] },
        ],
        tasks: [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: 'fixer' }, { op: 'register_kprobe', probe: 'watcher' }, { op: 'call', fn: 'vfs_read' }] }],
      }),
    );
    expect(original).not.toBe(-5);
    expect(ofType(r.events, 'printk').map((e) => e.text)).toEqual([`fixer saw ${original}`, 'watcher saw -5']);
    expect(ofType(r.events, 'kretprobe.set_retval')).toHaveLength(1);
    expect(ofType(r.events, 'kretprobe.return').map((e) => [e.fn, e.ret])).toEqual([['vfs_read', -5]]);
    expect(r.violations).toEqual([]);
  });

  it('set_retval is refused outside a kretprobe return handler, with the field path', () => {
    let message = '';
    try {
      scenario({ probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'set_retval', value: 1 }] }], tasks: [] });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe('scenario.probes[0].pre[0].do: "set_retval" is only for a kretprobe return handler, where the return value is in regs->ax');
  });
});
