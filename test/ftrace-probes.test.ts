// Probes on ftrace sites (spec §12) and ENDBR64 entries (R24): scenarios built with
// `"config": {"ftrace": true}` give C functions a 5-byte fentry NOP at their entry, and with
// `"ibt": true` an ENDBR64 before it. Expected addresses come from the image, not from a run.

import { describe, expect, it } from 'vitest';
import { symbolsFor, type BuildConfig, type FunctionSymbol } from '../src/kernel/index.ts';
import type { ProbeSpec, Scenario, TaskSpec } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { kprobesList } from '../src/views/debugfs.ts';
import { Folder } from '../src/views/folder.ts';
import { WhyView } from '../src/views/why.ts';
import { initialState } from '../src/model/initial.ts';
import { indexOf, ofType, trace } from './helpers.ts';

function build(config: BuildConfig, probes: ProbeSpec[], tasks: TaskSpec[], cpus = 1): Scenario {
  return validateScenario({ name: 'ftrace', cpus, config, max_steps: 20_000, probes, tasks });
}

const fn = (config: BuildConfig, name: string) => symbolsFor('6.17', 'x86_64', config).lookup(name) as FunctionSymbol;
const hex = (n: bigint) => `0x${n.toString(16)}`;
const register = (...probes: string[]) => probes.map((probe) => ({ op: 'register_kprobe' as const, probe }));

describe('the image with build options', () => {
  it('R25.1: with ftrace every traceable C function starts with a 5-byte fentry NOP; noinstr and NOKPROBE code has none', () => {
    const f = fn({ ftrace: true }, 'vfs_read');
    expect(f.body[0]).toMatchObject({ off: 0, len: 5, op: { k: 'fentry' } });
    expect(f.body[1]!.text).toMatch(/^push +%rbp/);
    expect(fn({ ftrace: true }, 'exc_page_fault').body[0]!.op.k).not.toBe('fentry');
    expect(fn({ ftrace: true }, 'get_kprobe').body[0]!.op.k).not.toBe('fentry');
    // R24: with IBT, ENDBR64 comes first and the fentry site is at +4.
    const g = fn({ ftrace: true, ibt: true }, 'vfs_read');
    expect(g.body.slice(0, 2).map((i) => [i.off, i.len, i.text.split(' ')[0]])).toEqual([
      [0, 4, 'endbr64'],
      [4, 5, 'nopl'],
    ]);
  });

  it('the plain build is unchanged (no ENDBR64, no fentry site)', () => {
    expect(fn({}, 'vfs_read').body[0]!.text).toMatch(/^push +%rbp/);
    expect(symbolsFor('6.17').lookup('vfs_read')!.addr).toBe(fn({}, 'vfs_read').addr);
  });

  it('"ftrace" and "ibt" are x86_64 build options: arm64 refuses them by field path', () => {
    expect(() => validateScenario({ name: 'x', cpus: 1, arch: 'arm64', config: { ftrace: true }, probes: [], tasks: [] })).toThrow(
      'scenario.config: build options "ftrace", "ibt" and "optprobes" are modelled on x86_64 only (arch is arm64)',
    );
  });
});

describe('R24: function entries after ENDBR64', () => {
  it('a probe on SYM (+0) or SYM+4 is placed at +4; a kretprobe accepts both as the entry', () => {
    const config = { ibt: true };
    const s = build(
      config,
      [
        { name: 'at0', symbol: 'vfs_read', pre: [] },
        { name: 'at4', symbol: 'vfs_read', offset: 4, pre: [] },
        { name: 'ret4', symbol: 'vfs_read', offset: 4, kind: 'kretprobe', handler: [] },
        { name: 'at1', symbol: 'vfs_read', offset: 1, pre: [] },
      ],
      [{ comm: 'sh', program: [...register('at0', 'at4', 'ret4', 'at1'), { op: 'call', fn: 'ksys_read' }] }],
    );
    const r = trace(s);
    expect(r.violations).toEqual([]);
    const entry = hex(fn(config, 'vfs_read').addr + 4n);
    const placed = Object.fromEntries(ofType(r.events, 'kprobe.registered').map((e) => [e.probe, e.addr]));
    expect(placed).toEqual({ at0: entry, at4: entry, ret4: entry });
    // +1 is inside ENDBR64: not an instruction boundary (R26).
    expect(ofType(r.events, 'kprobe.register.fail')).toMatchObject([{ probe: 'at1', errno: -84 }]);
    // Without ftrace the entry probes are ordinary breakpoints at +4 (the `push %rbp`).
    expect(ofType(r.events, 'kprobe.trap').map((e) => e.addr)).toContain(entry);
    expect(ofType(r.events, 'kprobe.ftrace.hit')).toEqual([]);
  });
});

describe('§12: probes on ftrace sites', () => {
  const config = { ftrace: true };

  it('R90, R92, R99: no breakpoint, no single-step; pre-handler, post-handler in HIT_SSDONE, then the function goes on', () => {
    const s = build(config, [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'print', text: 'pre' }], post: [{ do: 'print', text: 'post' }] }], [
      { comm: 'sh', program: [...register('kp'), { op: 'call', fn: 'ksys_read' }] },
    ]);
    const r = trace(s);
    expect(r.violations).toEqual([]);
    const site = hex(fn(config, 'vfs_read').addr);
    expect(ofType(r.events, 'kprobe.registered')[0]!.addr).toBe(site);
    expect(ofType(r.events, 'kprobe.trap')).toEqual([]);
    expect(ofType(r.events, 'kprobe.ss')).toEqual([]);
    const hit = indexOf(r.events, (e) => e.type === 'kprobe.ftrace.hit');
    const post = indexOf(r.events, (e) => e.type === 'kprobe.ftrace.post');
    const done = indexOf(r.events, (e) => e.type === 'kprobe.done');
    expect(hit).toBeGreaterThan(-1);
    expect(indexOf(r.events, (e) => e.type === 'handler.enter' && e.phase === 'pre')).toBeGreaterThan(hit);
    expect(indexOf(r.events, (e) => e.type === 'handler.enter' && e.phase === 'post')).toBeGreaterThan(post);
    expect(done).toBeGreaterThan(post);
    // The NOP is deemed executed: the next event of the task is its next instruction.
    expect(r.events[done + 1]).toMatchObject({ type: 'insn.exec', ip: site, ctx: 'task' });
    expect(ofType(r.events, 'func.ret').some((e) => e.fn === 'vfs_read')).toBe(true);
    expect(r.final.stats.kp).toMatchObject({ hits: 1, nmissed: 0, pre_calls: 1, post_calls: 1 });
    // R99: the list shows the aggregator's [FTRACE].
    const mid = r.states[indexOf(r.events, (e) => e.type === 'kprobe.registered')]!;
    expect(kprobesList(mid, s, symbolsFor('6.17', 'x86_64', config))).toMatch(/ k {2}vfs_read\+0x0 {4}\[FTRACE\]\n$/);
  });

  it('R93: handlers run with preemption disabled and interrupts as the probed function had them', () => {
    const s = build(config, [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 2 }] }], [{ comm: 'sh', program: [...register('kp'), { op: 'call', fn: 'vfs_read' }] }]);
    const r = trace(s);
    const i = indexOf(r.events, (e) => e.type === 'handler.enter');
    expect(r.states[i]!.cpus[0]).toMatchObject({ status: 'KPROBE_HIT_ACTIVE', irqs_off: false });
    expect(r.states[i]!.cpus[0]!.preempt_count).toBeGreaterThan(0);
  });

  it('R91: a breakpoint kprobe’s handler calling a function with an ftrace-based probe: a miss, nothing else', () => {
    // vfs_read+5 is the `push %rbp` after the fentry NOP: an ordinary breakpoint probe.
    const s = build(
      config,
      [
        { name: 'bp', symbol: 'vfs_read', offset: 5, pre: [{ do: 'call', fn: 'getname' }] },
        { name: 'ft', symbol: 'getname', pre: [{ do: 'print', text: 'never' }] },
      ],
      [{ comm: 'sh', program: [...register('bp', 'ft'), { op: 'call', fn: 'vfs_read' }] }],
    );
    const r = trace(s);
    expect(r.violations).toEqual([]);
    expect(ofType(r.events, 'kprobe.ftrace.miss')).toMatchObject([{ probes: ['ft'] }]);
    expect(ofType(r.events, 'printk').some((e) => e.text === 'never')).toBe(false);
    expect(r.final.stats.ft).toMatchObject({ hits: 1, nmissed: 1, pre_calls: 0 });
    // No REENTER: the CPU status never left bp's run.
    expect(r.states.some((st) => st.cpus[0]!.status === 'KPROBE_REENTER')).toBe(false);
  });

  it('R91: an ftrace-based probe’s handler calling another one is dropped by ftrace’s recursion guard: no handler, no miss', () => {
    const s = build(
      config,
      [
        { name: 'outer', symbol: 'vfs_read', pre: [{ do: 'call', fn: 'getname' }] },
        { name: 'inner', symbol: 'getname', pre: [{ do: 'print', text: 'never' }] },
      ],
      [{ comm: 'sh', program: [...register('outer', 'inner'), { op: 'call', fn: 'vfs_read' }] }],
    );
    const r = trace(s);
    expect(r.violations).toEqual([]);
    expect(ofType(r.events, 'kprobe.ftrace.recursion')).toHaveLength(1);
    expect(r.final.stats.inner).toMatchObject({ hits: 0, nmissed: 0 });
    expect(r.final.stats.outer).toMatchObject({ hits: 1, nmissed: 0 });
  });

  it('R92: a pre-handler returning non-zero with the IP it was given resumes inside the NOP: invalid opcode', () => {
    const s = build(config, [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'return', value: 1 }], post: [{ do: 'print', text: 'never' }] }], [
      { comm: 'sh', program: [...register('kp'), { op: 'call', fn: 'vfs_read' }] },
    ]);
    const r = trace(s);
    const oops = ofType(r.events, 'kernel.oops');
    expect(oops).toHaveLength(1);
    expect(oops[0]!.addr).toBe(hex(fn(config, 'vfs_read').addr + 1n));
    expect(ofType(r.events, 'handler.enter').filter((e) => e.phase === 'post')).toEqual([]);
  });

  it('R92 with R46: override_return from an ftrace-based probe (how fail_function injects errors): the caller gets the value', () => {
    const s = build(config, [{ name: 'inject', symbol: 'do_sys_openat2', pre: [{ do: 'override_return', value: -12 }] }], [
      { comm: 'sh', program: [...register('inject'), { op: 'call', fn: 'do_sys_open' }] },
    ]);
    const r = trace(s);
    expect(r.violations).toEqual([]);
    expect(ofType(r.events, 'kprobe.override')).toHaveLength(1);
    expect(ofType(r.events, 'func.ret').find((e) => e.fn === 'do_sys_openat2' || e.fn === 'just_return_func')?.ret).toBe(-12);
    expect(ofType(r.events, 'func.call').some((e) => e.fn === 'getname')).toBe(false);
  });
});

describe('why, for an ftrace-based probe', () => {
  it('explains an ftrace miss like a breakpoint one, citing R91', () => {
    const config = { ftrace: true };
    const s = build(
      config,
      [
        { name: 'bp', symbol: 'vfs_read', offset: 5, pre: [{ do: 'call', fn: 'getname' }] },
        { name: 'ft', symbol: 'getname', pre: [] },
      ],
      [{ comm: 'sh', program: [...register('bp', 'ft'), { op: 'call', fn: 'vfs_read' }] }],
    );
    const r = trace(s);
    const view = new WhyView('ft', symbolsFor('6.17', 'x86_64', config));
    const folder = new Folder(initialState(s), [view]);
    for (const e of r.events) folder.apply(e);
    expect(view.text(folder.state)).toMatch(/hit getname\+0x0\/0x[0-9a-f]+ while bp was running: in bp's pre-handler \(KPROBE_HIT_ACTIVE\); no handler ran \(R91, through ftrace\); nmissed is now 1/);
  });

  it('R94: once ftrace has shut itself down, ftrace-based probes stop firing (no handler, no miss)', () => {
    const s = build({ ftrace: true }, [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'print', text: 'hit' }] }], [
      { comm: 'cat', program: [...register('kp'), { op: 'call', fn: 'vfs_read' }, { op: 'ftrace_failure' }, { op: 'call', fn: 'vfs_read', times: 2 }] },
    ]);
    const r = trace(s);
    expect(r.violations).toEqual([]);
    expect(ofType(r.events, 'ftrace.killed')).toHaveLength(1);
    expect(ofType(r.events, 'kprobe.ftrace.hit')).toHaveLength(1);
    expect(ofType(r.events, 'printk').map((e) => e.text)).toEqual(['hit']);
    expect(r.final.stats.kp).toMatchObject({ hits: 1, nmissed: 0 });
    // The function itself still runs.
    expect(ofType(r.events, 'func.ret').filter((e) => e.fn === 'vfs_read')).toHaveLength(3);
  });
});
