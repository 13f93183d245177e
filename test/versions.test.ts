import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { ofType, scenario, trace } from './helpers.ts';

// Kernel releases: the seeds teach 4.14-era kernels, the spec is v6.17.

function message(raw: unknown): string {
  try {
    validateScenario(raw);
    return 'accepted';
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
}

describe('kernel releases', () => {
  it('a symbol of another release is refused with the release that has it and its name here', () => {
    expect(message({ name: 'x', cpus: 1, probes: [{ name: 'kp', symbol: '_do_fork' }], tasks: [] })).toBe(
      'scenario.probes[0].symbol: unknown symbol "_do_fork" in kernel 6.17 (kernel 4.14 has it; set "kernel"); did you mean "kernel_clone"?',
    );
    expect(message({ name: 'x', kernel: '4.14', cpus: 1, probes: [{ name: 'kp', symbol: 'kernel_clone' }], tasks: [] })).toBe(
      'scenario.probes[0].symbol: unknown symbol "kernel_clone" in kernel 4.14 (kernel 5.10, 6.17 have it; set "kernel"); did you mean "_do_fork"?',
    );
    expect(message({ name: 'x', kernel: '4.14', cpus: 1, probes: [{ name: 'kp', symbol: '_do_fork' }], tasks: [] })).toBe('accepted');
    expect(message({ name: 'x', kernel: '3.10', cpus: 1, tasks: [] })).toMatch(/^scenario\.kernel: /);
    // The seeds' do_fork (renamed _do_fork in v4.2, kernel_clone in v5.10): renames are followed.
    const doFork = (kernel: string) => message({ name: 'x', kernel, cpus: 1, probes: [{ name: 'rp', kind: 'kretprobe', symbol: 'do_fork' }], tasks: [] });
    expect(doFork('4.14')).toBe('scenario.probes[0].symbol: unknown symbol "do_fork"; did you mean "_do_fork"?');
    expect(doFork('6.17')).toBe('scenario.probes[0].symbol: unknown symbol "do_fork"; did you mean "kernel_clone"?');
  });

  it("seed 004's kprobe on sys_openat: since v4.17 x86_64 system calls are the __x64_sys_* wrappers, and the refusal says so", () => {
    const seed004 = (kernel?: string) => ({ name: 'x', ...(kernel ? { kernel } : {}), cpus: 1, probes: [{ name: 'kp', symbol: 'sys_openat' }], tasks: [] });
    expect(message(seed004())).toBe(
      'scenario.probes[0].symbol: unknown symbol "sys_openat" in kernel 6.17 (kernel 4.14 has it; set "kernel"); did you mean "__x64_sys_openat"?',
    );
    expect(message(seed004('4.14'))).toBe('accepted');
    // The wrapper runs the same open path.
    const run = trace(scenario({ probes: [{ name: 'kp', symbol: '__x64_sys_openat', pre: [{ do: 'print', text: 'openat() called' }] }], tasks: [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: '__x64_sys_openat' }] }] }));
    expect(ofType(run.events, 'printk').map((e) => e.text)).toEqual(['openat() called']);
    expect(ofType(run.events, 'func.call').map((e) => e.fn)).toContain('do_sys_openat2');
  });

  it("seed 000's kprobe on _do_fork runs on 4.14, printing its handler lines through printk", () => {
    const run = trace(BUILTIN_SCENARIOS.get('do-fork-4.14')!, { seed: 42 });
    expect(run.violations).toEqual([]);
    expect(run.final.stats.kp!.hits).toBe(3);
    const lines = ofType(run.events, 'printk').map((p) => p.text);
    expect(lines.filter((l) => l === 'xhl -- func:handler_pre, line:15 ')).toHaveLength(3);
    expect(lines.filter((l) => l === 'xhl -- func:handler_post, line:21 ')).toHaveLength(3);
    // On 4.14 the kernel's printk function is printk itself.
    expect(ofType(run.events, 'func.call').some((c) => c.fn === 'printk')).toBe(true);
    expect(ofType(run.events, 'func.call').some((c) => c.fn === '_printk')).toBe(false);
  });

  it('dump_stack names the running release', () => {
    for (const [kernel, release] of [
      ['4.14', '4.14.0'],
      ['6.17', '6.17.0-rc3'],
    ] as const) {
      const s = scenario({
        probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'dump_stack' }] }],
        tasks: [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'vfs_read' }] }],
      });
      const run = trace({ ...s, kernel });
      expect(ofType(run.events, 'printk')[0]!.text).toContain(`Not tainted ${release} #1`);
    }
  });
});
