// SPDX-License-Identifier: GPL-2.0
/*
 * check_then_set.c: a "one CPU at a time" flag tested and set in two steps.
 *
 * The pre-handler on openat wants at most one CPU inside its section and guards it with a flag:
 * it reads `busy` and, if clear, sets it. THE RACE: the test and the set are two atomic
 * operations, not one, so two CPUs can both read 0 before either stores 1, and both enter. The
 * WARN_ON() is the section's own self-check (a count of the CPUs inside it) and fires then.
 * Every access is an atomic_*(), so KCSAN has nothing to say: this is a race on the logic, not
 * a data race, and only the schedules that put both tests before both sets show it:
 *
 *   kprobesim explore --module examples/modules/races/check_then_set.c
 *   ... FAILED: 1 failure (kernel.warn) in N runs ...
 *
 * The fix: one atomic test-and-set, `if (atomic_cmpxchg(&busy, 0, 1) != 0) return 0;` (or
 * atomic_xchg(), or spin_trylock()).
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/atomic.h>

static atomic_t busy = ATOMIC_INIT(0);
static atomic_t inside = ATOMIC_INIT(0);

static int handler_pre(struct kprobe *p, struct pt_regs *regs)
{
	if (atomic_read(&busy))
		return 0;	/* another CPU is in the section: skip this hit */
	atomic_set(&busy, 1);	/* racy: too late, the other CPU may have read 0 too */
	WARN_ON(atomic_inc_return(&inside) > 1);
	atomic_dec(&inside);
	atomic_set(&busy, 0);
	return 0;
}

static struct kprobe kp = {
	.symbol_name	= "__x64_sys_openat",
	.pre_handler	= handler_pre,
};

static int __init flag_init(void)
{
	return register_kprobe(&kp);
}

static void __exit flag_exit(void)
{
	unregister_kprobe(&kp);
}

module_init(flag_init);
module_exit(flag_exit);
MODULE_LICENSE("GPL");
