import { describe, expect, it } from 'vitest';
import { symbolsFor } from '../src/kernel/index.ts';
import type { ProbeSpec } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { cliInProcess } from './cli-in-process.ts';
import { ofType, trace } from './helpers.ts';

// Issue 9 §3: handler texts print the registers of the arch the kernel is built for.
// samples/kprobes/kprobe_example.c prints, under #ifdef CONFIG_X86,
//   "<%s> pre_handler: p->addr = 0x%p, ip = %lx, flags = 0x%lx"   (regs->ip, regs->flags)
// and under #ifdef CONFIG_ARM64
//   "<%s> pre_handler: p->addr = 0x%p, pc = 0x%lx, pstate = 0x%lx" (regs->pc, regs->pstate)
//   "<%s> post_handler: p->addr = 0x%p, pstate = 0x%lx".
// x86's int3 is a trap, so regs->ip is p->addr + 1; arm64's BRK is an exception whose ELR is the
// BRK's own address, so regs->pc == p->addr (seed 003: pc = 0xffff8000100341a0, kernel_clone).
// The saved pstate is the interrupted task's: EL1h (0x5), DAIF clear, NZCV = Z|C; seed 003
// prints 0x60000005.

const dmesgLines = (out: string) => out.split('--- dmesg ---\n')[1]!.split('\n');

function run(probe: ProbeSpec, arch: 'x86_64' | 'arm64') {
  return trace(validateScenario({ name: 'regs', cpus: 1, arch, probes: [probe], tasks: [{ comm: 'sh', program: [{ op: 'register_kprobe', probe: probe.name }, { op: 'call', fn: 'kernel_clone' }] }] }));
}

describe('handler registers follow the arch (kprobe_example.c #ifdef branches)', () => {
  it('run default --arch arm64 prints the arm64 lines: pc = the probe address, pstate = 0x60000005', async () => {
    const r = await cliInProcess(['run', 'default', '--arch', 'arm64', '--no-log', '--dmesg']);
    expect(r.code).toBe(0);
    const pc = symbolsFor('6.17', 'arm64').lookup('kernel_clone')!.addr.toString(16);
    const lines = dmesgLines(r.out);
    const pre = lines.filter((l) => l.includes('pre_handler'));
    const post = lines.filter((l) => l.includes('post_handler'));
    expect(pre.length).toBeGreaterThan(0);
    for (const l of pre) expect(l).toMatch(new RegExp(`\\] <kernel_clone> pre_handler: p->addr = 0x[0-9a-f]{16}, pc = 0x${pc}, pstate = 0x60000005$`));
    for (const l of post) expect(l).toMatch(/\] <kernel_clone> post_handler: p->addr = 0x[0-9a-f]{16}, pstate = 0x60000005$/);
    expect(r.out).not.toMatch(/ip = |flags = /);
  });

  it('run default on x86_64 keeps the x86 lines: ip = p->addr + 1 (after int3), flags = 0x246', async () => {
    const r = await cliInProcess(['run', 'default', '--no-log', '--dmesg']);
    const ip = (symbolsFor('6.17', 'x86_64').lookup('kernel_clone')!.addr + 1n).toString(16);
    const pre = dmesgLines(r.out).filter((l) => l.includes('pre_handler'));
    expect(pre.length).toBeGreaterThan(0);
    for (const l of pre) expect(l).toMatch(new RegExp(`pre_handler: p->addr = 0x[0-9a-f]{16}, ip = ${ip}, flags = 0x246$`));
    expect(r.out).not.toMatch(/pc = |pstate = /);
  });

  it('{reg:pc} on arm64 reads the same regs->pc as {pc}: the probe address', () => {
    const r = run({ name: 'kp', symbol: 'kernel_clone', pre: [{ do: 'print', text: '{reg:pc} 0x{pc} 0x{pstate}' }] }, 'arm64');
    const pc = symbolsFor('6.17', 'arm64').lookup('kernel_clone')!.addr.toString(16);
    expect(ofType(r.events, 'printk').map((e) => e.text)).toEqual([`0x${pc} 0x${pc} 0x60000005`]);
  });

  it('a post-handler sees the IP after the probed instruction: x86 p->addr + its length, arm64 p->addr + 4', () => {
    for (const arch of ['x86_64', 'arm64'] as const) {
      const fn = symbolsFor('6.17', arch).lookup('kernel_clone')!;
      if (fn.kind !== 'func') throw new Error('kernel_clone');
      // The model's first instruction is an ordinary one (kernel-image.test.ts), stepped in place.
      const next = (fn.addr + BigInt(fn.body[0]!.len)).toString(16);
      const text = arch === 'x86_64' ? '{ip} {reg:ip}' : '{pc} {reg:pc}';
      const r = run({ name: 'kp', symbol: 'kernel_clone', post: [{ do: 'print', arch, text }] }, arch);
      expect(ofType(r.events, 'printk').map((e) => e.text)).toEqual([`${next} 0x${next}`]);
      if (arch === 'arm64') expect(fn.body[0]!.len).toBe(4);
    }
  });

  it('through ftrace the post-handler sees the IP past the fentry call (kprobe_ftrace_handler: ip + MCOUNT_INSN_SIZE)', () => {
    const s = validateScenario({
      name: 'ft',
      cpus: 1,
      config: { ftrace: true },
      probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'print', text: 'pre {ip}' }], post: [{ do: 'print', text: 'post {ip}' }] }],
      tasks: [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'vfs_read' }] }],
    });
    const r = trace(s);
    expect(ofType(r.events, 'kprobe.ftrace.hit')).toHaveLength(1);
    const addr = BigInt(ofType(r.events, 'kprobe.ftrace.hit')[0]!.addr);
    // x86's fentry call is 5 bytes (call rel32); pre sees p->addr + 1 as after an int3.
    expect(ofType(r.events, 'printk').map((e) => e.text)).toEqual([`pre ${(addr + 1n).toString(16)}`, `post ${(addr + 5n).toString(16)}`]);
  });

  it('a print step given "arch" is built only for that arch, as an #ifdef branch', () => {
    const steps = [
      { do: 'print' as const, arch: 'x86_64' as const, text: 'x86 ip={ip}' },
      { do: 'print' as const, arch: 'arm64' as const, text: 'arm64 pc={pc}' },
    ];
    expect(ofType(run({ name: 'kp', symbol: 'kernel_clone', pre: steps }, 'x86_64').events, 'printk').map((e) => e.text.split(' ')[0])).toEqual(['x86']);
    expect(ofType(run({ name: 'kp', symbol: 'kernel_clone', pre: steps }, 'arm64').events, 'printk').map((e) => e.text.split(' ')[0])).toEqual(['arm64']);
  });

  it("a register of the other arch's pt_regs is refused at load time, naming this arch's field", () => {
    const load = (text: string, arch: 'x86_64' | 'arm64') => () =>
      validateScenario({ name: 'x', cpus: 1, arch, probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'print', text }] }], tasks: [] });
    expect(load('ip = {ip}', 'arm64')).toThrow('scenario.probes[0].pre[0].text: {ip} is regs->ip, an x86_64 register; on arm64 use {pc}');
    expect(load('{flags}', 'arm64')).toThrow('{flags} is regs->flags, an x86_64 register; on arm64 use {pstate}');
    expect(load('{pstate}', 'x86_64')).toThrow('{pstate} is regs->pstate, an arm64 register; on x86_64 use {flags}');
  });
});

describe('kprobe events read the same regs (shell sessions)', () => {
  it('%ip of a kprobe event is p->addr + 1 on x86 and %pc is p->addr on arm64, while the record names p->addr', async () => {
    const { SimBackend } = await import('../src/session/sim-backend.ts');
    const { ShellSession } = await import('../src/shell/session.ts');
    for (const [arch, reg, delta] of [['x86_64', '%ip', 1n], ['arm64', '%pc', 0n]] as const) {
      const sh = new ShellSession(new SimBackend({ cpus: 1, seed: 1, arch }), { cwd: '/sys/kernel/tracing' });
      sh.runScript(`echo 'p:k kernel_clone v=${reg}' > kprobe_events\necho 1 > events/kprobes/k/enable\nrun ls`);
      sh.tracing.pull();
      const line = sh.tracing.orderedEntries().map((e) => e.text).find((t) => t.includes(' k: ('))!;
      const addr = symbolsFor('6.17', arch).lookup('kernel_clone')!.addr;
      expect(line).toContain(`k: (kernel_clone+0x0/`);
      expect(line.trimEnd().endsWith(` v=0x${(addr + delta).toString(16)}`)).toBe(true);
    }
  });
});
