import { describe, expect, it } from 'vitest';
import { EINVAL, ENOENT } from '../src/kprobes/errno.ts';
import { indexOf, ofType, scenario, trace } from './helpers.ts';

// register_kprobes / unregister_kprobes (spec §3.1, §8).

const probes = [
  { name: 'a', symbol: 'vfs_read' },
  { name: 'b', symbol: 'dput' },
  // In the alignment padding after kernel_clone: inside no symbol, -ENOENT (R21).
  { name: 'bad', symbol: 'kernel_clone', offset: 0x2f },
  { name: 'c', symbol: 'kfree' },
  { name: 'r', kind: 'kretprobe' as const, symbol: 'vfs_open' },
];

describe('register_kprobes (R32, R33)', () => {
  it('R32/R33: registers every entry in order and returns 0; kretprobes too', () => {
    const run = trace(scenario({ probes, tasks: [{ comm: 'x', program: [{ op: 'register_kprobes', probes: ['a', 'r', 'b'] }] }] }));
    expect(ofType(run.events, 'kprobe.registered').map((e) => e.probe)).toEqual(['a', 'r', 'b']);
    expect(ofType(run.events, 'kprobe.batch.return').map((e) => e.ret)).toEqual([0]);
    expect(run.final.kretprobes.r).toMatchObject({ attached: true });
    expect(run.final.tasks).toEqual([]);
    expect(run.violations).toEqual([]);
  });

  it('R32: entry i fails → entries before it are unregistered as one batch with one grace period; its error is returned; later entries untouched', () => {
    const run = trace(scenario({ probes, tasks: [{ comm: 'x', program: [{ op: 'register_kprobes', probes: ['a', 'b', 'bad', 'c'] }] }] }));
    const fail = ofType(run.events, 'kprobe.register.fail');
    expect(fail.map((f) => f.probe)).toEqual(['bad']);
    const batchStart = indexOf(run.events, (e) => e.type === 'kprobe.batch');
    const ret = ofType(run.events, 'kprobe.batch.return')[0]!;
    expect(fail[0]!.errno).toBe(-ENOENT);
    expect(ret.ret).toBe(-ENOENT);
    const between = run.events.slice(batchStart, run.events.indexOf(ret));
    expect(between.filter((e) => e.type === 'rcu.gp.start')).toHaveLength(1);
    expect(ofType(between, 'kprobe.unregistered').map((e) => e.probe)).toEqual(['a', 'b']);
    expect(between.some((e) => 'probe' in e && e.probe === 'c')).toBe(false);
    expect(run.final.kprobes.probes.a).toMatchObject({ state: 'unregistered' });
    expect(run.final.kprobes.table).toEqual({});
    expect(run.violations).toEqual([]);
  });

  it('R32: an empty batch is -EINVAL', () => {
    const run = trace(scenario({ probes, tasks: [{ comm: 'x', program: [{ op: 'register_kprobes', probes: [] }] }] }));
    expect(ofType(run.events, 'kprobe.batch.return').map((e) => e.ret)).toEqual([-EINVAL]);
    expect(ofType(run.events, 'mutex.lock')).toHaveLength(0);
  });
});

describe('unregister_kprobes (R63-R65)', () => {
  it('R63/R65: phase 1 for each entry under the mutex, then one grace period for the batch, then all return', () => {
    const run = trace(
      scenario({
        probes,
        tasks: [{ comm: 'x', program: [{ op: 'register_kprobes', probes: ['a', 'b', 'r'] }, { op: 'unregister_kprobes', probes: ['a', 'b', 'r'] }] }],
      }),
    );
    const batches = ofType(run.events, 'kprobe.batch');
    const from = run.events.indexOf(batches[1]!);
    const rest = run.events.slice(from);
    expect(ofType(rest, 'kprobe.unlink').map((e) => e.probe)).toEqual(['a', 'b', 'r']);
    expect(ofType(rest, 'rcu.gp.start')).toHaveLength(1);
    // All three return only after the grace period, together (R67 for each).
    const gpEnd = indexOf(run.events, (e) => e.type === 'rcu.gp.end', from);
    const unregistered = ofType(rest, 'kprobe.unregistered');
    expect(unregistered.map((e) => e.probe)).toEqual(['a', 'b', 'r']);
    for (const u of unregistered) expect(run.events.indexOf(u)).toBeGreaterThan(gpEnd);
    expect(run.final.kretprobes.r).toMatchObject({ attached: false });
    expect(run.final.kprobes.table).toEqual({});
    expect(run.violations).toEqual([]);
  });

  it('R63: an empty unregister_kprobes is a no-op', () => {
    const run = trace(scenario({ probes, tasks: [{ comm: 'x', program: [{ op: 'unregister_kprobes', probes: [] }] }] }));
    expect(ofType(run.events, 'kprobe.batch.return').map((e) => e.ret)).toEqual([0]);
    expect(ofType(run.events, 'rcu.gp.start')).toHaveLength(0);
  });

  it('R64: an entry that is not registered is skipped, the others go', () => {
    const run = trace(scenario({ probes, tasks: [{ comm: 'x', program: [{ op: 'register_kprobe', probe: 'a' }, { op: 'unregister_kprobes', probes: ['c', 'a'] }] }] }));
    expect(ofType(run.events, 'kprobe.unlink').map((e) => e.probe)).toEqual(['a']);
    expect(run.final.kprobes.probes.a).toMatchObject({ state: 'unregistered' });
    expect(run.final.kprobes.probes.c).toMatchObject({ state: 'unregistered' });
    expect(run.violations).toEqual([]);
  });
});
