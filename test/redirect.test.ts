import { describe, expect, it } from 'vitest';
import { BUILTIN_SYMBOLS } from '../src/kernel/index.ts';
import { toHex } from '../src/model/hex.ts';
import type { ProbeSpec } from '../src/scenario/types.ts';
import { indexOf, ofType, scenario, trace } from './helpers.ts';

// A pre-handler that returns non-zero (spec R46, R10).

const READ = BUILTIN_SYMBOLS.lookup('vfs_read')!;

function run(probes: ProbeSpec[]) {
  return trace(
    scenario({
      probes,
      tasks: [{ comm: 'cat', program: [...probes.map((p) => ({ op: 'register_kprobe' as const, probe: p.name })), { op: 'call', fn: 'vfs_read' }] }],
    }),
  );
}

describe('a pre-handler returning non-zero', () => {
  it('R46: no single-step, no post-handler; execution resumes at the byte after the int3', () => {
    const r = run([{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'return', value: 1 }, { do: 'print', text: 'never' }], post: [{ do: 'print', text: 'post' }] }]);
    const red = ofType(r.events, 'kprobe.redirect');
    expect(red).toHaveLength(1);
    // vfs_read starts with a 1-byte push, so the byte after the int3 is the next instruction.
    expect(READ.kind === 'func' && READ.body[0]!.len).toBe(1);
    expect(red[0]).toMatchObject({ addr: toHex(READ.addr), ip: toHex(READ.addr + 1n), pc: 1 });
    expect(ofType(r.events, 'kprobe.ss')).toHaveLength(0);
    expect(ofType(r.events, 'printk')).toHaveLength(0);
    const i = r.events.indexOf(red[0]!);
    expect(r.states[i]!.cpus[0]).toMatchObject({ status: 'idle', current: null, preempt_count: 0, irqs_off: false });
    const next = indexOf(r.events, (e) => e.type === 'insn.exec', i);
    expect(r.events[next]).toMatchObject({ ip: toHex(READ.addr + 1n) });
    expect(r.final.stats.kp).toMatchObject({ hits: 1, handled: 1, pre_calls: 1, post_calls: 0 });
    expect(r.violations).toEqual([]);
  });

  it('R10/R53: at an aggregated point the later children are skipped (counted so), and no post-handler runs', () => {
    const r = run([
      { name: 'older', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 1 }], post: [{ do: 'spin', steps: 1 }] },
      { name: 'newer', symbol: 'vfs_read', pre: [{ do: 'return', value: 1 }] },
    ]);
    expect(ofType(r.events, 'kprobe.redirect')[0]!.skipped).toEqual(['older']);
    expect(r.final.stats.older).toMatchObject({ hits: 1, skipped: 1, pre_calls: 0, post_calls: 0 });
    expect(r.violations).toEqual([]);
  });

  it('R46: when the probed instruction is longer than one byte, the CPU resumes inside it and the kernel oopses', () => {
    const second = READ.kind === 'func' ? READ.body[1]! : undefined;
    expect(second!.len).toBeGreaterThan(1);
    const r = run([{ name: 'kp', symbol: 'vfs_read', offset: second!.off, pre: [{ do: 'return', value: 1 }] }]);
    expect(r.sim.endReason).toBe('bug');
    expect(ofType(r.events, 'printk').map((p) => p.text)).toContain('invalid opcode: 0000 [#1] PREEMPT SMP NOPTI');
  });
});
