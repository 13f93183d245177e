// Optimized probes (spec §11), with `"config": {"optprobes": true}` (CONFIG_OPTPROBES, the sysctl
// on): an eligible probe is queued at registration and, OPTIMIZE_DELAY later, its breakpoint
// becomes a jump to a detour buffer whose callback runs the pre-handlers.

import { describe, expect, it } from 'vitest';
import { symbolsFor, type FunctionSymbol } from '../src/kernel/index.ts';
import { OPTIMIZE_DELAY_TICKS } from '../src/kprobes/optimizer.ts';
import type { Hex } from '../src/model/events.ts';
import type { ProbeSpec, TaskOp } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { kprobesList } from '../src/views/debugfs.ts';
import { indexOf, ofType, trace } from './helpers.ts';

const register = (...probes: string[]): TaskOp[] => probes.map((probe) => ({ op: 'register_kprobe', probe }));
/** Long enough for the optimizer's delay to pass. */
const WAIT: TaskOp = { op: 'sleep', ticks: OPTIMIZE_DELAY_TICKS + 100 };
const vfsRead = symbolsFor('6.17').lookup('vfs_read') as FunctionSymbol;
const hex = (n: bigint): Hex => `0x${n.toString(16)}`;

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

// The optimizer's queue on the way out (R87): disable and unregister leave the jump in place until
// the optimizer runs; what hits it meanwhile, what a registration there does (R15), and when the
// emptied aggregator leaves the table (R64, R68).
describe('queued unoptimization (R87, R68, R15, R64)', () => {
  const printing = (name: string, extra: Partial<ProbeSpec> = {}): ProbeSpec => ({ name, symbol: 'vfs_read', pre: [{ do: 'print', text: name }], ...extra });
  const call: TaskOp = { op: 'call', fn: 'vfs_read' };
  const at = hex(vfsRead.addr);

  it('R87, R86: disable_kprobe queues the unoptimization; the jump meanwhile finds the aggregator disabled and counts nothing; then the optimizer disarms', () => {
    const { s, r } = run([printing('kp')], [...register('kp'), WAIT, { op: 'disable_kprobe', probe: 'kp' }, call, WAIT, call]);
    expect(r.violations).toEqual([]);
    const queued = ofType(r.events, 'kprobe.opt.unopt.queue');
    expect(queued).toMatchObject([{ addr: at }]);
    expect(queued[0]!.due).toBe(queued[0]!.t + OPTIMIZE_DELAY_TICKS);
    // disable_kprobe returned without touching the text: the jump is still there.
    const returned = indexOf(r.events, (e) => e.type === 'kprobe.returned' && e.fn === 'disable_kprobe');
    const unpatch = indexOf(r.events, (e) => e.type === 'kprobe.opt.unpatch');
    expect(returned).toBeLessThan(unpatch);
    expect(ofType(r.events, 'text.disarm')).toEqual([]);
    const window = r.events.slice(returned, unpatch);
    // The first call ran vfs_read's first instruction through the jump: no trap, no handler, no miss.
    expect(ofType(window, 'insn.exec').some((e) => e.ip === at)).toBe(true);
    for (const type of ['kprobe.trap', 'kprobe.opt.hit', 'kprobe.opt.miss', 'handler.enter'] as const) expect(ofType(window, type)).toEqual([]);
    expect(r.final.stats.kp).toMatchObject({ hits: 0, nmissed: 0, pre_calls: 0 });
    // R89/§14: both flags while it waits; after the optimizer only [DISABLED], and no breakpoint.
    expect(kprobesList(r.states[returned]!, s, symbolsFor('6.17'))).toMatch(/\[DISABLED\]\[OPTIMIZED\]\n$/);
    expect(r.events[unpatch]!.t).toBeGreaterThanOrEqual(queued[0]!.due);
    expect(r.states[unpatch]!.kprobes.table[at]).toEqual({ probes: ['kp'], armed: false });
    expect(kprobesList(r.final, s, symbolsFor('6.17'))).toMatch(/\[DISABLED\]\n$/);
    expect(ofType(r.events.slice(unpatch), 'kprobe.trap')).toEqual([]);
  });

  it('R64, R68, R67: unregistering the only child of an optimized point returns before the optimizer frees the emptied aggregator', () => {
    const { r } = run([printing('kp')], [...register('kp'), WAIT, { op: 'unregister_kprobe', probe: 'kp' }, call]);
    expect(r.violations).toEqual([]);
    const unregistered = indexOf(r.events, (e) => e.type === 'kprobe.unregistered');
    const unpatch = indexOf(r.events, (e) => e.type === 'kprobe.opt.unpatch');
    expect(unregistered).toBeGreaterThan(0);
    expect(unpatch).toBeGreaterThan(unregistered);
    // Between the two, the table still has the aggregator, with no child, still jumping.
    expect(r.states[unregistered]!.kprobes.table[at]).toMatchObject({ probes: [], armed: true, opt: { state: 'unopt' } });
    // R67 for the client probe: its handler never runs again; the call in between jumps and does nothing.
    expect(ofType(r.events.slice(unregistered), 'handler.enter')).toEqual([]);
    expect(ofType(r.events.slice(unregistered), 'kprobe.trap')).toEqual([]);
    // R68: the optimizer restores the code and the aggregator leaves the table.
    expect(r.final.kprobes.table).toEqual({});
  });

  it('R15 (quirk): a registration while the emptied aggregator waits revives it, enabled and jumping even for a DISABLED child, whose handler never runs', () => {
    const program = (wait: boolean): TaskOp[] => [...register('kp'), WAIT, { op: 'unregister_kprobe', probe: 'kp' }, ...(wait ? [WAIT] : []), ...register('late'), call];
    const { s, r } = run([printing('kp'), printing('late', { disabled: true })], program(false));
    expect(r.violations).toEqual([]);
    const revive = indexOf(r.events, (e) => e.type === 'kprobe.opt.revive');
    expect(revive).toBeGreaterThan(indexOf(r.events, (e) => e.type === 'kprobe.unregistered'));
    expect(revive).toBeLessThan(indexOf(r.events, (e) => e.type === 'kprobe.insert' && e.probe === 'late'));
    // The aggregator stays optimized and armed; its only child is disabled (R10: no handler runs).
    expect(r.final.kprobes.table[at]).toMatchObject({ probes: ['late'], armed: true, opt: { state: 'optimized' }, aggr_disabled: false });
    expect(ofType(r.events, 'kprobe.opt.unpatch')).toEqual([]);
    expect(ofType(r.events, 'kprobe.opt.hit')).toMatchObject([{ probes: ['late'] }]);
    expect(ofType(r.events, 'printk').map((e) => e.text)).toEqual([]);
    expect(kprobesList(r.final, s, symbolsFor('6.17'))).toMatch(/\[DISABLED\]\[OPTIMIZED\]\n$/);
    // Unregistering that disabled child disarms nothing (__disable_kprobe returns early): the
    // enabled aggregator stays behind with no child, jumping, and the optimizer has nothing queued.
    const leak = run([printing('kp'), printing('late', { disabled: true })], [...program(false), { op: 'unregister_kprobe', probe: 'late' }, WAIT]).r;
    expect(leak.violations).toEqual([]);
    expect(leak.final.kprobes.table[at]).toEqual({ probes: [], armed: true, opt: { state: 'optimized' }, aggr_disabled: false });
    expect(leak.final.kprobes.probes.late).toMatchObject({ state: 'unregistered' });
    // Once the optimizer has torn the aggregator down, the same registration makes a new,
    // disarmed point (R29) and nothing hits.
    const after = run([printing('kp'), printing('late', { disabled: true })], program(true)).r;
    expect(after.violations).toEqual([]);
    expect(ofType(after.events, 'kprobe.opt.revive')).toEqual([]);
    expect(after.final.kprobes.table[at]).toEqual({ probes: ['late'], armed: false });
    expect(ofType(after.events, 'kprobe.opt.hit')).toEqual([]);
  });

  it('R15: a revival by an enabled child runs its handler through the jump, with no re-patching', () => {
    const { r } = run([printing('kp'), printing('late')], [...register('kp'), WAIT, { op: 'unregister_kprobe', probe: 'kp' }, ...register('late'), call]);
    expect(r.violations).toEqual([]);
    expect(ofType(r.events, 'kprobe.opt.revive')).toHaveLength(1);
    expect(ofType(r.events, 'kprobe.opt.patch')).toHaveLength(1);
    expect(r.final.kprobes.table[at]).toEqual({ probes: ['late'], armed: true, opt: { state: 'optimized' } });
    expect(ofType(r.events, 'printk').map((e) => e.text)).toEqual(['late']);
  });

  it('R87: enable_kprobe while the unoptimization waits: int3 over the jump, taken off the queue, and from then on a breakpoint with a detour that is never patched again; after the optimizer it re-arms and queues again', () => {
    // The pre-handler returns 1: ignored through the jump (R86), honoured on the breakpoint path (R46).
    const redirecting = (name: string): ProbeSpec => ({ name, symbol: 'vfs_read', pre: [{ do: 'print', text: name }, { do: 'return', value: 1 }] });
    const early = run([redirecting('kp')], [...register('kp'), WAIT, call, { op: 'disable_kprobe', probe: 'kp' }, { op: 'enable_kprobe', probe: 'kp' }, call, WAIT, call]).r;
    expect(early.violations).toEqual([]);
    const rearm = indexOf(early.events, (e) => e.type === 'kprobe.opt.rearm');
    expect(early.events[rearm]).toMatchObject({ addr: at });
    // arm_kprobe() writes the int3 with its text-patch sync.
    expect(early.events[rearm + 1]).toMatchObject({ type: 'text.arm', addr: at });
    expect(ofType(early.events, 'kprobe.opt.unpatch')).toEqual([]);
    expect(ofType(early.events, 'kprobe.opt.patch')).toHaveLength(1);
    // Before: one jump, its return value ignored. After: two traps (the optimizer never patches
    // it again, however long it waits), each resuming in the detour buffer.
    expect(ofType(early.events, 'kprobe.opt.hit')).toHaveLength(1);
    expect(ofType(early.events.slice(rearm), 'kprobe.trap')).toHaveLength(2);
    expect(early.final.kprobes.table[at]).toMatchObject({ armed: true, opt: { state: 'trapping' } });
    expect(ofType(early.events, 'kprobe.redirect')).toHaveLength(2);
    expect(ofType(early.events, 'printk').map((e) => e.text)).toEqual(['kp', 'kp', 'kp']);

    const late = run([printing('kp')], [...register('kp'), WAIT, { op: 'disable_kprobe', probe: 'kp' }, WAIT, { op: 'enable_kprobe', probe: 'kp' }, call, WAIT, call]).r;
    expect(late.violations).toEqual([]);
    const kinds = late.events.filter((e) => e.type.startsWith('kprobe.opt.') || e.type === 'text.arm' || e.type === 'kprobe.trap' || e.type === 'kprobe.detour').map((e) => e.type);
    expect(kinds).toEqual([
      'text.arm', 'kprobe.opt.queue', 'kprobe.opt.patch',
      'kprobe.opt.unopt.queue', 'kprobe.opt.unpatch',
      // enable_kprobe: the breakpoint again, queued again; hit by breakpoint and detour, then the jump.
      'text.arm', 'kprobe.opt.queue', 'kprobe.trap', 'kprobe.detour', 'kprobe.opt.patch', 'kprobe.opt.hit', 'kprobe.opt.done',
    ]);
  });

  it('R42, R40: writing 0 to kprobes/enabled, or to the sysctl, waits for the optimizer: a queued unoptimization is done before the write returns', () => {
    for (const write of [{ op: 'kprobes_enabled', value: false }, { op: 'kprobes_optimization', value: false }] as TaskOp[]) {
      const { r } = run([printing('kp')], [...register('kp'), WAIT, { op: 'disable_kprobe', probe: 'kp' }, write]);
      expect(r.violations).toEqual([]);
      const unpatch = ofType(r.events, 'kprobe.opt.unpatch');
      expect(unpatch).toHaveLength(1);
      // In the step that completes the write.
      const written = indexOf(r.events, (e) => e.type === 'kprobes.enabled_written' || e.type === 'kprobes.optimization');
      expect(unpatch[0]!.t).toBe(r.events[written]!.t);
      // Long before the optimizer's own delay would have passed.
      expect(unpatch[0]!.t).toBeLessThan(ofType(r.events, 'kprobe.opt.unopt.queue')[0]!.due);
      expect(r.final.kprobes.table[at]).toEqual({ probes: ['kp'], armed: false });
    }
  });

  it('R64: unregistering the child with the post-handler lets the rest of the aggregator be optimized again', () => {
    const { r } = run([printing('kp'), printing('withpost', { post: [] })], [...register('kp'), WAIT, ...register('withpost'), { op: 'unregister_kprobe', probe: 'withpost' }, WAIT, call]);
    expect(r.violations).toEqual([]);
    const unlink = indexOf(r.events, (e) => e.type === 'kprobe.unlink' && e.probe === 'withpost');
    expect(ofType(r.events, 'kprobe.opt.queue').map((e) => r.events.indexOf(e) > unlink)).toEqual([false, true]);
    expect(ofType(r.events, 'kprobe.opt.patch')).toHaveLength(2);
    expect(ofType(r.events, 'kprobe.opt.hit')).toMatchObject([{ probes: ['kp'] }]);
  });

  it('R87: a probe armed inside the jump unoptimizes it at once; the point is re-optimized once that neighbour is gone', () => {
    const inside: ProbeSpec = { name: 'inside', symbol: 'vfs_read', offset: 1, pre: [], post: [] };
    const { r } = run([printing('kp'), inside], [...register('kp'), WAIT, ...register('inside'), call, { op: 'unregister_kprobe', probe: 'inside' }, WAIT, call]);
    expect(r.violations).toEqual([]);
    const kinds = r.events.filter((e) => (e.type.startsWith('kprobe.opt.') && e.type !== 'kprobe.opt.done') || e.type === 'kprobe.insert' || e.type === 'kprobe.unlink').map((e) => `${e.type}${'addr' in e ? ` ${e.addr === at ? 'kp' : 'inside'}` : ''}`);
    expect(kinds).toEqual([
      'kprobe.insert kp', 'kprobe.opt.queue kp', 'kprobe.opt.patch kp',
      // Forced: before the neighbour's breakpoint goes in.
      'kprobe.opt.unopt kp', 'kprobe.insert inside',
      // The neighbour's breakpoint is removed by its unregister: kp is queued again.
      'kprobe.unlink inside', 'kprobe.opt.queue kp', 'kprobe.opt.patch kp', 'kprobe.opt.hit kp',
    ]);
  });
});
