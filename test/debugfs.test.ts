import { describe, expect, it } from 'vitest';
import { BUILTIN_SYMBOLS } from '../src/kernel/index.ts';
import { kprobeBucket } from '../src/kprobes/table.ts';
import { kprobesBlacklist, kprobesEnabled, kprobesList } from '../src/views/debugfs.ts';
import { scenario, trace } from './helpers.ts';

// /sys/kernel/debug/kprobes (spec §14).

const hex16 = (name: string) => BUILTIN_SYMBOLS.lookup(name)!.addr.toString(16).padStart(16, '0');

describe('debugfs kprobes/', () => {
  const s = scenario({
    probes: [
      { name: 'a', symbol: 'vfs_read' },
      { name: 'b', symbol: 'vfs_read', disabled: true },
      { name: 'rp', kind: 'kretprobe', symbol: 'dput' },
      { name: 'c', symbol: 'kernel_clone' },
    ],
    tasks: [
      {
        comm: 'insmod',
        program: [
          { op: 'register_kprobe', probe: 'a' },
          { op: 'register_kprobe', probe: 'b' },
          { op: 'register_kprobe', probe: 'rp' },
          { op: 'register_kprobe', probe: 'c' },
          { op: 'kprobes_enabled', value: false },
        ],
      },
    ],
  });
  const run = trace(s);
  const list = kprobesList(run.final, s, BUILTIN_SYMBOLS);

  it('R99: one line per client probe, `<addr>  <k|r>  <sym>+0x<off>  <module> <flags>`, children one by one', () => {
    const lines = list.split('\n').slice(0, -1);
    expect(lines).toHaveLength(4);
    expect(lines).toContain(`${hex16('vfs_read')}  k  vfs_read+0x0    `);
    expect(lines).toContain(`${hex16('vfs_read')}  k  vfs_read+0x0    [DISABLED]`);
    expect(lines).toContain(`${hex16('dput')}  r  dput+0x0    `);
    expect(lines).toContain(`${hex16('kernel_clone')}  k  kernel_clone+0x0    `);
    // R9: at one point, the newer probe (b) first.
    expect(lines.indexOf(`${hex16('vfs_read')}  k  vfs_read+0x0    [DISABLED]`)).toBeLessThan(lines.indexOf(`${hex16('vfs_read')}  k  vfs_read+0x0    `));
  });

  it('R7/R99: points are listed bucket by bucket, 0 to 63', () => {
    const buckets = list
      .trimEnd()
      .split('\n')
      .map((l) => kprobeBucket(BigInt(`0x${l.slice(0, 16)}`)));
    expect(buckets).toEqual([...buckets].sort((x, y) => x - y));
  });

  it('R100: the blacklist, one `0x<start>-0x<end>\\t<symbol>` line per blacklisted function', () => {
    const f = BUILTIN_SYMBOLS.lookup('get_kprobe')!;
    const line = `0x${hex16('get_kprobe')}-0x${(f.addr + BigInt(f.size)).toString(16).padStart(16, '0')}\tget_kprobe`;
    const lines = kprobesBlacklist(BUILTIN_SYMBOLS).trimEnd().split('\n');
    expect(lines).toContain(line);
    expect(lines.some((l) => l.endsWith('\tkernel_clone'))).toBe(false);
  });

  it('R101/R42: enabled reads 1, and 0 after the global switch was turned off', () => {
    expect(kprobesEnabled(run.states[0]!)).toBe('1\n');
    expect(kprobesEnabled(run.final)).toBe('0\n');
  });
});
