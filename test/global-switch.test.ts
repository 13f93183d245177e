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
});
