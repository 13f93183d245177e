// SPDX-License-Identifier: GPL-2.0
/*
 * counter_spinlock.c: counter_unlocked.c fixed: the pre-handler counts under a spinlock.
 *
 * NO RACE: spin_unlock() is a RELEASE and the next spin_lock() an ACQUIRE of the same lock, so
 * one handler's `opens++` happens before the next one's, on any schedule; module_exit reads the
 * counter after unregister_kprobe(), which waits for every handler still running. Every
 * strategy must find nothing:
 *
 *   kprobesim explore --module examples/modules/races/counter_spinlock.c --runs 100
 *   ... OK: no failure in 100 runs (portfolio, seed 42, ...)
 *
 * (A CPU spinning on the lock is a yield to the explorer, docs/explore.md: PCT drops it below
 * the holder, swarm and the default schedule switch away from it, so no strategy spins on.)
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/spinlock.h>

static unsigned long opens;
static DEFINE_SPINLOCK(lock);

static int handler_pre(struct kprobe *p, struct pt_regs *regs)
{
	spin_lock(&lock);
	opens++;
	spin_unlock(&lock);
	return 0;
}

static struct kprobe kp = {
	.symbol_name	= "__x64_sys_openat",
	.pre_handler	= handler_pre,
};

static int __init counter_init(void)
{
	return register_kprobe(&kp);
}

static void __exit counter_exit(void)
{
	unregister_kprobe(&kp);
	pr_info("opens=%lu\n", opens);
}

module_init(counter_init);
module_exit(counter_exit);
MODULE_LICENSE("GPL");
