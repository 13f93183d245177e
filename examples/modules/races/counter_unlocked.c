// SPDX-License-Identifier: GPL-2.0
/*
 * counter_unlocked.c: counts openat calls from a kprobe pre-handler, with no lock.
 *
 * THE RACE: `opens++` is a load and a store. The pre-handler runs on every CPU that calls
 * openat, so two CPUs can both load the same value and both store value + 1: one open is lost.
 * Nothing orders the two handlers' accesses (a kprobe handler takes no lock of its own), so
 * this is a data race whether or not a value is lost on a given run, and KCSAN reports it:
 *
 *   kprobesim explore --module examples/modules/races/counter_unlocked.c
 *   ... FAILED: 1 failure (KCSAN: data-race in handler_pre / handler_pre) in 1 run ...
 *
 * Found on the first run by every strategy: the default workload's cats open their files from
 * sibling tasks, so every schedule has the two unordered accesses. The fix is
 * counter_spinlock.c (or an atomic_t and atomic_inc()).
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/kprobes.h>

static unsigned long opens;

static int handler_pre(struct kprobe *p, struct pt_regs *regs)
{
	opens++;	/* racy: a plain read-modify-write on a shared counter */
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
