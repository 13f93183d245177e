import { describe, expect, it } from 'vitest';
import { BUILTIN_SYMBOLS } from '../src/kernel/index.ts';
import { EINVAL } from '../src/kprobes/errno.ts';
import { toHex } from '../src/model/hex.ts';
import { indexOf, ofType, scenario, trace } from './helpers.ts';

// enable_kprobe / disable_kprobe and registering disabled (spec §4, R29).

const VFS_READ = toHex(BUILTIN_SYMBOLS.lookup('vfs_read')!.addr);

describe('enable_kprobe / disable_kprobe (spec §4)', () => {
  const run = trace(
    scenario({
      cpus: 2,
      probes: [{ name: 'kp', symbol: 'vfs_read', disabled: true, pre: [{ do: 'spin', steps: 2 }] }],
      tasks: [
        {
          comm: 'insmod',
          cpu: 0,
          program: [
            { op: 'register_kprobe', probe: 'kp' },
            { op: 'call', fn: 'vfs_read' },
            { op: 'enable_kprobe', probe: 'kp' },
            { op: 'enable_kprobe', probe: 'kp' },
            { op: 'call', fn: 'vfs_read' },
            { op: 'disable_kprobe', probe: 'kp' },
            { op: 'disable_kprobe', probe: 'kp' },
            { op: 'call', fn: 'vfs_read' },
          ],
        },
      ],
    }),
  );
  const returns = ofType(run.events, 'kprobe.returned');

  it('R29: a probe registered DISABLED is in the table but not armed; its function runs without a trap', () => {
    const reg = indexOf(run.events, (e) => e.type === 'kprobe.registered');
    expect(run.states[reg]!.kprobes.table[VFS_READ]).toEqual({ probes: ['kp'], armed: false });
    const firstEnable = indexOf(run.events, (e) => e.type === 'kprobe.enable_kprobe');
    expect(run.events.slice(reg, firstEnable).some((e) => e.type === 'kprobe.trap')).toBe(false);
  });

  it('R35: enable_kprobe clears DISABLED and arms the point; a second call returns 0 and changes nothing', () => {
    expect(returns.filter((r) => r.fn === 'enable_kprobe').map((r) => r.ret)).toEqual([0, 0]);
    expect(ofType(run.events, 'kprobe.enable')).toHaveLength(1);
    expect(ofType(run.events, 'text.arm')).toHaveLength(1);
    expect(run.final.stats.kp!.pre_calls).toBe(1);
  });

  it('R34: disable_kprobe sets DISABLED and disarms; it is idempotent', () => {
    expect(returns.filter((r) => r.fn === 'disable_kprobe').map((r) => r.ret)).toEqual([0, 0]);
    expect(ofType(run.events, 'kprobe.disable')).toHaveLength(1);
    expect(ofType(run.events, 'text.disarm')).toHaveLength(1);
    expect(run.final.kprobes.probes.kp).toMatchObject({ state: 'registered', disabled: true });
    expect(run.final.kprobes.table[VFS_READ]!.armed).toBe(false);
    // The third vfs_read ran with no trap: one hit in all.
    expect(run.final.stats.kp!.hits).toBe(1);
    expect(run.violations).toEqual([]);
  });

  it('R34/R35: on a probe that is not registered both return -EINVAL', () => {
    const r = trace(
      scenario({
        probes: [{ name: 'kp', symbol: 'vfs_read' }],
        tasks: [{ comm: 'x', program: [{ op: 'enable_kprobe', probe: 'kp' }, { op: 'disable_kprobe', probe: 'kp' }] }],
      }),
    );
    expect(ofType(r.events, 'kprobe.returned').map((e) => e.ret)).toEqual([-EINVAL, -EINVAL]);
    expect(r.final.kprobes.table).toEqual({});
  });
});

describe('disable at an aggregated point (R10, R13, R38)', () => {
  const run = trace(
    scenario({
      probes: [
        { name: 'a', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 1 }] },
        { name: 'b', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 1 }] },
        { name: 'caller', symbol: 'dput', pre: [{ do: 'call', fn: 'vfs_read' }] },
      ],
      tasks: [
        {
          comm: 'insmod',
          program: [
            { op: 'register_kprobe', probe: 'a' },
            { op: 'register_kprobe', probe: 'b' },
            { op: 'register_kprobe', probe: 'caller' },
            { op: 'disable_kprobe', probe: 'a' },
            { op: 'call', fn: 'vfs_read' },
            { op: 'call', fn: 'dput' },
          ],
        },
      ],
    }),
  );

  it('R13: the point stays armed while another enabled probe is there', () => {
    expect(ofType(run.events, 'text.disarm')).toHaveLength(0);
    expect(run.final.kprobes.table[VFS_READ]).toEqual({ probes: ['b', 'a'], armed: true });
  });

  it('R10/INV-disabled: the disabled child is skipped, the other still runs', () => {
    const pre = run.events.filter((e) => (e.type === 'handler.enter' || e.type === 'handler.skip') && e.phase === 'pre');
    expect(pre.slice(0, 2).map((e) => `${e.type}:${(e as { probe: string }).probe}`)).toEqual(['handler.enter:b', 'handler.skip:a']);
    expect(run.final.stats.a).toMatchObject({ skipped: 1, pre_calls: 0 });
    expect(run.violations).toEqual([]);
  });

  it('R38: a disabled child still gets its nmissed increments', () => {
    expect(run.final.stats.a!.nmissed).toBe(1);
    expect(run.final.stats.b!.nmissed).toBe(1);
  });
});
