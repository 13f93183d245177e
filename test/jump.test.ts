// R46 with a changed IP: a pre-handler that sets regs->ip to another function's entry and returns
// non-zero makes the call go on in that function, which returns to the original caller (how a
// livepatch-style redirection works; on an ftrace build, through the ftrace-based probe, R92).

import { describe, expect, it } from 'vitest';
import type { BuildConfig } from '../src/kernel/index.ts';
import type { ProbeSpec } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { ofType, trace } from './helpers.ts';

function run(probes: ProbeSpec[], config: BuildConfig = {}) {
  return trace(
    validateScenario({ name: 'jump', cpus: 1, config, max_steps: 20_000, probes, tasks: [{ comm: 'cat', program: [...probes.map((p) => ({ op: 'register_kprobe' as const, probe: p.name })), { op: 'call', fn: 'do_sys_open' }] }] }),
  );
}

describe('jump: regs->ip to another function, return 1 (R46)', () => {
  for (const config of [{}, { ftrace: true }, { ibt: true }] as BuildConfig[]) {
    it(`the call goes on in the new function and returns to the caller (${JSON.stringify(config)})`, () => {
      const r = run([{ name: 'kp', symbol: 'do_sys_openat2', pre: [{ do: 'jump', fn: 'getname' }], post: [] }], config);
      expect(r.violations).toEqual([]);
      expect(ofType(r.events, 'kprobe.jump')).toMatchObject([{ fn: 'getname', skipped: [] }]);
      const rets = ofType(r.events, 'func.ret').filter((e) => e.ctx === 'task').map((e) => [e.fn, e.ret]);
      // do_sys_openat2 never runs its own body (no do_filp_open); getname's return ends the call.
      expect(rets.slice(0, 2)).toEqual([
        ['getname', 0],
        ['do_sys_open', 3],
      ]);
      expect(ofType(r.events, 'func.call').some((e) => e.fn === 'do_filp_open')).toBe(false);
      // No single-step and no post-handler (R46).
      expect(ofType(r.events, 'kprobe.ss')).toEqual([]);
      expect(r.final.stats.kp).toMatchObject({ pre_calls: 1, post_calls: 0 });
    });
  }

  it('a kretprobe hooked on the call first sees the value the new function returns (R76); one registered before the jump is skipped (R10)', () => {
    // Registered last, the kretprobe is the newest child: its entry hook runs before the jump.
    const hooked = run([
      { name: 'kp', symbol: 'do_sys_openat2', pre: [{ do: 'jump', fn: 'getname' }] },
      { name: 'rp', kind: 'kretprobe', symbol: 'do_sys_openat2', handler: [{ do: 'print', text: 'returned {retval}' }] },
    ]);
    expect(hooked.violations).toEqual([]);
    expect(ofType(hooked.events, 'printk').map((e) => e.text)).toEqual(['returned 0']);
    // Registered first, it comes after the jumping pre-handler, which skips it.
    const skipped = run([
      { name: 'rp', kind: 'kretprobe', symbol: 'do_sys_openat2', handler: [{ do: 'print', text: 'returned {retval}' }] },
      { name: 'kp', symbol: 'do_sys_openat2', pre: [{ do: 'jump', fn: 'getname' }] },
    ]);
    expect(ofType(skipped.events, 'kprobe.jump')).toMatchObject([{ skipped: ['rp'] }]);
    expect(ofType(skipped.events, 'printk')).toEqual([]);
  });

  it('scenario errors name the field: not last, not at an entry, to itself, into do_exit', () => {
    const probe = (p: Partial<ProbeSpec>): unknown => ({ name: 'x', cpus: 1, tasks: [], probes: [{ name: 'kp', symbol: 'vfs_read', ...p }] });
    expect(() => validateScenario(probe({ pre: [{ do: 'jump', fn: 'kernel_read' }, { do: 'spin', steps: 1 }] }))).toThrow(/pre\[0\]\.do: "jump" ends the pre-handler/);
    expect(() => validateScenario(probe({ offset: 1, pre: [{ do: 'jump', fn: 'kernel_read' }] }))).toThrow(/pre\[0\]\.do: "jump" needs the probe on a function entry/);
    expect(() => validateScenario(probe({ pre: [{ do: 'jump', fn: 'vfs_read' }] }))).toThrow(/pre\[0\]\.fn: jumping to vfs_read would hit its own probe again, forever/);
    expect(() => validateScenario(probe({ pre: [{ do: 'jump', fn: 'do_exit' }] }))).toThrow(/pre\[0\]\.fn: do_exit forks or never returns/);
  });
});
