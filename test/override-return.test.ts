import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.ts';
import { symbolsFor, type FunctionSymbol } from '../src/kernel/index.ts';
import type { ProbeSpec } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { ofType, scenario, trace } from './helpers.ts';

// Error injection through a kprobe: the pre-handler sets the return value and points IP at
// just_return_func, then returns non-zero (R46), as fail_function and bpf_override_return do.

const inject: ProbeSpec = { name: 'inject', symbol: 'vfs_read', pre: [{ do: 'print', text: 'injecting -ENOMEM' }, { do: 'override_return', value: -12 }] };
const vfsRead = symbolsFor('6.17').lookup('vfs_read') as FunctionSymbol;
const inVfsRead = (ip: string) => BigInt(ip) >= vfsRead.addr && BigInt(ip) < vfsRead.addr + BigInt(vfsRead.size);

describe('override_return', () => {
  it('R46: the probed function does not run; the caller gets the injected value through just_return_func', () => {
    const r = trace(scenario({ probes: [inject], tasks: [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: 'inject' }, { op: 'call', fn: 'vfs_read' }] }] }));
    expect(ofType(r.events, 'printk').map((e) => e.text)).toEqual(['injecting -ENOMEM']);
    expect(ofType(r.events, 'kprobe.override')).toEqual([expect.objectContaining({ addr: `0x${vfsRead.addr.toString(16)}`, fn: 'just_return_func', ret: -12, skipped: [] })]);
    // No single-step, no instruction of vfs_read and none of its callees.
    expect(ofType(r.events, 'kprobe.ss')).toHaveLength(0);
    expect(ofType(r.events, 'insn.exec').filter((e) => e.ctx === 'task' && inVfsRead(e.ip))).toHaveLength(0);
    // Then the task's program is over: do_exit (and its exit_mm).
    expect(ofType(r.events, 'func.call').filter((e) => e.ctx === 'task').map((e) => e.fn)).toEqual(['vfs_read', 'do_exit', 'exit_mm']);
    const ret = ofType(r.events, 'func.ret').filter((e) => e.ctx === 'task' && e.fn !== 'exit_mm');
    expect(ret.map((e) => [e.fn, e.ret])).toEqual([['just_return_func', -12]]);
    const at = r.events.findIndex((e) => e.type === 'kprobe.override');
    expect(r.states[at]!.cpus[0]).toMatchObject({ current: null, status: 'idle', preempt_count: 0 });
    expect(r.final.stats.inject).toMatchObject({ hits: 1, handled: 1, nmissed: 0 });
    expect(r.violations).toEqual([]);
  });

  it('a kretprobe hooked before the override sees the injected value; one registered after it is skipped (R9, R10)', () => {
    const watch: ProbeSpec = { name: 'watch', kind: 'kretprobe', symbol: 'vfs_read', handler: [{ do: 'print', text: 'vfs_read returned {retval}' }] };
    const run = (first: string, second: string) =>
      trace(
        scenario({
          probes: [inject, watch],
          tasks: [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: first }, { op: 'register_kprobe', probe: second }, { op: 'call', fn: 'vfs_read' }] }],
        }),
      );
    // inject first → the hit walks [watch, inject]: watch hooks the return, then the override.
    const hooked = run('inject', 'watch');
    expect(ofType(hooked.events, 'printk').map((e) => e.text)).toEqual(['injecting -ENOMEM', 'vfs_read returned -12']);
    expect(ofType(hooked.events, 'kretprobe.return').map((e) => [e.fn, e.ret])).toEqual([['just_return_func', -12]]);
    expect(hooked.violations).toEqual([]);
    // watch first → [inject, watch]: the override comes first and watch's entry is skipped.
    const skipped = run('watch', 'inject');
    expect(ofType(skipped.events, 'printk').map((e) => e.text)).toEqual(['injecting -ENOMEM']);
    expect(ofType(skipped.events, 'kprobe.override')[0]!.skipped).toEqual(['watch']);
    expect(skipped.final.stats.watch).toMatchObject({ hits: 1, skipped: 1 });
    expect(skipped.violations).toEqual([]);
  });

  it('an overridden kernel_clone forks nothing', () => {
    const r = trace(
      scenario({
        probes: [{ name: 'nofork', symbol: 'kernel_clone', pre: [{ do: 'override_return', value: -11 }] }],
        tasks: [{ comm: 'sh', program: [{ op: 'register_kprobe', probe: 'nofork' }, { op: 'call', fn: 'kernel_clone', times: 2 }] }],
      }),
    );
    expect(ofType(r.events, 'task.fork')).toHaveLength(0);
    expect(ofType(r.events, 'func.ret').filter((e) => e.ctx === 'task' && e.fn !== 'exit_mm').map((e) => [e.fn, e.ret])).toEqual([
      ['just_return_func', -11],
      ['just_return_func', -11],
    ]);
  });

  it('is checked at load time: pre-handler only, last step, function entry, kernel 4.16+', () => {
    const bad = (probe: object, kernel?: string) => {
      try {
        validateScenario({ name: 'x', cpus: 1, ...(kernel ? { kernel } : {}), probes: [{ name: 'p', ...probe }], tasks: [] });
        return 'accepted';
      } catch (e) {
        return e instanceof InputError ? e.message : String(e);
      }
    };
    const step = { do: 'override_return', value: -12 };
    expect(bad({ symbol: 'vfs_read', pre: [step] })).toBe('accepted');
    expect(bad({ symbol: 'vfs_read', post: [step] })).toBe('scenario.probes[0].post[0].do: "override_return" is only for a kprobe pre-handler (R46)');
    expect(bad({ symbol: 'vfs_read', pre: [step, { do: 'print', text: 'x' }] })).toBe(
      'scenario.probes[0].pre[0].do: "override_return" ends the pre-handler: it must be the last step',
    );
    expect(bad({ symbol: 'vfs_read', offset: 4, pre: [step] })).toBe(
      'scenario.probes[0].pre[0].do: "override_return" needs the probe on a function entry ("symbol" with offset 0), where the return address is on top of the stack',
    );
    expect(bad({ symbol: '_do_fork', pre: [step] }, '4.14')).toBe(
      'scenario.probes[0].pre[0].do: kernel 4.14 has no override_function_with_return (added in 4.16; kernels 5.10 and 6.17 have it)',
    );
    expect(bad({ kind: 'kretprobe', symbol: 'vfs_read', entry: [step] })).toBe('scenario.probes[0].entry[0].do: "override_return" is only for a kprobe pre-handler (R46)');
  });
});
