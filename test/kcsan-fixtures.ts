import { cModuleSpec, withCModules } from '../src/cexec/index.ts';
import type { Arch } from '../src/kernel/index.ts';
import type { Scenario, TaskOp } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';

// Modules and scenarios of the KCSAN tests (issue 12): a counter bumped by two tasks (plain,
// under a spinlock, atomic, marked), a kprobe handler counting opens, and a module whose init
// writes what its handler reads, before or after register_kprobe().

export const COUNTER = `#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/spinlock.h>
#include <linux/atomic.h>

static int counter;
static DEFINE_SPINLOCK(lock);
static atomic_t acounter = ATOMIC_INIT(0);

noinline void bump(void)
{
	counter++;
}

noinline void bump_locked(void)
{
	spin_lock(&lock);
	counter++;
	spin_unlock(&lock);
}

noinline void bump_atomic(void)
{
	atomic_inc(&acounter);
}

noinline void bump_marked(void)
{
	WRITE_ONCE(counter, READ_ONCE(counter) + 1);
}

noinline void bump_returning(void)
{
	/* fully ordered: a release and an acquire of acounter (atomic_t.txt) */
	if (atomic_inc_return(&acounter) > 0)
		counter++;
}

static int __init racy_init(void)
{
	return 0;
}

static void __exit racy_exit(void)
{
	pr_info("counter=%d acounter=%d\\n", counter, atomic_read(&acounter));
}

module_init(racy_init);
module_exit(racy_exit);
MODULE_LICENSE("GPL");
`;

export type BumpFn = 'bump' | 'bump_locked' | 'bump_atomic' | 'bump_marked' | 'bump_returning';

/** insmod, then tasks a and b (its children, not pinned) each call racy:FN `times` times, then rmmod. */
export function bumpers(fn: BumpFn, times = 1, cpus = 2): Scenario {
  const call: TaskOp = { op: 'call', fn: `racy:${fn}`, ...(times > 1 ? { times } : {}) };
  const base: Scenario = { name: `kcsan-${fn}`, description: `two tasks call ${fn}`, cpus, max_steps: 200_000, probes: [], tasks: [{ comm: 'a', program: [call] }, { comm: 'b', program: [call] }] };
  return validateScenario(withCModules(base, [cModuleSpec('racy.c', COUNTER)]));
}

/** A pre-handler on the openat system call counting hits in a plain global (or under a spinlock). */
export function countOpens(arch: Arch, locked = false): string {
  const symbol = arch === 'arm64' ? '__arm64_sys_openat' : '__x64_sys_openat';
  return `#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/spinlock.h>

static unsigned long opens;
static DEFINE_SPINLOCK(lock);

static int handler_pre(struct kprobe *p, struct pt_regs *regs)
{
${locked ? '\tspin_lock(&lock);\n\topens++;\n\tspin_unlock(&lock);' : '\topens++;'}
	return 0;
}

static struct kprobe kp = {
	.symbol_name	= "${symbol}",
	.pre_handler	= handler_pre,
};

static int __init count_init(void)
{
	return register_kprobe(&kp);
}

static void __exit count_exit(void)
{
	unregister_kprobe(&kp);
	pr_info("opens=%lu\\n", opens);
}

module_init(count_init);
module_exit(count_exit);
MODULE_LICENSE("GPL");
`;
}

/**
 * A module whose init sets \`threshold\`, which its vfs_read pre-handler reads, before
 * register_kprobe() (\`writeFirst\`) or after it; the handler counts hits, which module_exit
 * prints after unregister_kprobe().
 */
export function ordering(writeFirst: boolean): string {
  const init = writeFirst ? '\tthreshold = 42;\n\treturn register_kprobe(&kp);' : '\tint ret = register_kprobe(&kp);\n\n\tthreshold = 42;\n\treturn ret;';
  return `#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/kprobes.h>

static int threshold;
static unsigned long hits;

static int handler_pre(struct kprobe *p, struct pt_regs *regs)
{
	if (threshold == 42)
		hits++;
	return 0;
}

static struct kprobe kp = {
	.symbol_name	= "vfs_read",
	.pre_handler	= handler_pre,
};

static int __init order_init(void)
{
${init}
}

static void __exit order_exit(void)
{
	unregister_kprobe(&kp);
	pr_info("hits=%lu\\n", hits);
}

module_init(order_init);
module_exit(order_exit);
MODULE_LICENSE("GPL");
`;
}

/**
 * Two tasks from boot: \`insmod\` loads the module, sleeps and unloads it; \`reader\` calls vfs_read
 * 30 times meanwhile. Nothing but the kernel's own ordering relates them: the reader is not
 * forked by insmod and nobody waits for it.
 */
export function orderingScenario(writeFirst: boolean): Scenario {
  return validateScenario({
    name: `kcsan-ordering-${writeFirst ? 'init-first' : 'register-first'}`,
    description: 'module_init writes what the handler reads',
    cpus: 2,
    max_steps: 200_000,
    probes: [],
    modules: [cModuleSpec('order.c', ordering(writeFirst))],
    tasks: [
      { comm: 'insmod', program: [{ op: 'insmod', module: 'order' }, { op: 'sleep', ticks: 300 }, { op: 'rmmod', module: 'order' }] },
      { comm: 'reader', program: [{ op: 'call', fn: 'vfs_read', times: 30 }] },
    ],
  });
}

/**
 * Message passing through an atomic: the producer writes \`data\` then bumps \`flag\`; the consumer
 * bumps \`flag\` with atomic_inc_return() and reads \`data\` when it was second. The producer's
 * bump is atomic_inc_return() (fully ordered: a RELEASE of everything before it) or atomic_inc()
 * (unordered: Documentation/atomic_t.txt).
 */
export function messagePassing(producerOrdered: boolean): Scenario {
  const code = `#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/atomic.h>

static int data;
static atomic_t flag = ATOMIC_INIT(0);

noinline void producer(void)
{
	data = 1;
	${producerOrdered ? 'atomic_inc_return(&flag);' : 'atomic_inc(&flag);'}
}

noinline void consumer(void)
{
	if (atomic_inc_return(&flag) == 2)
		pr_info("data=%d\\n", data);
}

static int __init mp_init(void)
{
	return 0;
}

static void __exit mp_exit(void)
{
}

module_init(mp_init);
module_exit(mp_exit);
MODULE_LICENSE("GPL");
`;
  const base: Scenario = {
    name: `kcsan-mp-${producerOrdered ? 'ordered' : 'relaxed'}`,
    description: 'message passing through an atomic',
    cpus: 2,
    max_steps: 200_000,
    probes: [],
    tasks: [{ comm: 'producer', program: [{ op: 'call', fn: 'mp:producer' }] }, { comm: 'consumer', program: [{ op: 'call', fn: 'mp:consumer' }] }],
  };
  return validateScenario(withCModules(base, [cModuleSpec('mp.c', code)]));
}
