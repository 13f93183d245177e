import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { symbolsFor, type Arch, type KernelVersion } from '../src/kernel/index.ts';
import { hashPointer } from '../src/kprobes/printk-format.ts';
import { createSetup } from '../src/model/setup.ts';
import { cliInProcess } from './cli-in-process.ts';
import { cScenario, replaysIdentical, runC } from './cexec-helpers.ts';

// The seeds' modules, written in C, run on the simulated CPUs (issue 11, stage 2). Each runs as
// `run --module` runs it: insmod (module_init), the default workload (two shells, each forking two
// `cat`s that openat a file by absolute path and read it, then waiting: 6 forks, 4 opens, 4
// reads), rmmod (module_exit). The expected lines are the modules' own formats filled in from the
// image: the probed function's address, %p as the release prints it, the arch's pt_regs.

const file = (p: string) => ({ name: p.replace(/^.*\//, ''), code: readFileSync(p, 'utf8') });
const SEED_000 = file('examples/modules/seed-000/kprobe_example.c');
const SEED_003 = file('examples/modules/seed-003/kprobe_example.c');
const SEED_004 = file('examples/modules/seed-004/openat_probe.c');
/** The default workload forks twice in the insmod task and twice in each shell. */
const FORKS = 6;

/** %p of `addr` in a run of `files` with `seed` (hashed since v4.15 with the boot's key, R: printk). */
function percentP(files: readonly { name: string; code: string }[], o: { arch: Arch; kernel: KernelVersion; seed: number }, addr: bigint): string {
  const setup = createSetup(cScenario(files, o), o.seed);
  return hashPointer(addr, setup.ptrKey);
}

describe('seed 003: kprobe_example.c on kernel_clone (5.10: struct kprobe still has fault_handler)', () => {
  it('arm64: each fork prints the pre_handler line with pc = p->addr (BRK traps at the probe) and pstate 0x60000005, then the post_handler line', async () => {
    const o = { arch: 'arm64' as const, kernel: '5.10' as const, seed: 3 };
    const run = await runC([SEED_003], o);
    const addr = symbolsFor('5.10', 'arm64').lookup('kernel_clone')!.addr;
    const p = percentP([SEED_003], o, addr);
    expect(run.dmesg[0]).toBe(`Planted kprobe at ${p}`);
    const pre = `<kernel_clone> pre_handler: p->addr = 0x${p}, pc = 0x${addr.toString(16)}, pstate = 0x60000005`;
    const post = `<kernel_clone> post_handler: p->addr = 0x${p}, pstate = 0x60000005`;
    expect(run.dmesg.filter((l) => l === pre)).toHaveLength(FORKS);
    expect(run.dmesg.filter((l) => l === post)).toHaveLength(FORKS);
    expect(run.dmesg.at(-1)).toBe(`kprobe at ${p} unregistered`);
    expect(run.dmesg).toHaveLength(2 + 2 * FORKS);
    expect(run.endReason).toBe('done');
    expect(await replaysIdentical(run.log)).toBe(true);
  });

  it('x86_64: ip is just past the int3 (p->addr + 1) and flags 0x246 (IF set)', async () => {
    const o = { arch: 'x86_64' as const, kernel: '5.10' as const, seed: 7 };
    const run = await runC([SEED_003], o);
    const addr = symbolsFor('5.10', 'x86_64').lookup('kernel_clone')!.addr;
    const p = percentP([SEED_003], o, addr);
    expect(run.dmesg.filter((l) => l === `<kernel_clone> pre_handler: p->addr = 0x${p}, ip = ${(addr + 1n).toString(16)}, flags = 0x246`)).toHaveLength(FORKS);
    expect(run.dmesg.filter((l) => l === `<kernel_clone> post_handler: p->addr = 0x${p}, flags = 0x246`)).toHaveLength(FORKS);
    expect(await replaysIdentical(run.log)).toBe(true);
  });

  it('the symbol module parameter moves the probe: symbol=vfs_read hits once per cat read', async () => {
    const o = { arch: 'x86_64' as const, kernel: '5.10' as const, seed: 2, params: { symbol: 'vfs_read' } };
    const run = await runC([SEED_003], o);
    expect(run.dmesg.filter((l) => l.startsWith('<vfs_read> pre_handler:'))).toHaveLength(4);
    expect(run.state.stats['kp']!.hits).toBe(4);
  });
});

describe('seed 000: kprobe_example.c on _do_fork (4.14)', () => {
  it('prints the address unhashed (%p before v4.15), then __func__ and __LINE__ of each handler per fork', async () => {
    const run = await runC([SEED_000], { arch: 'x86_64', kernel: '4.14', seed: 5 });
    const addr = symbolsFor('4.14', 'x86_64').lookup('_do_fork')!.addr;
    const raw = addr.toString(16).padStart(16, '0');
    expect(run.dmesg[0]).toBe(`kprobe at ${raw} `);
    // printk in handler_pre is on line 16 of the file, handler_post's on line 22.
    expect(run.dmesg.filter((l) => l === 'xhl -- func:handler_pre, line:16 ')).toHaveLength(FORKS);
    expect(run.dmesg.filter((l) => l === 'xhl -- func:handler_post, line:22 ')).toHaveLength(FORKS);
    expect(run.dmesg.at(-1)).toBe(`kprobe at ${raw} unregistered`);
  });
});

describe('seed 004: the openat module reads the filename from user memory', () => {
  it('4.14 (sys_openat exists): one line per open, with the path the cat passed', async () => {
    const run = await runC([SEED_004], { arch: 'x86_64', kernel: '4.14', seed: 11 });
    const names = run.dmesg.map((l) => /^\[kprobe\] openat\(\) called with filename: (.*)$/.exec(l)?.[1]).filter((x) => x !== undefined);
    expect([...names].sort()).toEqual(['/etc/hostname', '/etc/os-release', '/etc/passwd', '/proc/version']);
    expect(run.dmesg).toHaveLength(4);
    expect(await replaysIdentical(run.log)).toBe(true);
  });

  it('6.17 (no sys_openat): register_kprobe fails, init returns its error, the module is unloaded and its exit never runs', async () => {
    const run = await runC([SEED_004], { arch: 'x86_64', kernel: '6.17', seed: 11 });
    expect(run.dmesg).toEqual(['Failed to register kprobe']);
    const fail = run.events.find((e) => e.type === 'kprobe.register.fail');
    expect(fail && fail.type === 'kprobe.register.fail' ? fail.errno : 0).toBe(-2);
    // do_init_module() failed: the module goes without a LIVE state, and rmmod finds nothing to call.
    expect(run.events.some((e) => e.type === 'module.live')).toBe(false);
    expect(run.events.some((e) => e.type === 'module.noref' && e.fn === 'kprobe_exit')).toBe(true);
    expect(run.endReason).toBe('done');
  });
});

const COUNTER = `#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/atomic.h>

static atomic_t hits = ATOMIC_INIT(0);

static int handler_pre(struct kprobe *p, struct pt_regs *regs)
{
	atomic_inc(&hits);
	return 0;
}

static struct kprobe kp = {
	.symbol_name = "vfs_read",
	.pre_handler = handler_pre,
};

static int __init counter_init(void)
{
	return register_kprobe(&kp);
}

static void __exit counter_exit(void)
{
	unregister_kprobe(&kp);
	pr_info("hits=%d\\n", atomic_read(&hits));
}

module_init(counter_init);
module_exit(counter_exit);
MODULE_LICENSE("GPL");
`;

describe('a handler counter agrees with the probe statistics', () => {
  it.each([1, 2, 3, 4])('seed %i: the atomic counter the handler bumps equals the probe\'s hits (4 reads), and the log replays', async (seed) => {
    const run = await runC([{ name: 'counter.c', code: COUNTER }], { seed });
    expect(run.dmesg).toEqual(['hits=4']);
    expect(run.state.stats['kp']!.hits).toBe(4);
    expect(await replaysIdentical(run.log)).toBe(true);
  });
});

/** The 1-based line of the first line of `text` that contains `needle`. */
function lineOf(text: string, needle: string): number {
  return text.split('\n').findIndex((l) => l.includes(needle)) + 1;
}

/** kprobe_example.c as samples/kprobes has it today (no fault_handler), trimmed to x86 and arm64. */
const SAMPLE = `#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/kprobes.h>

#define MAX_SYMBOL_LEN	64
static char symbol[MAX_SYMBOL_LEN] = "kernel_clone";
module_param_string(symbol, symbol, sizeof(symbol), 0644);

static struct kprobe kp = {
	.symbol_name	= symbol,
};

static int __kprobes handler_pre(struct kprobe *p, struct pt_regs *regs)
{
#ifdef CONFIG_X86
	pr_info("<%s> p->addr = 0x%p, ip = %lx, flags = 0x%lx\\n",
		p->symbol_name, p->addr, regs->ip, regs->flags);
#endif
#ifdef CONFIG_ARM64
	pr_info("<%s> p->addr = 0x%p, pc = 0x%lx, pstate = 0x%lx\\n",
		p->symbol_name, p->addr, (long)regs->pc, (long)regs->pstate);
#endif
	return 0;
}

static void __kprobes handler_post(struct kprobe *p, struct pt_regs *regs,
				unsigned long flags)
{
#ifdef CONFIG_X86
	pr_info("<%s> p->addr = 0x%p, flags = 0x%lx\\n",
		p->symbol_name, p->addr, regs->flags);
#endif
#ifdef CONFIG_ARM64
	pr_info("<%s> p->addr = 0x%p, pstate = 0x%lx\\n",
		p->symbol_name, p->addr, (long)regs->pstate);
#endif
}

static int __init kprobe_init(void)
{
	int ret;
	kp.pre_handler = handler_pre;
	kp.post_handler = handler_post;

	ret = register_kprobe(&kp);
	if (ret < 0) {
		pr_err("register_kprobe failed, returned %d\\n", ret);
		return ret;
	}
	pr_info("Planted kprobe at %p\\n", kp.addr);
	return 0;
}

static void __exit kprobe_exit(void)
{
	unregister_kprobe(&kp);
	pr_info("kprobe at %p unregistered\\n", kp.addr);
}

module_init(kprobe_init)
module_exit(kprobe_exit)
MODULE_LICENSE("GPL");
`;

describe('kprobesim run --module kprobe_example.c (6.17)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cexec-cli-'));
  const path = join(dir, 'kprobe_example.c');
  writeFileSync(path, SAMPLE);

  it.each(['x86_64', 'arm64'] as const)('%s: the sample\'s lines in dmesg, exit 0', async (arch) => {
    const r = await cliInProcess(['run', '--module', path, '--arch', arch, '--no-log', '--dmesg']);
    expect(r.code).toBe(0);
    const dmesg = r.out.slice(r.out.indexOf('--- dmesg ---')).split('\n').slice(1).filter((l) => l !== '').map((l) => l.replace(/^\[[ 0-9.]+\] /, ''));
    const addr = symbolsFor('6.17', arch).lookup('kernel_clone')!.addr;
    expect(dmesg[0]).toMatch(/^Planted kprobe at [0-9a-f]{16}$/);
    const p = dmesg[0]!.slice('Planted kprobe at '.length);
    const pre = arch === 'x86_64' ? `<kernel_clone> p->addr = 0x${p}, ip = ${(addr + 1n).toString(16)}, flags = 0x246` : `<kernel_clone> p->addr = 0x${p}, pc = 0x${addr.toString(16)}, pstate = 0x60000005`;
    expect(dmesg.filter((l) => l === pre)).toHaveLength(FORKS);
    expect(dmesg.at(-1)).toBe(`kprobe at ${p} unregistered`);
  });

  it('a module that does not compile: gcc\'s error on stderr, exit 2, nothing run', async () => {
    const bad = join(dir, 'bad.c');
    const text = SAMPLE.replace('kp.post_handler = handler_post;', 'kp.fault_handler = handler_post;');
    writeFileSync(bad, text);
    const r = await cliInProcess(['run', '--module', bad, '--no-log']);
    expect(r.code).toBe(2);
    // The member name is after the tab (8 columns) and `kp.`: column 12.
    expect(r.err).toContain(`${bad}:${lineOf(text, 'kp.fault_handler')}:12: error: 'struct kprobe' has no member named 'fault_handler'`);
    expect(r.out).toBe('');
  });

  it('a kernel function the model cannot run is an error at load time naming it and its line', async () => {
    const bad = join(dir, 'dup.c');
    const text = SAMPLE.replace('\tint ret;\n', '\tint ret;\n\tkstrdup(symbol, GFP_KERNEL);\n').replace('#include <linux/kprobes.h>', '#include <linux/kprobes.h>\n#include <linux/slab.h>');
    writeFileSync(bad, text);
    const r = await cliInProcess(['run', '--module', bad, '--no-log']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`dup\\.c:${lineOf(text, 'kstrdup(')}:2: error: 'kstrdup' is not supported at run time by the model \\(in function 'kprobe_init'\\)`));
  });
});
