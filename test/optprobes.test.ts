// Optimized probes (spec §11), with `"config": {"optprobes": true}` (CONFIG_OPTPROBES, the sysctl
// on): an eligible probe is queued at registration and, OPTIMIZE_DELAY later, its breakpoint
// becomes a jump to a detour buffer whose callback runs the pre-handlers.

import { describe, expect, it } from 'vitest';
import { symbolsFor, type FunctionSymbol } from '../src/kernel/index.ts';
import { OPTIMIZE_DELAY_TICKS } from '../src/kprobes/optimizer.ts';
import type { ProbeSpec, TaskOp } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { kprobesList } from '../src/views/debugfs.ts';
import { indexOf, ofType, trace } from './helpers.ts';

const register = (...probes: string[]): TaskOp[] => probes.map((probe) => ({ op: 'register_kprobe', probe }));
/** Long enough for the optimizer's delay to pass. */
const WAIT: TaskOp = { op: 'sleep', ticks: OPTIMIZE_DELAY_TICKS + 100 };
const vfsRead = symbolsFor('6.17').lookup('vfs_read') as FunctionSymbol;
const hex = (n: bigint) => `0x${n.toString(16)}`;

function run(probes: ProbeSpec[], program: TaskOp[], optprobes = true) {
  const s = validateScenario({ name: 'opt', cpus: 1, config: { optprobes }, max_steps: 50_000, probes, tasks: [{ comm: 'insmod', program }] });
  return { s, r: trace(s) };
}

describe('optprobes (§11)', () => {
  it('R84, R85, R89: queued at registration ([OPTIMIZED] at once), hits before the patch resume in the detour; after the delay the jump', () => {
    const { s, r } = run([{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'print', text: 'pre' }] }], [...register('kp'), { op: 'call', fn: 'vfs_read' }, WAIT, { op: 'call', fn: 'vfs_read' }]);
    expect(r.violations).toEqual([]);
    const queue = ofType(r.events, 'kprobe.opt.queue');
    expect(queue).toMatchObject([{ addr: hex(vfsRead.addr) }]);
    expect(queue[0]!.due).toBe(queue[0]!.t + OPTIMIZE_DELAY_TICKS);
    // R89: the list says OPTIMIZED as soon as it is queued.
    const queued = r.states[r.events.indexOf(queue[0]!)]!;
    expect(kprobesList(queued, s, symbolsFor('6.17'))).toMatch(/\[OPTIMIZED\]\n$/);
    // First call: breakpoint, pre-handler, then the detour buffer (no single-step, R85).
    expect(ofType(r.events, 'kprobe.trap')).toHaveLength(1);
    expect(ofType(r.events, 'kprobe.detour')).toHaveLength(1);
    expect(ofType(r.events, 'kprobe.ss')).toEqual([]);
    // The patch comes only once the delay has passed (R84); the second call jumps (R86).
    const patch = ofType(r.events, 'kprobe.opt.patch')[0]!;
    expect(patch.t).toBeGreaterThanOrEqual(queue[0]!.due);
    const hit = indexOf(r.events, (e) => e.type === 'kprobe.opt.hit');
    expect(hit).toBeGreaterThan(r.events.indexOf(patch));
    expect(r.events[indexOf(r.events, (e) => e.type === 'kprobe.opt.done') + 1]).toMatchObject({ type: 'insn.exec', ip: hex(vfsRead.addr) });
    expect(r.final.stats.kp).toMatchObject({ hits: 2, pre_calls: 2 });
    expect(ofType(r.events, 'printk')).toHaveLength(2);
  });

  it('R83: not optimized with a post-handler, with a call in the jump, or past the function’s end; nor without CONFIG_OPTPROBES', () => {
    const call = vfsRead.body.find((i) => i.op.k === 'call')!;
    const last = vfsRead.body.at(-3)!;
    const cases: [ProbeSpec, boolean][] = [
      [{ name: 'kp', symbol: 'vfs_read', pre: [], post: [] }, true],
      [{ name: 'kp', symbol: 'vfs_read', offset: call.off - 1 > 0 ? vfsRead.body.find((i) => i.off + i.len === call.off)!.off : 0, pre: [] }, true],
      [{ name: 'kp', symbol: 'vfs_read', offset: last.off, pre: [] }, true],
      [{ name: 'kp', symbol: 'vfs_read', pre: [] }, false],
    ];
    for (const [probe, optprobes] of cases) {
      const { r } = run([probe], [...register('kp'), WAIT, { op: 'call', fn: 'vfs_read' }], optprobes);
      expect(r.violations).toEqual([]);
      expect(ofType(r.events, 'kprobe.opt.queue')).toEqual([]);
      expect(ofType(r.events, 'kprobe.trap')).toHaveLength(1);
    }
  });

  it('R86: the optimized callback ignores return values and IP changes; a kprobe already running makes it a miss for every child', () => {
    const { r } = run(
      [
        { name: 'kp', symbol: 'vfs_read', pre: [{ do: 'return', value: 1 }] },
        // A breakpoint probe (post-handler: never optimized) whose handler calls vfs_read.
        { name: 'outer', symbol: 'ksys_read', pre: [{ do: 'call', fn: 'vfs_read' }], post: [] },
      ],
      [...register('kp', 'outer'), WAIT, { op: 'call', fn: 'vfs_read' }, { op: 'call', fn: 'ksys_read' }],
    );
    expect(r.violations).toEqual([]);
    // The direct call: return 1 is ignored, vfs_read runs to its end (no redirect).
    expect(ofType(r.events, 'kprobe.redirect')).toEqual([]);
    expect(ofType(r.events, 'func.ret').filter((e) => e.fn === 'vfs_read' && e.ctx === 'task').length).toBeGreaterThanOrEqual(1);
    // From outer's handler: a miss, no handler.
    expect(ofType(r.events, 'kprobe.opt.miss')).toMatchObject([{ probes: ['kp'] }]);
    expect(r.final.stats.kp).toMatchObject({ nmissed: 1, pre_calls: 2 });
  });

  it('R87: a child with a post-handler unoptimizes at once; unregistering unoptimizes before the disarm', () => {
    const { r } = run(
      [
        { name: 'kp', symbol: 'vfs_read', pre: [] },
        { name: 'withpost', symbol: 'vfs_read', pre: [], post: [{ do: 'print', text: 'post' }] },
      ],
      [...register('kp'), WAIT, { op: 'call', fn: 'vfs_read' }, ...register('withpost'), { op: 'call', fn: 'vfs_read' }, { op: 'unregister_kprobe', probe: 'withpost' }, { op: 'unregister_kprobe', probe: 'kp' }],
    );
    expect(r.violations).toEqual([]);
    const unopt = ofType(r.events, 'kprobe.opt.unopt');
    expect(unopt.length).toBeGreaterThanOrEqual(1);
    const insert = indexOf(r.events, (e) => e.type === 'kprobe.insert' && e.probe === 'withpost');
    expect(r.events.indexOf(unopt[0]!)).toBeLessThan(insert);
    // After that the point traps again, and the post-handler runs (single-step).
    expect(ofType(r.events.slice(insert), 'kprobe.trap')).toHaveLength(1);
    expect(ofType(r.events, 'printk').map((e) => e.text)).toEqual(['post']);
  });

  it('R88: a pre-handler that must change the IP keeps its probe unoptimized with an empty post-handler', () => {
    const probes = (post: boolean): ProbeSpec[] => [{ name: 'kp', symbol: 'do_sys_openat2', pre: [{ do: 'jump', fn: 'getname' }], ...(post ? { post: [] } : {}) }];
    const program = [...register('kp'), WAIT, { op: 'call', fn: 'do_sys_open' } as TaskOp];
    // Optimized: the jump is ignored and do_sys_openat2 runs its own body (do_filp_open).
    const optimized = run(probes(false), program).r;
    expect(ofType(optimized.events, 'kprobe.opt.hit')).toHaveLength(1);
    expect(ofType(optimized.events, 'func.call').some((e) => e.fn === 'do_filp_open')).toBe(true);
    // With an empty post-handler it is never optimized, and the jump takes effect.
    const kept = run(probes(true), program).r;
    expect(ofType(kept.events, 'kprobe.opt.queue')).toEqual([]);
    expect(ofType(kept.events, 'kprobe.jump')).toHaveLength(1);
    expect(ofType(kept.events, 'func.call').some((e) => e.fn === 'do_filp_open')).toBe(false);
  });

  it('R40: the kprobes-optimization sysctl: 0 unoptimizes (the probe keeps working by breakpoint), 1 optimizes again', () => {
    const call: TaskOp = { op: 'call', fn: 'vfs_read' };
    const { r } = run([{ name: 'kp', symbol: 'vfs_read', pre: [] }], [...register('kp'), WAIT, call, { op: 'kprobes_optimization', value: false }, call, { op: 'kprobes_optimization', value: true }, WAIT, call]);
    expect(r.violations).toEqual([]);
    const kinds = r.events.filter((e) => ['kprobe.opt.hit', 'kprobe.trap', 'kprobe.opt.unopt', 'kprobe.opt.queue', 'kprobe.opt.patch', 'kprobes.optimization'].includes(e.type)).map((e) => e.type);
    expect(kinds).toEqual([
      'kprobe.opt.queue',
      'kprobe.opt.patch',
      'kprobe.opt.hit',
      'kprobes.optimization',
      'kprobe.opt.unopt',
      'kprobe.trap',
      'kprobes.optimization',
      'kprobe.opt.queue',
      'kprobe.opt.patch',
      'kprobe.opt.hit',
    ]);
    // While off, the breakpoint path single-steps as usual.
    expect(ofType(r.events, 'kprobe.ss')).toHaveLength(1);
    expect(r.final.stats.kp).toMatchObject({ hits: 3, pre_calls: 3, nmissed: 0 });
  });
});
