// SPDX-License-Identifier: MIT
/*
 * A KUnit suite for kprobesim with the seven cases of the kernel's kprobes sanity test
 * (lib/tests/test_kprobes.c), written for the simulator: a probe's handlers run around a
 * module function, several probes at once, a probe hit from its own handler (missed), a
 * kretprobe's entry and return handlers, several kretprobes, and the return address in a
 * return handler's stack trace, plain and nested.
 */

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/random.h>
#include <linux/stacktrace.h>
#include <kunit/test.h>

#define DIVISOR 3
#define TRACE_DEPTH 16

#define RESET_PROBE(_p)			\
do {					\
	(_p).addr = NULL;		\
	(_p).flags = 0;			\
} while (0)

static u32 seed_value, pre_seen, post_seen, ret_seen;
static struct kunit *running;

static u32 (*call_first)(u32 v);
static u32 (*call_second)(u32 v);
static u32 (*call_reentrant)(u32 v);

static noinline u32 first_target(u32 v)
{
	return v / DIVISOR;
}

static noinline u32 second_target(u32 v)
{
	return v / DIVISOR + 1;
}

static noinline u32 reentrant_target(u32 v)
{
	return v / DIVISOR;
}

#ifdef CONFIG_ARCH_CORRECT_STACKTRACE_ON_KRETPROBE
/* Before v5.16 an unwinder shows the kretprobe trampoline in place of the return address. */
static unsigned long (*call_outer)(void);
static unsigned long (*call_inner)(void);
static unsigned long (*call_driver)(void);
static unsigned long ret_addrs[2];
static unsigned long trace[TRACE_DEPTH];

static noinline unsigned long inner_target(void)
{
	if (!ret_addrs[0])
		ret_addrs[0] = (unsigned long)__builtin_return_address(0);
	return ret_addrs[0];
}

static noinline unsigned long outer_target(void)
{
	if (!ret_addrs[1])
		ret_addrs[1] = (unsigned long)__builtin_return_address(0);
	if (call_inner)
		call_inner();
	return ret_addrs[1];
}

static noinline unsigned long driver(void)
{
	if (call_outer)
		call_outer();
	return (unsigned long)__builtin_return_address(0);
}
#endif

static int on_entry(struct kprobe *p, struct pt_regs *regs)
{
	KUNIT_EXPECT_FALSE(running, preemptible());
	pre_seen = call_reentrant(seed_value);
	return 0;
}

static void on_exit_insn(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
	u32 again = call_reentrant(seed_value);

	KUNIT_EXPECT_FALSE(running, preemptible());
	KUNIT_EXPECT_EQ(running, pre_seen, again);
	post_seen = pre_seen + DIVISOR;
}

static int on_entry2(struct kprobe *p, struct pt_regs *regs)
{
	pre_seen = seed_value / DIVISOR + 1;
	return 0;
}

static void on_exit_insn2(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
	KUNIT_EXPECT_EQ(running, pre_seen, seed_value / DIVISOR + 1);
	post_seen = pre_seen + DIVISOR;
}

static struct kprobe probe_first = {
	.symbol_name = "first_target",
	.pre_handler = on_entry,
	.post_handler = on_exit_insn,
};

static struct kprobe probe_second = {
	.symbol_name = "second_target",
	.pre_handler = on_entry2,
	.post_handler = on_exit_insn2,
};

static struct kprobe probe_reentrant = {
	.symbol_name = "reentrant_target",
	.pre_handler = on_entry,
	.post_handler = on_exit_insn,
};

static void case_one_kprobe(struct kunit *test)
{
	running = test;
	KUNIT_EXPECT_EQ(test, 0, register_kprobe(&probe_first));
	call_first(seed_value);
	unregister_kprobe(&probe_first);
	KUNIT_EXPECT_NE(test, 0, pre_seen);
	KUNIT_EXPECT_NE(test, 0, post_seen);
}

static void case_two_kprobes(struct kunit *test)
{
	struct kprobe *both[2] = { &probe_first, &probe_second };

	running = test;
	KUNIT_EXPECT_EQ(test, 0, register_kprobes(both, 2));
	pre_seen = post_seen = 0;
	call_first(seed_value);
	KUNIT_EXPECT_NE(test, 0, pre_seen);
	KUNIT_EXPECT_NE(test, 0, post_seen);
	pre_seen = post_seen = 0;
	call_second(seed_value);
	KUNIT_EXPECT_NE(test, 0, pre_seen);
	KUNIT_EXPECT_NE(test, 0, post_seen);
	unregister_kprobes(both, 2);
}

static void case_missed(struct kunit *test)
{
	running = test;
	pre_seen = post_seen = 0;
	KUNIT_EXPECT_EQ(test, 0, register_kprobe(&probe_reentrant));
	call_reentrant(seed_value);
	/* Both handlers call the probed function again: each of those hits is missed. */
	KUNIT_EXPECT_EQ(test, 2, probe_reentrant.nmissed);
	KUNIT_EXPECT_NE(test, 0, pre_seen);
	KUNIT_EXPECT_NE(test, 0, post_seen);
	unregister_kprobe(&probe_reentrant);
}

static int ret_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	KUNIT_EXPECT_FALSE(running, preemptible());
	ret_seen = seed_value / DIVISOR;
	return 0;
}

static int ret_first(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	unsigned long rv = regs_return_value(regs);

	KUNIT_EXPECT_FALSE(running, preemptible());
	KUNIT_EXPECT_EQ(running, rv, seed_value / DIVISOR);
	KUNIT_EXPECT_NE(running, ret_seen, 0);
	ret_seen = seed_value;
	return 0;
}

static int ret_second(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	unsigned long rv = regs_return_value(regs);

	KUNIT_EXPECT_EQ(running, rv, seed_value / DIVISOR + 1);
	KUNIT_EXPECT_NE(running, ret_seen, 0);
	ret_seen = seed_value;
	return 0;
}

static struct kretprobe rprobe_first = {
	.handler = ret_first,
	.entry_handler = ret_entry,
	.kp.symbol_name = "first_target",
};

static struct kretprobe rprobe_second = {
	.handler = ret_second,
	.entry_handler = ret_entry,
	.kp.symbol_name = "second_target",
};

static void case_one_kretprobe(struct kunit *test)
{
	running = test;
	KUNIT_EXPECT_EQ(test, 0, register_kretprobe(&rprobe_first));
	call_first(seed_value);
	unregister_kretprobe(&rprobe_first);
	KUNIT_EXPECT_EQ(test, ret_seen, seed_value);
}

static void case_two_kretprobes(struct kunit *test)
{
	struct kretprobe *both[2] = { &rprobe_first, &rprobe_second };

	running = test;
	KUNIT_EXPECT_EQ(test, 0, register_kretprobes(both, 2));
	ret_seen = 0;
	call_first(seed_value);
	KUNIT_EXPECT_EQ(test, ret_seen, seed_value);
	ret_seen = 0;
	call_second(seed_value);
	KUNIT_EXPECT_EQ(test, ret_seen, seed_value);
	unregister_kretprobes(both, 2);
}

#ifdef CONFIG_ARCH_CORRECT_STACKTRACE_ON_KRETPROBE
/* The return address must show in the trace even though the kretprobe replaced it. */
static int ret_trace_outer(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	unsigned int n, i;

	KUNIT_EXPECT_EQ(running, regs_return_value(regs), ret_addrs[1]);
	n = stack_trace_save(trace, TRACE_DEPTH, 0);
	KUNIT_EXPECT_NE(running, n, 0);
	for (i = 0; i < n; i++)
		if (trace[i] == ret_addrs[1])
			break;
	KUNIT_EXPECT_NE(running, i, n);
	n = stack_trace_save_regs(regs, trace, TRACE_DEPTH, 0);
	KUNIT_EXPECT_NE(running, n, 0);
	KUNIT_EXPECT_EQ(running, trace[0], ret_addrs[1]);
	return 0;
}

static int ret_trace_inner(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	unsigned int n, i;

	KUNIT_EXPECT_EQ(running, regs_return_value(regs), ret_addrs[0]);
	n = stack_trace_save(trace, TRACE_DEPTH, 0);
	KUNIT_EXPECT_NE(running, n, 0);
	for (i = 0; i + 1 < n; i++) {
		if (trace[i] == ret_addrs[0]) {
			KUNIT_EXPECT_EQ(running, trace[i + 1], ret_addrs[1]);
			break;
		}
	}
	KUNIT_EXPECT_NE(running, i + 1, n);
	return 0;
}

static struct kretprobe rprobe_outer = {
	.handler = ret_trace_outer,
	.kp.symbol_name = "outer_target",
};

static struct kretprobe rprobe_inner = {
	.handler = ret_trace_inner,
	.kp.symbol_name = "inner_target",
};

static void case_trace(struct kunit *test)
{
	unsigned long mine = (unsigned long)__builtin_return_address(0);

	running = test;
	KUNIT_ASSERT_NE(test, mine, call_driver());
	KUNIT_ASSERT_EQ(test, 0, register_kretprobe(&rprobe_outer));
	KUNIT_ASSERT_NE(test, mine, call_driver());
	unregister_kretprobe(&rprobe_outer);
}

static void case_nested_trace(struct kunit *test)
{
	unsigned long mine = (unsigned long)__builtin_return_address(0);
	struct kretprobe *both[2] = { &rprobe_outer, &rprobe_inner };

	running = test;
	KUNIT_ASSERT_EQ(test, 0, register_kretprobes(both, 2));
	KUNIT_ASSERT_NE(test, mine, call_driver());
	unregister_kretprobes(both, 2);
}
#endif

static int suite_case_init(struct kunit *test)
{
	RESET_PROBE(probe_first);
	RESET_PROBE(probe_second);
	RESET_PROBE(probe_reentrant);
	RESET_PROBE(rprobe_first.kp);
	RESET_PROBE(rprobe_second.kp);
#ifdef CONFIG_ARCH_CORRECT_STACKTRACE_ON_KRETPROBE
	RESET_PROBE(rprobe_outer.kp);
	RESET_PROBE(rprobe_inner.kp);
	call_outer = outer_target;
	call_inner = inner_target;
	call_driver = driver;
#endif
	call_first = first_target;
	call_second = second_target;
	call_reentrant = reentrant_target;
	seed_value = get_random_u32() % 1000 + DIVISOR + 1;
	return 0;
}

static struct kunit_case kprobes_cases[] = {
	KUNIT_CASE(case_one_kprobe),
	KUNIT_CASE(case_two_kprobes),
	KUNIT_CASE(case_missed),
	KUNIT_CASE(case_one_kretprobe),
	KUNIT_CASE(case_two_kretprobes),
#ifdef CONFIG_ARCH_CORRECT_STACKTRACE_ON_KRETPROBE
	KUNIT_CASE(case_trace),
	KUNIT_CASE(case_nested_trace),
#endif
	{}
};

static struct kunit_suite kprobes_suite = {
	.name = "kprobesim_kprobes",
	.init = suite_case_init,
	.test_cases = kprobes_cases,
};

kunit_test_suites(&kprobes_suite);

MODULE_DESCRIPTION("kprobes KUnit cases for kprobesim");
MODULE_LICENSE("GPL");
