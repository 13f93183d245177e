import { describe, expect, it } from 'vitest';
import { BUILTIN_SYMBOLS } from '../src/kernel/index.ts';
import { toHex } from '../src/model/hex.ts';
import type { TaskOp } from '../src/scenario/types.ts';
import { indexOf, ofType, scenario, trace } from './helpers.ts';

// /sys/kernel/debug/kprobes/enabled (spec §5).

const READ = toHex(BUILTIN_SYMBOLS.lookup('vfs_read')!.addr);
const DPUT = toHex(BUILTIN_SYMBOLS.lookup('dput')!.addr);

function run(program: TaskOp[], probes = [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'spin' as const, steps: 1 }] }, { name: 'kd', symbol: 'dput' }]) {
  return trace(scenario({ probes, tasks: [{ comm: 'sh', program }] }));
}

describe('the global arm switch', () => {
  it('R42: writing 0 disarms every probe point and records it; writing 1 arms them again', () => {
    const r = run([
      { op: 'register_kprobe', probe: 'kp' },
      { op: 'register_kprobe', probe: 'kd' },
      { op: 'kprobes_enabled', value: false },
      { op: 'call', fn: 'vfs_read' },
      { op: 'kprobes_enabled', value: true },
      { op: 'call', fn: 'vfs_read' },
    ]);
    const off = indexOf(r.events, (e) => e.type === 'kprobes.enabled_written' && !e.value);
    expect(r.states[off]!.kprobes).toMatchObject({ all_disarmed: true });
    expect(r.states[off]!.kprobes.table[READ]!.armed).toBe(false);
    expect(r.states[off]!.kprobes.table[DPUT]!.armed).toBe(false);
    // Per-probe DISABLED flags are never touched by the switch.
    expect(r.states[off]!.kprobes.probes.kp!.disabled).toBe(false);
    expect(r.final.kprobes).toMatchObject({ all_disarmed: false });
    expect(r.final.kprobes.table[READ]!.armed).toBe(true);
    // One vfs_read with arming off (no hit), one after (a hit).
    expect(r.final.stats.kp!.hits).toBe(1);
    expect(r.violations).toEqual([]);
  });

  it('R42: writing the current state again is a no-op', () => {
    const r = run([{ op: 'register_kprobe', probe: 'kp' }, { op: 'kprobes_enabled', value: true }]);
    expect(ofType(r.events, 'kprobes.all_disarmed')).toHaveLength(0);
    expect(ofType(r.events, 'text.disarm')).toHaveLength(0);
    expect(ofType(r.events, 'kprobes.enabled_written').map((e) => e.value)).toEqual([true]);
  });

  it('R30: a probe registered while arming is off is not armed until arming is turned on', () => {
    const r = run([
      { op: 'kprobes_enabled', value: false },
      { op: 'register_kprobe', probe: 'kp' },
      { op: 'call', fn: 'vfs_read' },
      { op: 'kprobes_enabled', value: true },
      { op: 'call', fn: 'vfs_read' },
    ]);
    const reg = indexOf(r.events, (e) => e.type === 'kprobe.registered');
    expect(r.states[reg]!.kprobes.table[READ]).toEqual({ probes: ['kp'], armed: false });
    expect(r.final.kprobes.table[READ]!.armed).toBe(true);
    expect(r.final.stats.kp!.hits).toBe(1);
  });

  it('R36: enable_kprobe on a standalone probe while arming is off returns 0 but leaves it disabled; arm-all skips it', () => {
    const r = trace(
      scenario({
        probes: [{ name: 'kp', symbol: 'vfs_read', disabled: true }],
        tasks: [
          {
            comm: 'sh',
            program: [
              { op: 'register_kprobe', probe: 'kp' },
              { op: 'kprobes_enabled', value: false },
              { op: 'enable_kprobe', probe: 'kp' },
              { op: 'kprobes_enabled', value: true },
              { op: 'call', fn: 'vfs_read' },
            ],
          },
        ],
      }),
    );
    expect(ofType(r.events, 'kprobe.returned').map((e) => [e.fn, e.ret])).toEqual([['enable_kprobe', 0]]);
    expect(r.final.kprobes.probes.kp!.disabled).toBe(true);
    expect(r.final.kprobes.table[READ]!.armed).toBe(false);
    expect(r.final.stats.kp!.hits).toBe(0);
  });

  it('R36: at an aggregator whose children were all disabled, enable_kprobe while arming is off enables the child but not the aggregator; arm-all skips the point until enable_kprobe runs again with arming on', () => {
    const print = (text: string) => [{ do: 'print' as const, text }];
    const r = trace(
      scenario({
        probes: [
          { name: 'a', symbol: 'vfs_read', pre: print('a') },
          { name: 'b', symbol: 'vfs_read', pre: print('b') },
        ],
        tasks: [
          {
            comm: 'sh',
            program: [
              { op: 'register_kprobe', probe: 'a' },
              { op: 'register_kprobe', probe: 'b' },
              { op: 'disable_kprobe', probe: 'a' },
              { op: 'disable_kprobe', probe: 'b' },
              { op: 'kprobes_enabled', value: false },
              { op: 'enable_kprobe', probe: 'a' },
              { op: 'kprobes_enabled', value: true },
              { op: 'call', fn: 'vfs_read' },
              // a already reports enabled; with arming on this call arms the point.
              { op: 'enable_kprobe', probe: 'a' },
              { op: 'call', fn: 'vfs_read' },
            ],
          },
        ],
      }),
    );
    expect(r.violations).toEqual([]);
    const armAll = indexOf(r.events, (e) => e.type === 'kprobes.enabled_written' && e.value);
    // After arm-all: the child is enabled, the aggregator is not, and nothing is armed.
    expect(r.states[armAll]!.kprobes.probes.a!.disabled).toBe(false);
    expect(r.states[armAll]!.kprobes.table[READ]).toMatchObject({ armed: false, aggr_disabled: true });
    expect(ofType(r.events, 'kprobe.returned').map((e) => [e.fn, e.probe, e.ret])).toEqual([
      ['disable_kprobe', 'a', 0],
      ['disable_kprobe', 'b', 0],
      ['enable_kprobe', 'a', 0],
      ['enable_kprobe', 'a', 0],
    ]);
    // Only the second call hits, and only a's handler runs.
    expect(ofType(r.events, 'kprobe.hit')).toHaveLength(1);
    expect(ofType(r.events, 'printk').map((e) => e.text)).toEqual(['a']);
    expect(r.final.kprobes.table[READ]).toEqual({ probes: ['b', 'a'], armed: true });
  });
});
