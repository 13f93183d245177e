import { describe, expect, it } from 'vitest';
import { HEAP_AREA } from '../src/cexec/step.ts';
import { replaysIdentical, runC } from './cexec-helpers.ts';

// Module bugs reported as the kernel reports them (issue 11): a use-after-free as KASAN does, a
// handler taking a spinlock its own CPU holds as a deadlock (CONFIG_DEBUG_SPINLOCK's "spinlock
// recursion"), not a hang; a NULL dereference as the page-fault oops.

const UAF = `#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>

static int *buf;

static int __init uaf_init(void)
{
	buf = kmalloc(4 * sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	buf[0] = 7;
	return 0;
}

static void __exit uaf_exit(void)
{
	kfree(buf);
	pr_info("value %d\\n", buf[0]);
}

module_init(uaf_init);
module_exit(uaf_exit);
MODULE_LICENSE("GPL");
`;

const DEADLOCK = `#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/spinlock.h>

static DEFINE_SPINLOCK(lock);

noinline int target(void)
{
	return 1;
}

static int pre(struct kprobe *p, struct pt_regs *regs)
{
	spin_lock(&lock);
	spin_unlock(&lock);
	return 0;
}

static struct kprobe kp = {
	.symbol_name = "target",
	.pre_handler = pre,
};

static int __init dl_init(void)
{
	int ret = register_kprobe(&kp);
	if (ret < 0)
		return ret;
	spin_lock(&lock);
	target();
	spin_unlock(&lock);
	return 0;
}

static void __exit dl_exit(void)
{
	unregister_kprobe(&kp);
}

module_init(dl_init);
module_exit(dl_exit);
MODULE_LICENSE("GPL");
`;

const NULL_DEREF = `#include <linux/kernel.h>
#include <linux/module.h>

static int *nothing;

static int __init nd_init(void)
{
	pr_info("about to read\\n");
	return *nothing;
}

module_init(nd_init);
MODULE_LICENSE("GPL");
`;

describe('module bugs', () => {
  it('kfree then a read in module_exit: KASAN\'s slab-use-after-free report, with where the block was allocated and freed', async () => {
    const run = await runC([{ name: 'uaf.c', code: UAF }], { seed: 4 });
    // The first kmalloc of the run is the start of the kmalloc area.
    const i = run.dmesg.findIndex((l) => l.startsWith('BUG: KASAN: slab-use-after-free in uaf_exit+'));
    expect(i).toBeGreaterThan(0);
    expect(run.dmesg[i]).toMatch(/^BUG: KASAN: slab-use-after-free in uaf_exit\+0x[0-9a-f]+\/0x[0-9a-f]+ \[uaf\]$/);
    expect(run.dmesg[i + 1]).toMatch(new RegExp(`^Read of size 4 at addr ${HEAP_AREA.toString(16)} by task insmod/\\d+$`));
    expect(run.dmesg.some((l) => /^ uaf_init\+0x[0-9a-f]+\/0x[0-9a-f]+$/.test(l))).toBe(true);
    expect(run.dmesg.some((l) => /^ uaf_exit\+0x[0-9a-f]+\/0x[0-9a-f]+$/.test(l))).toBe(true);
    expect(run.dmesg.includes('value 7')).toBe(false);
    expect(run.endReason).toBe('bug');
    expect(await replaysIdentical(run.log)).toBe(true);
  });

  it('a handler takes the spinlock its CPU holds (init holds it and calls the probed function): a deadlock report, not a hang', async () => {
    const run = await runC([{ name: 'dl.c', code: DEADLOCK }], { seed: 9 });
    const oops = run.events.find((e) => e.type === 'kernel.oops');
    expect(oops?.type === 'kernel.oops' && oops.message).toMatch(/^deadlock: CPU \d+ takes spinlock 0x[0-9a-f]+, which it already holds$/);
    const cpu = oops!.type === 'kernel.oops' ? oops!.cpu : -1;
    expect(run.dmesg).toContain(`BUG: spinlock recursion on CPU#${cpu}, insmod/${oops!.type === 'kernel.oops' ? oops!.pid : 0}`);
    expect(run.endReason).toBe('bug');
  });

  it('a NULL dereference in init: the page-fault oops naming the address and the function', async () => {
    const run = await runC([{ name: 'nd.c', code: NULL_DEREF }], { seed: 1 });
    expect(run.dmesg[0]).toBe('about to read');
    expect(run.dmesg[1]).toBe('BUG: kernel NULL pointer dereference, address: 0000000000000000');
    expect(run.dmesg).toContain('#PF: supervisor read access in kernel mode');
    expect(run.dmesg.some((l) => /^RIP: 0010:nd_init\+0x[0-9a-f]+\/0x[0-9a-f]+ \[nd\]$/.test(l))).toBe(true);
    expect(run.endReason).toBe('bug');
  });
});
