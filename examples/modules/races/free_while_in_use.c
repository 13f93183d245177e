// SPDX-License-Identifier: GPL-2.0
/*
 * free_while_in_use.c: a pre-handler that retires its own data while another CPU still uses it.
 *
 * The handler on openat counts opens into a kmalloc'd struct. After `limit` hits it retires the
 * struct: it clears the pointer and kfree()s it at once. THE RACE: a handler on the other CPU
 * may have loaded the pointer just before. If it counted an earlier hit and is between its
 * atomic_inc_return() and its update of s->opens while this CPU takes hit `limit` and frees
 * the struct, its update reads freed memory: KASAN's use-after-free. It needs that one
 * interleaving (a preemption inside the first handler, the whole second handler, then the rest
 * of the first), so a plain `kprobesim run` rarely shows it:
 *
 *   kprobesim explore --module examples/modules/races/free_while_in_use.c
 *   ... FAILED: 1 failure (KASAN) in N runs ...
 *
 * The counts themselves use READ_ONCE/WRITE_ONCE: a lost count is tolerated here (KCSAN keeps
 * quiet about marked accesses), the free is the bug. The fix is to wait for the readers before
 * freeing (the kernel's answer is RCU: publish NULL, synchronize_rcu() or kfree_rcu(), then
 * free), or simply to free in module_exit after unregister_kprobe(), which waits for them.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/slab.h>
#include <linux/atomic.h>

struct open_stats {
	int opens;
};

static struct open_stats *stats;
static atomic_t hits = ATOMIC_INIT(0);
static int limit = 2;
module_param(limit, int, 0644);

static int handler_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct open_stats *s = READ_ONCE(stats);

	if (!s)
		return 0;
	if (atomic_inc_return(&hits) == limit) {
		/* Retire the stats: unpublish, then free at once (the bug: no grace period). */
		WRITE_ONCE(stats, NULL);
		pr_info("free_while_in_use: retired after %d opens\n", READ_ONCE(s->opens));
		kfree(s);
		return 0;
	}
	WRITE_ONCE(s->opens, READ_ONCE(s->opens) + 1);
	return 0;
}

static struct kprobe kp = {
	.symbol_name	= "__x64_sys_openat",
	.pre_handler	= handler_pre,
};

static int __init stats_init(void)
{
	stats = kzalloc(sizeof(*stats), GFP_KERNEL);
	if (!stats)
		return -ENOMEM;
	return register_kprobe(&kp);
}

static void __exit stats_exit(void)
{
	unregister_kprobe(&kp);
	kfree(stats);	/* NULL once retired: kfree(NULL) does nothing */
}

module_init(stats_init);
module_exit(stats_exit);
MODULE_LICENSE("GPL");
