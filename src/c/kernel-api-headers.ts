// The kernel headers a module can include, as the model has them: C text written for the model
// (declarations of the kernel API a module sees, per arch and release), compiled by the same
// front end as the module. Functions declared here and not defined are the kernel's: the later
// stage runs them natively by name. Names starting with `__sim_` are the model's own hooks
// (what a real header does with inline assembly or a special section, e.g. KUnit's assertions).
//
// Struct layouts follow the releases: `struct kprobe` has `fault_handler` before v5.14 and
// `break_handler` before v4.18 (jprobes); `pt_regs` has x86_64's ip/sp/ax/di/si/... or arm64's
// regs[31]/sp/pc/pstate; `kretprobe_instance` has `ret_addr`/`task` before rethook (x86_64 v5.19,
// arm64 v6.0) and only `node` + `data[]` after.

import { Errno } from '../errno.ts';
import { atLeast, type KernelVersion } from '../kernel/releases.ts';
import type { CArch } from './kernel-api.ts';

interface Ctx {
  readonly arch: CArch;
  readonly v: KernelVersion;
}

const when = (cond: boolean, text: string): string => (cond ? text : '');

const COMPILER = (): string => `
#define __user
#define __kernel
#define __iomem
#define __percpu
#define __rcu
#define __force
#define __bitwise
#define __must_check __attribute__((__warn_unused_result__))
#define __always_inline inline __attribute__((__always_inline__))
#define __inline__ inline
#define __inline inline
#define noinline __attribute__((__noinline__))
#define __noinline __attribute__((__noinline__))
#define __used __attribute__((__used__))
#define __maybe_unused __attribute__((__unused__))
#define __always_unused __attribute__((__unused__))
#define __cold __attribute__((__cold__))
#define __section(s) __attribute__((__section__(s)))
#define __aligned(x) __attribute__((__aligned__(x)))
#define __packed __attribute__((__packed__))
#define __printf(a, b) __attribute__((__format__(printf, a, b)))
#define __noreturn __attribute__((__noreturn__))
#define __weak __attribute__((__weak__))
#define __pure __attribute__((__pure__))
#define __visible __attribute__((__externally_visible__))
#define notrace __attribute__((__no_instrument_function__))
#define noinstr noinline notrace __section(".noinstr.text")
#define asmlinkage
#define __latent_entropy
#define __randomize_layout
#define __read_mostly
#define __cacheline_aligned
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define barrier() do { } while (0)
#define READ_ONCE(x) (*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, val) do { *(volatile typeof(x) *)&(x) = (val); } while (0)
#define ___PASTE(a, b) a##b
#define __PASTE(a, b) ___PASTE(a, b)
#define __UNIQUE_ID(prefix) __PASTE(__PASTE(__UNIQUE_ID_, prefix), __COUNTER__)
#define __stringify_1(x...) #x
#define __stringify(x...) __stringify_1(x)
#define fallthrough __attribute__((__fallthrough__))
`;

const TYPES = (): string => `
#include <linux/compiler.h>
typedef signed char s8;
typedef unsigned char u8;
typedef signed short s16;
typedef unsigned short u16;
typedef signed int s32;
typedef unsigned int u32;
typedef signed long long s64;
typedef unsigned long long u64;
typedef s8 __s8;
typedef u8 __u8;
typedef s16 __s16;
typedef u16 __u16;
typedef s32 __s32;
typedef u32 __u32;
typedef s64 __s64;
typedef u64 __u64;
typedef unsigned long size_t;
typedef long ssize_t;
typedef long ptrdiff_t;
typedef unsigned long uintptr_t;
typedef long intptr_t;
typedef _Bool bool;
typedef int pid_t;
typedef unsigned int gfp_t;
typedef long long loff_t;
typedef unsigned short umode_t;
typedef unsigned int uint;
typedef unsigned long ulong;
typedef unsigned char uchar;
typedef unsigned short ushort;
typedef u8 uint8_t;
typedef u16 uint16_t;
typedef u32 uint32_t;
typedef u64 uint64_t;
typedef s8 int8_t;
typedef s16 int16_t;
typedef s32 int32_t;
typedef s64 int64_t;
typedef s64 ktime_t;
typedef unsigned long phys_addr_t;
typedef struct { int counter; } atomic_t;
typedef struct { s64 counter; } atomic64_t;
typedef atomic64_t atomic_long_t;
struct list_head { struct list_head *next, *prev; };
struct hlist_head { struct hlist_node *first; };
struct hlist_node { struct hlist_node *next, **pprev; };
struct llist_node { struct llist_node *next; };
struct rcu_head { struct rcu_head *next; void (*func)(struct rcu_head *head); };
#define NULL ((void *)0)
enum { false = 0, true = 1 };
#define offsetof(TYPE, MEMBER) __builtin_offsetof(TYPE, MEMBER)
#define ATOMIC_INIT(i) { (i) }
#define ATOMIC64_INIT(i) { (i) }
#define ATOMIC_LONG_INIT(i) ATOMIC64_INIT(i)
`;

const LIMITS = (): string => `
#define U8_MAX ((u8)~0U)
#define S8_MAX ((s8)(U8_MAX >> 1))
#define S8_MIN ((s8)(-S8_MAX - 1))
#define U16_MAX ((u16)~0U)
#define S16_MAX ((s16)(U16_MAX >> 1))
#define S16_MIN ((s16)(-S16_MAX - 1))
#define U32_MAX ((u32)~0U)
#define S32_MAX ((s32)(U32_MAX >> 1))
#define S32_MIN ((s32)(-S32_MAX - 1))
#define U64_MAX ((u64)~0ULL)
#define S64_MAX ((s64)(U64_MAX >> 1))
#define S64_MIN ((s64)(-S64_MAX - 1))
#define SHRT_MAX ((short)(USHRT_MAX >> 1))
#define USHRT_MAX ((unsigned short)~0U)
#define INT_MAX ((int)(~0U >> 1))
#define INT_MIN (-INT_MAX - 1)
#define UINT_MAX (~0U)
#define LONG_MAX ((long)(~0UL >> 1))
#define LONG_MIN (-LONG_MAX - 1)
#define ULONG_MAX (~0UL)
#define LLONG_MAX ((long long)(~0ULL >> 1))
#define LLONG_MIN (-LLONG_MAX - 1)
#define ULLONG_MAX (~0ULL)
#define SIZE_MAX (~(size_t)0)
`;

const PRINTK = (c: Ctx): string => `
#include <linux/types.h>
#define KERN_SOH "\\001"
#define KERN_SOH_ASCII '\\001'
#define KERN_EMERG KERN_SOH "0"
#define KERN_ALERT KERN_SOH "1"
#define KERN_CRIT KERN_SOH "2"
#define KERN_ERR KERN_SOH "3"
#define KERN_WARNING KERN_SOH "4"
#define KERN_NOTICE KERN_SOH "5"
#define KERN_INFO KERN_SOH "6"
#define KERN_DEBUG KERN_SOH "7"
#define KERN_DEFAULT ${atLeast(c.v, '5.0') ? '""' : 'KERN_SOH "d"'}
#define KERN_CONT KERN_SOH "c"
#define LOGLEVEL_EMERG 0
#define LOGLEVEL_ERR 3
#define LOGLEVEL_WARNING 4
#define LOGLEVEL_INFO 6
#define LOGLEVEL_DEBUG 7
#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif
${
  atLeast(c.v, '5.15')
    ? `asmlinkage __printf(1, 2) __cold int _printk(const char *fmt, ...);
#define printk(fmt, ...) _printk(fmt, ##__VA_ARGS__)`
    : `asmlinkage __printf(1, 2) __cold int printk(const char *fmt, ...);`
}
#define pr_emerg(fmt, ...) printk(KERN_EMERG pr_fmt(fmt), ##__VA_ARGS__)
#define pr_alert(fmt, ...) printk(KERN_ALERT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_crit(fmt, ...) printk(KERN_CRIT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_err(fmt, ...) printk(KERN_ERR pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...) printk(KERN_WARNING pr_fmt(fmt), ##__VA_ARGS__)
${when(!atLeast(c.v, '5.6'), '#define pr_warning pr_warn')}
#define pr_notice(fmt, ...) printk(KERN_NOTICE pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...) printk(KERN_INFO pr_fmt(fmt), ##__VA_ARGS__)
#define pr_cont(fmt, ...) printk(KERN_CONT fmt, ##__VA_ARGS__)
#define no_printk(fmt, ...) ({ if (0) printk(fmt, ##__VA_ARGS__); 0; })
#ifdef DEBUG
#define pr_debug(fmt, ...) printk(KERN_DEBUG pr_fmt(fmt), ##__VA_ARGS__)
#else
#define pr_debug(fmt, ...) no_printk(KERN_DEBUG pr_fmt(fmt), ##__VA_ARGS__)
#endif
#define pr_devel(fmt, ...) no_printk(KERN_DEBUG pr_fmt(fmt), ##__VA_ARGS__)
int printk_ratelimit(void);
asmlinkage __visible void dump_stack(void);
`;

const BUG = (): string => `
#include <linux/printk.h>
void __sim_warn(const char *file, int line);
__noreturn void __sim_bug(const char *file, int line);
#define BUG() __sim_bug(__FILE__, __LINE__)
#define BUG_ON(condition) do { if (unlikely(condition)) BUG(); } while (0)
#define WARN_ON(condition) ({ int __ret_warn_on = !!(condition); if (unlikely(__ret_warn_on)) __sim_warn(__FILE__, __LINE__); unlikely(__ret_warn_on); })
#define WARN(condition, format...) ({ int __ret_warn_on = !!(condition); if (unlikely(__ret_warn_on)) { printk(format); __sim_warn(__FILE__, __LINE__); } unlikely(__ret_warn_on); })
#define WARN_ON_ONCE(condition) ({ static bool __warned; int __ret_warn_once = !!(condition); if (unlikely(__ret_warn_once && !__warned)) { __warned = true; __sim_warn(__FILE__, __LINE__); } unlikely(__ret_warn_once); })
#define WARN_ONCE(condition, format...) ({ static bool __warned; int __ret_warn_once = !!(condition); if (unlikely(__ret_warn_once && !__warned)) { __warned = true; printk(format); __sim_warn(__FILE__, __LINE__); } unlikely(__ret_warn_once); })
#define BUILD_BUG_ON(condition) ((void)sizeof(char[1 - 2 * !!(condition)]))
`;

const KERNEL = (): string => `
#include <linux/types.h>
#include <linux/limits.h>
#include <linux/printk.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/string.h>
#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]))
#define min(x, y) ({ typeof(x) __min1 = (x); typeof(y) __min2 = (y); __min1 < __min2 ? __min1 : __min2; })
#define max(x, y) ({ typeof(x) __max1 = (x); typeof(y) __max2 = (y); __max1 > __max2 ? __max1 : __max2; })
#define min_t(type, x, y) ({ type __min1 = (x); type __min2 = (y); __min1 < __min2 ? __min1 : __min2; })
#define max_t(type, x, y) ({ type __max1 = (x); type __max2 = (y); __max1 > __max2 ? __max1 : __max2; })
#define clamp(val, lo, hi) min((typeof(val))max(val, lo), hi)
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define BIT(nr) (1UL << (nr))
#define BIT_ULL(nr) (1ULL << (nr))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define swap(a, b) do { typeof(a) __tmp = (a); (a) = (b); (b) = __tmp; } while (0)
__printf(2, 3) int sprintf(char *buf, const char *fmt, ...);
__printf(3, 4) int snprintf(char *buf, size_t size, const char *fmt, ...);
__printf(3, 4) int scnprintf(char *buf, size_t size, const char *fmt, ...);
int kstrtoint(const char *s, unsigned int base, int *res);
int kstrtouint(const char *s, unsigned int base, unsigned int *res);
int kstrtol(const char *s, unsigned int base, long *res);
int kstrtoul(const char *s, unsigned int base, unsigned long *res);
int kstrtou64(const char *s, unsigned int base, u64 *res);
unsigned long simple_strtoul(const char *cp, char **endp, unsigned int base);
`;

const STRING = (c: Ctx): string => `
#include <linux/types.h>
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t count);
int strcmp(const char *cs, const char *ct);
int strncmp(const char *cs, const char *ct, size_t count);
char *strcpy(char *dest, const char *src);
char *strncpy(char *dest, const char *src, size_t count);
${when(atLeast(c.v, '4.3'), 'ssize_t strscpy(char *dest, const char *src, size_t count);')}
size_t strlcpy(char *dest, const char *src, size_t size);
char *strcat(char *dest, const char *src);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *s1, const char *s2);
void *memcpy(void *dest, const void *src, size_t count);
void *memmove(void *dest, const void *src, size_t count);
void *memset(void *s, int c, size_t count);
int memcmp(const void *cs, const void *ct, size_t count);
char *kstrdup(const char *s, gfp_t gfp);
`;

const ERRNO = (): string => {
  const extra: Record<string, number> = {
    EINTR: 4, ENXIO: 6, ENOEXEC: 8, ECHILD: 10, EAGAIN: 11, ENOTBLK: 15, EXDEV: 18, ENFILE: 23, EMFILE: 24, ENOTTY: 25,
    EFBIG: 27, ESPIPE: 29, EROFS: 30, EPIPE: 32, EDOM: 33, ENAMETOOLONG: 36, ENOTEMPTY: 39, ENODATA: 61, EOVERFLOW: 75,
    ETIMEDOUT: 110, EALREADY: 114, EINPROGRESS: 115, ERESTARTSYS: 512, ENOTSUPP: 524,
  };
  const all = { ...Errno, ...extra } as Record<string, number>;
  return Object.entries(all)
    .sort((a, b) => a[1] - b[1])
    .map(([k, v]) => `#define ${k} ${v}`)
    .join('\n') + '\n#define EWOULDBLOCK EAGAIN\n';
};

const INIT = (): string => `
#include <linux/compiler.h>
#define __init __section(".init.text") __cold notrace __latent_entropy
#define __exit __section(".exit.text") __used __cold notrace
#define __initdata __section(".init.data")
#define __exitdata __section(".exit.data")
#define __initconst __section(".init.rodata")
#define __init_or_module
typedef int (*initcall_t)(void);
typedef void (*exitcall_t)(void);
#define module_init(initfn) static inline initcall_t __maybe_unused __inittest(void) { return initfn; } int init_module(void) __attribute__((alias(#initfn)));
#define module_exit(exitfn) static inline exitcall_t __maybe_unused __exittest(void) { return exitfn; } void cleanup_module(void) __attribute__((alias(#exitfn)));
`;

const MODULEPARAM = (): string => `
#include <linux/types.h>
#include <linux/init.h>
#define MODULE_PARAM_PREFIX
#define __MODULE_INFO(tag, name, info) static const char __UNIQUE_ID(name)[] __used __section(".modinfo") __aligned(1) = __stringify(tag) "=" info
#define MODULE_PARM_DESC(_parm, desc) __MODULE_INFO(parm, _parm, #_parm ":" desc)
#define __MODULE_PARM_TYPE(name, _type) __MODULE_INFO(parmtype, name##type, #name ":" _type)
struct kernel_param;
struct module;
struct kernel_param_ops {
	unsigned int flags;
	int (*set)(const char *val, const struct kernel_param *kp);
	int (*get)(char *buffer, const struct kernel_param *kp);
	void (*free)(void *arg);
};
struct kparam_string {
	unsigned int maxlen;
	char *string;
};
struct kparam_array {
	unsigned int max;
	unsigned int elemsize;
	unsigned int *num;
	const struct kernel_param_ops *ops;
	void *elem;
};
struct kernel_param {
	const char *name;
	struct module *mod;
	const struct kernel_param_ops *ops;
	const u16 perm;
	s8 level;
	u8 flags;
	union {
		void *arg;
		const struct kparam_string *str;
		const struct kparam_array *arr;
	};
};
extern const struct kernel_param_ops param_ops_byte;
extern const struct kernel_param_ops param_ops_short;
extern const struct kernel_param_ops param_ops_ushort;
extern const struct kernel_param_ops param_ops_int;
extern const struct kernel_param_ops param_ops_uint;
extern const struct kernel_param_ops param_ops_long;
extern const struct kernel_param_ops param_ops_ulong;
extern const struct kernel_param_ops param_ops_ullong;
extern const struct kernel_param_ops param_ops_hexint;
extern const struct kernel_param_ops param_ops_charp;
extern const struct kernel_param_ops param_ops_bool;
extern const struct kernel_param_ops param_ops_invbool;
extern const struct kernel_param_ops param_ops_string;
extern struct module __this_module;
#define THIS_MODULE (&__this_module)
#define __module_param_call(prefix, name, ops, arg, perm, level, flags) static const char __param_str_##name[] = prefix #name; static struct kernel_param const __param_##name __used __section("__param") __aligned(__alignof__(struct kernel_param)) = { __param_str_##name, THIS_MODULE, ops, (perm), level, flags, { arg } }
#define module_param_cb(name, ops, arg, perm) __module_param_call(MODULE_PARAM_PREFIX, name, ops, arg, perm, -1, 0)
#define __param_check(name, p, type) static inline type __always_unused *__check_##name(void) { return(p); }
#define param_check_byte(name, p) __param_check(name, p, unsigned char)
#define param_check_short(name, p) __param_check(name, p, short)
#define param_check_ushort(name, p) __param_check(name, p, unsigned short)
#define param_check_int(name, p) __param_check(name, p, int)
#define param_check_uint(name, p) __param_check(name, p, unsigned int)
#define param_check_long(name, p) __param_check(name, p, long)
#define param_check_ulong(name, p) __param_check(name, p, unsigned long)
#define param_check_ullong(name, p) __param_check(name, p, unsigned long long)
#define param_check_hexint(name, p) param_check_uint(name, p)
#define param_check_charp(name, p) __param_check(name, p, char *)
#define param_check_bool(name, p) __param_check(name, p, bool)
#define param_check_invbool(name, p) __param_check(name, p, bool)
#define module_param_named(name, value, type, perm) param_check_##type(name, &(value)); module_param_cb(name, &param_ops_##type, &value, perm); __MODULE_PARM_TYPE(name, #type)
#define module_param(name, type, perm) module_param_named(name, name, type, perm)
#define module_param_string(name, string, len, perm) static const struct kparam_string __param_string_##name = { len, string }; __module_param_call(MODULE_PARAM_PREFIX, name, &param_ops_string, .str = &__param_string_##name, perm, -1, 0); __MODULE_PARM_TYPE(name, "string")
`;

const MODULE = (): string => `
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/moduleparam.h>
#include <linux/export.h>
#define MODULE_NAME_LEN (64 - sizeof(unsigned long))
struct module {
	int state;
	struct list_head list;
	char name[MODULE_NAME_LEN];
};
#define MODULE_INFO(tag, info) __MODULE_INFO(tag, tag, info)
#define MODULE_LICENSE(_license) MODULE_INFO(license, _license)
#define MODULE_AUTHOR(_author) MODULE_INFO(author, _author)
#define MODULE_DESCRIPTION(_description) MODULE_INFO(description, _description)
#define MODULE_VERSION(_version) MODULE_INFO(version, _version)
#define MODULE_ALIAS(_alias) MODULE_INFO(alias, _alias)
#define MODULE_SOFTDEP(_softdep) MODULE_INFO(softdep, _softdep)
#define MODULE_IMPORT_NS(ns) MODULE_INFO(import_ns, __stringify(ns))
bool try_module_get(struct module *module);
void module_put(struct module *module);
`;

const EXPORT = (): string => `
#include <linux/compiler.h>
#define __EXPORT_SYMBOL(sym, license) static const char __sim_ksymtab_##sym[] __used __section("__ksymtab_strings") = license #sym
#define EXPORT_SYMBOL(sym) __EXPORT_SYMBOL(sym, "")
#define EXPORT_SYMBOL_GPL(sym) __EXPORT_SYMBOL(sym, "GPL:")
`;

const PTRACE = (c: Ctx): string =>
  c.arch === 'x86_64'
    ? `
#include <linux/types.h>
struct pt_regs {
	unsigned long r15;
	unsigned long r14;
	unsigned long r13;
	unsigned long r12;
	unsigned long bp;
	unsigned long bx;
	unsigned long r11;
	unsigned long r10;
	unsigned long r9;
	unsigned long r8;
	unsigned long ax;
	unsigned long cx;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
	unsigned long ip;
	unsigned long cs;
	unsigned long flags;
	unsigned long sp;
	unsigned long ss;
};
static inline unsigned long regs_return_value(struct pt_regs *regs)
{
	return regs->ax;
}
static inline void regs_set_return_value(struct pt_regs *regs, unsigned long rc)
{
	regs->ax = rc;
}
static inline unsigned long instruction_pointer(struct pt_regs *regs)
{
	return regs->ip;
}
static inline void instruction_pointer_set(struct pt_regs *regs, unsigned long val)
{
	regs->ip = val;
}
static inline unsigned long kernel_stack_pointer(struct pt_regs *regs)
{
	return regs->sp;
}
static inline unsigned long user_stack_pointer(struct pt_regs *regs)
{
	return regs->sp;
}
static inline int user_mode(struct pt_regs *regs)
{
	return !!(regs->cs & 3);
}
static inline unsigned long regs_get_kernel_argument(struct pt_regs *regs, unsigned int n)
{
	switch (n) {
	case 0: return regs->di;
	case 1: return regs->si;
	case 2: return regs->dx;
	case 3: return regs->cx;
	case 4: return regs->r8;
	case 5: return regs->r9;
	}
	return 0;
}
#define profile_pc(regs) instruction_pointer(regs)
`
    : `
#include <linux/types.h>
#define PSR_MODE_EL0t 0x00000000
#define PSR_MODE_EL1h 0x00000005
#define PSR_MODE_MASK 0x0000000f
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};
struct pt_regs {
	union {
		struct user_pt_regs user_regs;
		struct {
			u64 regs[31];
			u64 sp;
			u64 pc;
			u64 pstate;
		};
	};
	u64 orig_x0;
	s32 syscallno;
	${atLeast(c.v, '6.2') ? 'u32 pmr;' : 'u32 unused2;'}
	${when(atLeast(c.v, '5.0'), 'u64 sdei_ttbr1;')}
	${when(atLeast(c.v, '5.0') && !atLeast(c.v, '6.2'), 'u64 pmr_save;')}
	u64 stackframe[2];
	${when(atLeast(c.v, '5.10'), 'u64 lockdep_hardirqs;\n\tu64 exit_rcu;')}
};
static inline unsigned long regs_return_value(struct pt_regs *regs)
{
	return regs->regs[0];
}
static inline void regs_set_return_value(struct pt_regs *regs, unsigned long rc)
{
	regs->regs[0] = rc;
}
#define instruction_pointer(regs) ((unsigned long)(regs)->pc)
static inline void instruction_pointer_set(struct pt_regs *regs, unsigned long val)
{
	regs->pc = val;
}
static inline unsigned long kernel_stack_pointer(struct pt_regs *regs)
{
	return regs->sp;
}
#define user_stack_pointer(regs) ((regs)->sp)
#define user_mode(regs) (((regs)->pstate & PSR_MODE_MASK) == PSR_MODE_EL0t)
static inline unsigned long regs_get_kernel_argument(struct pt_regs *regs, unsigned int n)
{
	if (n < 8)
		return regs->regs[n];
	return 0;
}
#define profile_pc(regs) instruction_pointer(regs)
`;

const KPROBES = (c: Ctx): string => {
  const fault = !atLeast(c.v, '5.14');
  const jprobes = !atLeast(c.v, '4.15');
  const rethook = c.arch === 'x86_64' ? atLeast(c.v, '5.19') : atLeast(c.v, '6.0');
  return `
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/preempt.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/stacktrace.h>
#define __kprobes __section(".kprobes.text")
#define NOKPROBE_SYMBOL(fname) static unsigned long __used __section("_kprobe_blacklist") _kbl_addr_##fname = (unsigned long)fname;
typedef ${c.arch === 'x86_64' ? 'u8' : 'u32'} kprobe_opcode_t;
struct arch_specific_insn {
	kprobe_opcode_t *insn;
${c.arch === 'x86_64' ? '\tbool boostable;\n\tunsigned char size;' : '\tunsigned long restore;'}
};
struct kprobe;
struct kretprobe;
struct kretprobe_instance;
typedef int (*kprobe_pre_handler_t) (struct kprobe *, struct pt_regs *);
typedef void (*kprobe_post_handler_t) (struct kprobe *, struct pt_regs *, unsigned long flags);
${when(fault, 'typedef int (*kprobe_fault_handler_t) (struct kprobe *, struct pt_regs *, int trapnr);')}
${when(jprobes, 'typedef int (*kprobe_break_handler_t) (struct kprobe *, struct pt_regs *);')}
typedef int (*kretprobe_handler_t) (struct kretprobe_instance *, struct pt_regs *);
struct kprobe {
	struct hlist_node hlist;
	struct list_head list;
	unsigned long nmissed;
	kprobe_opcode_t *addr;
	const char *symbol_name;
	unsigned int offset;
	kprobe_pre_handler_t pre_handler;
	kprobe_post_handler_t post_handler;
${when(fault, '\tkprobe_fault_handler_t fault_handler;\n')}${when(jprobes, '\tkprobe_break_handler_t break_handler;\n')}	kprobe_opcode_t opcode;
	struct arch_specific_insn ainsn;
	u32 flags;
};
#define KPROBE_FLAG_GONE 1
#define KPROBE_FLAG_DISABLED 2
#define KPROBE_FLAG_OPTIMIZED 4
#define KPROBE_FLAG_FTRACE 8
${when(atLeast(c.v, '5.10'), '#define KPROBE_FLAG_ON_FUNC_ENTRY 16')}
struct kretprobe {
	struct kprobe kp;
	kretprobe_handler_t handler;
	kretprobe_handler_t entry_handler;
	int maxactive;
	int nmissed;
	size_t data_size;
};
${
  rethook
    ? `struct rethook_node {
	struct rcu_head rcu;
	struct llist_node llist;
	struct rethook *rethook;
	unsigned long ret_addr;
	unsigned long frame;
};
struct kretprobe_instance {
	struct rethook_node node;
	char data[];
};`
    : `struct kretprobe_instance {
	struct hlist_node hlist;
	struct kretprobe *rp;
	kprobe_opcode_t *ret_addr;
	struct task_struct *task;
	void *fp;
	char data[];
};`
}
int register_kprobe(struct kprobe *p);
void unregister_kprobe(struct kprobe *p);
int register_kretprobe(struct kretprobe *rp);
void unregister_kretprobe(struct kretprobe *rp);
/*
 * The batch calls as kernel/kprobes.c writes them, over the single ones (which the model runs):
 * in order, a failure unregisters the ones before it (R32, R33). The kernel's unregister_kprobes()
 * waits for one grace period for the whole batch; this one waits for one per probe.
 */
static inline void unregister_kprobes(struct kprobe **kps, int num)
{
	int i;

	for (i = 0; i < num; i++)
		unregister_kprobe(kps[i]);
}
static inline int register_kprobes(struct kprobe **kps, int num)
{
	int i, ret = 0;

	if (num <= 0)
		return -EINVAL;
	for (i = 0; i < num; i++) {
		ret = register_kprobe(kps[i]);
		if (ret < 0) {
			if (i > 0)
				unregister_kprobes(kps, i);
			break;
		}
	}
	return ret;
}
static inline void unregister_kretprobes(struct kretprobe **rps, int num)
{
	int i;

	for (i = 0; i < num; i++)
		unregister_kretprobe(rps[i]);
}
static inline int register_kretprobes(struct kretprobe **rps, int num)
{
	int i, ret = 0;

	if (num <= 0)
		return -EINVAL;
	for (i = 0; i < num; i++) {
		ret = register_kretprobe(rps[i]);
		if (ret < 0) {
			if (i > 0)
				unregister_kretprobes(rps, i);
			break;
		}
	}
	return ret;
}
int disable_kprobe(struct kprobe *kp);
int enable_kprobe(struct kprobe *kp);
static inline int disable_kretprobe(struct kretprobe *rp)
{
	return disable_kprobe(&rp->kp);
}
static inline int enable_kretprobe(struct kretprobe *rp)
{
	return enable_kprobe(&rp->kp);
}
static inline bool kprobe_gone(struct kprobe *p)
{
	return p->flags & KPROBE_FLAG_GONE;
}
static inline bool kprobe_disabled(struct kprobe *p)
{
	return p->flags & (KPROBE_FLAG_DISABLED | KPROBE_FLAG_GONE);
}
struct kprobe *get_kprobe(void *addr);
${
  atLeast(c.v, '5.11')
    ? `struct kretprobe *get_kretprobe(struct kretprobe_instance *ri);
static inline unsigned long get_kretprobe_retaddr(struct kretprobe_instance *ri)
{
	return ${rethook ? 'ri->node.ret_addr' : '(unsigned long)ri->ret_addr'};
}`
    : ''
}
${
  jprobes
    ? `struct jprobe {
	struct kprobe kp;
	void *entry;
};
int register_jprobe(struct jprobe *p);
void unregister_jprobe(struct jprobe *p);
void jprobe_return(void);`
    : ''
}
`;
};

const SCHED = (c: Ctx): string => `
#include <linux/types.h>
#define TASK_COMM_LEN 16
#define TASK_RUNNING 0x0000
#define TASK_INTERRUPTIBLE 0x0001
#define TASK_UNINTERRUPTIBLE 0x0002
struct task_struct {
	${atLeast(c.v, '5.14') ? 'unsigned int __state;' : 'volatile long state;'}
	void *stack;
	unsigned int flags;
	int on_cpu;
	int prio;
	pid_t pid;
	pid_t tgid;
	struct task_struct *real_parent;
	struct task_struct *parent;
	char comm[TASK_COMM_LEN];
};
struct task_struct *get_current(void);
#define current get_current()
static inline pid_t task_pid_nr(struct task_struct *tsk)
{
	return tsk->pid;
}
static inline pid_t task_tgid_nr(struct task_struct *tsk)
{
	return tsk->tgid;
}
void schedule(void);
int wake_up_process(struct task_struct *p);
int _cond_resched(void);
#define cond_resched() _cond_resched()
long schedule_timeout(long timeout);
`;

const UACCESS = (c: Ctx): string => `
#include <linux/types.h>
#include <linux/sched.h>
long strncpy_from_user(char *dst, const char __user *src, long count);
long strnlen_user(const char __user *str, long n);
unsigned long copy_from_user(void *to, const void __user *from, unsigned long n);
unsigned long copy_to_user(void __user *to, const void *from, unsigned long n);
${
  atLeast(c.v, '5.0')
    ? 'bool __sim_access_ok(const void __user *addr, unsigned long size);\n#define access_ok(addr, size) __sim_access_ok(addr, size)'
    : '#define VERIFY_READ 0\n#define VERIFY_WRITE 1\nbool __sim_access_ok(const void __user *addr, unsigned long size);\n#define access_ok(type, addr, size) __sim_access_ok(addr, size)'
}
void pagefault_disable(void);
void pagefault_enable(void);
${
  atLeast(c.v, '5.8')
    ? 'long copy_from_kernel_nofault(void *dst, const void *src, size_t size);\nlong copy_from_user_nofault(void *dst, const void __user *src, size_t size);\nlong strncpy_from_user_nofault(char *dst, const void __user *unsafe_addr, long count);'
    : 'long probe_kernel_read(void *dst, const void *src, size_t size);\nlong strncpy_from_unsafe_user(char *dst, const void __user *unsafe_addr, long count);'
}
`;

const SLAB = (): string => `
#include <linux/types.h>
#define ___GFP_HIGH 0x20u
#define ___GFP_IO 0x40u
#define ___GFP_FS 0x80u
#define ___GFP_ZERO 0x100u
#define ___GFP_DIRECT_RECLAIM 0x400u
#define ___GFP_KSWAPD_RECLAIM 0x800u
#define __GFP_HIGH ((gfp_t)___GFP_HIGH)
#define __GFP_IO ((gfp_t)___GFP_IO)
#define __GFP_FS ((gfp_t)___GFP_FS)
#define __GFP_ZERO ((gfp_t)___GFP_ZERO)
#define __GFP_DIRECT_RECLAIM ((gfp_t)___GFP_DIRECT_RECLAIM)
#define __GFP_KSWAPD_RECLAIM ((gfp_t)___GFP_KSWAPD_RECLAIM)
#define __GFP_RECLAIM ((gfp_t)(___GFP_DIRECT_RECLAIM | ___GFP_KSWAPD_RECLAIM))
#define GFP_ATOMIC (__GFP_HIGH | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL (__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_NOWAIT (__GFP_KSWAPD_RECLAIM)
void *kmalloc(size_t size, gfp_t flags);
void *kzalloc(size_t size, gfp_t flags);
void *kcalloc(size_t n, size_t size, gfp_t flags);
void *kmalloc_array(size_t n, size_t size, gfp_t flags);
void *krealloc(const void *p, size_t new_size, gfp_t flags);
void kfree(const void *objp);
size_t ksize(const void *objp);
`;

const SPINLOCK = (): string => `
#include <linux/types.h>
#include <linux/preempt.h>
typedef struct raw_spinlock {
	unsigned int raw_lock;
} raw_spinlock_t;
typedef struct spinlock {
	struct raw_spinlock rlock;
} spinlock_t;
typedef struct {
	int cnts;
} rwlock_t;
#define __RAW_SPIN_LOCK_UNLOCKED(lockname) { 0 }
#define __SPIN_LOCK_UNLOCKED(lockname) { __RAW_SPIN_LOCK_UNLOCKED(lockname) }
#define DEFINE_SPINLOCK(x) spinlock_t x = __SPIN_LOCK_UNLOCKED(x)
#define DEFINE_RAW_SPINLOCK(x) raw_spinlock_t x = __RAW_SPIN_LOCK_UNLOCKED(x)
#define spin_lock_init(_lock) do { (_lock)->rlock.raw_lock = 0; } while (0)
#define raw_spin_lock_init(_lock) do { (_lock)->raw_lock = 0; } while (0)
void _raw_spin_lock(raw_spinlock_t *lock);
void _raw_spin_unlock(raw_spinlock_t *lock);
int _raw_spin_trylock(raw_spinlock_t *lock);
void _raw_spin_lock_irq(raw_spinlock_t *lock);
void _raw_spin_unlock_irq(raw_spinlock_t *lock);
void _raw_spin_lock_bh(raw_spinlock_t *lock);
void _raw_spin_unlock_bh(raw_spinlock_t *lock);
unsigned long _raw_spin_lock_irqsave(raw_spinlock_t *lock);
void _raw_spin_unlock_irqrestore(raw_spinlock_t *lock, unsigned long flags);
#define raw_spin_lock(lock) _raw_spin_lock(lock)
#define raw_spin_unlock(lock) _raw_spin_unlock(lock)
#define raw_spin_lock_irqsave(lock, flags) do { flags = _raw_spin_lock_irqsave(lock); } while (0)
#define raw_spin_unlock_irqrestore(lock, flags) _raw_spin_unlock_irqrestore(lock, flags)
static __always_inline void spin_lock(spinlock_t *lock)
{
	_raw_spin_lock(&lock->rlock);
}
static __always_inline void spin_unlock(spinlock_t *lock)
{
	_raw_spin_unlock(&lock->rlock);
}
static __always_inline int spin_trylock(spinlock_t *lock)
{
	return _raw_spin_trylock(&lock->rlock);
}
static __always_inline void spin_lock_irq(spinlock_t *lock)
{
	_raw_spin_lock_irq(&lock->rlock);
}
static __always_inline void spin_unlock_irq(spinlock_t *lock)
{
	_raw_spin_unlock_irq(&lock->rlock);
}
static __always_inline void spin_lock_bh(spinlock_t *lock)
{
	_raw_spin_lock_bh(&lock->rlock);
}
static __always_inline void spin_unlock_bh(spinlock_t *lock)
{
	_raw_spin_unlock_bh(&lock->rlock);
}
#define spin_lock_irqsave(lock, flags) do { flags = _raw_spin_lock_irqsave(&(lock)->rlock); } while (0)
static __always_inline void spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags)
{
	_raw_spin_unlock_irqrestore(&lock->rlock, flags);
}
`;

const MUTEX = (): string => `
#include <linux/types.h>
struct mutex {
	atomic_long_t owner;
	struct list_head wait_list;
};
#define __MUTEX_INITIALIZER(lockname) { ATOMIC_LONG_INIT(0), { &(lockname).wait_list, &(lockname).wait_list } }
#define DEFINE_MUTEX(mutexname) struct mutex mutexname = __MUTEX_INITIALIZER(mutexname)
#define mutex_init(mutex) do { (mutex)->owner.counter = 0; (mutex)->wait_list.next = &(mutex)->wait_list; (mutex)->wait_list.prev = &(mutex)->wait_list; } while (0)
void mutex_lock(struct mutex *lock);
int mutex_lock_interruptible(struct mutex *lock);
int mutex_trylock(struct mutex *lock);
void mutex_unlock(struct mutex *lock);
bool mutex_is_locked(struct mutex *lock);
`;

const ATOMIC = (): string => `
#include <linux/types.h>
int atomic_read(const atomic_t *v);
void atomic_set(atomic_t *v, int i);
void atomic_add(int i, atomic_t *v);
void atomic_sub(int i, atomic_t *v);
void atomic_inc(atomic_t *v);
void atomic_dec(atomic_t *v);
int atomic_add_return(int i, atomic_t *v);
int atomic_sub_return(int i, atomic_t *v);
int atomic_inc_return(atomic_t *v);
int atomic_dec_return(atomic_t *v);
int atomic_fetch_add(int i, atomic_t *v);
bool atomic_dec_and_test(atomic_t *v);
bool atomic_inc_and_test(atomic_t *v);
int atomic_xchg(atomic_t *v, int new);
int atomic_cmpxchg(atomic_t *v, int old, int new);
s64 atomic64_read(const atomic64_t *v);
void atomic64_set(atomic64_t *v, s64 i);
void atomic64_add(s64 i, atomic64_t *v);
void atomic64_inc(atomic64_t *v);
void atomic64_dec(atomic64_t *v);
s64 atomic64_inc_return(atomic64_t *v);
s64 atomic64_add_return(s64 i, atomic64_t *v);
long atomic_long_read(const atomic_long_t *v);
void atomic_long_set(atomic_long_t *v, long i);
void atomic_long_inc(atomic_long_t *v);
void atomic_long_dec(atomic_long_t *v);
long atomic_long_inc_return(atomic_long_t *v);
`;

const RANDOM = (c: Ctx): string => `
#include <linux/types.h>
u32 get_random_u32(void);
u64 get_random_u64(void);
unsigned long get_random_long(void);
void get_random_bytes(void *buf, size_t len);
${
  atLeast(c.v, '6.2')
    ? `u32 get_random_u32_below(u32 ceil);
static inline u32 get_random_u32_above(u32 floor)
{
	return floor + 1 + get_random_u32_below(U32_MAX - floor);
}
static inline u32 get_random_u32_inclusive(u32 floor, u32 ceil)
{
	return floor + get_random_u32_below(ceil - floor + 1);
}`
    : `u32 prandom_u32(void);
unsigned int get_random_int(void);`
}
`;

const DELAY = (): string => `
#include <linux/types.h>
void msleep(unsigned int msecs);
unsigned long msleep_interruptible(unsigned int msecs);
void ssleep(unsigned int seconds);
void usleep_range(unsigned long min, unsigned long max);
void udelay(unsigned long usecs);
void ndelay(unsigned long nsecs);
void mdelay(unsigned long msecs);
`;

const KTIME = (): string => `
#include <linux/types.h>
#define NSEC_PER_USEC 1000L
#define NSEC_PER_MSEC 1000000L
#define NSEC_PER_SEC 1000000000L
ktime_t ktime_get(void);
u64 ktime_get_ns(void);
u64 ktime_get_boottime_ns(void);
static inline s64 ktime_to_ns(const ktime_t kt)
{
	return kt;
}
static inline s64 ktime_to_us(const ktime_t kt)
{
	return kt / NSEC_PER_USEC;
}
static inline s64 ktime_to_ms(const ktime_t kt)
{
	return kt / NSEC_PER_MSEC;
}
static inline ktime_t ktime_sub(const ktime_t lhs, const ktime_t rhs)
{
	return lhs - rhs;
}
static inline ktime_t ktime_add(const ktime_t lhs, const ktime_t rhs)
{
	return lhs + rhs;
}
static inline s64 ktime_us_delta(const ktime_t later, const ktime_t earlier)
{
	return ktime_to_us(ktime_sub(later, earlier));
}
static inline s64 ktime_ms_delta(const ktime_t later, const ktime_t earlier)
{
	return ktime_to_ms(ktime_sub(later, earlier));
}
extern unsigned long volatile jiffies;
`;

const STACKTRACE = (c: Ctx): string =>
  atLeast(c.v, '5.2')
    ? `
#include <linux/types.h>
#include <linux/ptrace.h>
unsigned int stack_trace_save(unsigned long *store, unsigned int size, unsigned int skipnr);
unsigned int stack_trace_save_regs(struct pt_regs *regs, unsigned long *store, unsigned int size, unsigned int skipnr);
void stack_trace_print(const unsigned long *trace, unsigned int nr_entries, int spaces);
int stack_trace_snprint(char *buf, size_t size, const unsigned long *entries, unsigned int nr_entries, int spaces);
`
    : `
#include <linux/types.h>
#include <linux/ptrace.h>
struct stack_trace {
	unsigned int nr_entries, max_entries;
	unsigned long *entries;
	int skip;
};
void save_stack_trace(struct stack_trace *trace);
void save_stack_trace_regs(struct pt_regs *regs, struct stack_trace *trace);
void print_stack_trace(struct stack_trace *trace, int spaces);
`;

const PREEMPT = (): string => `
#include <linux/types.h>
#define PREEMPT_MASK 0x000000ff
#define SOFTIRQ_MASK 0x0000ff00
#define HARDIRQ_MASK 0x000f0000
#define NMI_MASK 0x00f00000
int preempt_count(void);
void preempt_disable(void);
void preempt_enable(void);
void preempt_enable_no_resched(void);
bool irqs_disabled(void);
unsigned long arch_local_irq_save(void);
void arch_local_irq_restore(unsigned long flags);
void arch_local_irq_disable(void);
void arch_local_irq_enable(void);
#define local_irq_save(flags) do { flags = arch_local_irq_save(); } while (0)
#define local_irq_restore(flags) arch_local_irq_restore(flags)
#define local_irq_disable() arch_local_irq_disable()
#define local_irq_enable() arch_local_irq_enable()
#define hardirq_count() (preempt_count() & HARDIRQ_MASK)
#define softirq_count() (preempt_count() & SOFTIRQ_MASK)
#define irq_count() (preempt_count() & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_MASK))
#define in_irq() (hardirq_count())
#define in_hardirq() (hardirq_count())
#define in_softirq() (softirq_count())
#define in_interrupt() (irq_count())
#define in_nmi() (preempt_count() & NMI_MASK)
#define in_task() (!(preempt_count() & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_MASK)))
#define in_atomic() (preempt_count() != 0)
#define preemptible() (preempt_count() == 0 && !irqs_disabled())
`;

const SMP = (): string => `
#include <linux/types.h>
#include <linux/preempt.h>
int raw_smp_processor_id(void);
#define smp_processor_id() raw_smp_processor_id()
#define get_cpu() ({ preempt_disable(); raw_smp_processor_id(); })
#define put_cpu() preempt_enable()
unsigned int num_online_cpus(void);
`;

const KALLSYMS = (c: Ctx): string => `
#include <linux/types.h>
#define KSYM_NAME_LEN ${atLeast(c.v, '6.1') ? 512 : 128}
#define KSYM_SYMBOL_LEN (sizeof("%s+%#lx/%#lx [%s %s]") + KSYM_NAME_LEN + 2 * (64 * 3 / 10) + 56 + 1)
unsigned long kallsyms_lookup_name(const char *name);
int sprint_symbol(char *buffer, unsigned long address);
int sprint_symbol_no_offset(char *buffer, unsigned long address);
`;

const ERR = (): string => `
#include <linux/types.h>
#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) ((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error)
{
	return (void *)error;
}
static inline long PTR_ERR(const void *ptr)
{
	return (long)ptr;
}
static inline bool IS_ERR(const void *ptr)
{
	return IS_ERR_VALUE((unsigned long)ptr);
}
static inline bool IS_ERR_OR_NULL(const void *ptr)
{
	return !ptr || IS_ERR_VALUE((unsigned long)ptr);
}
`;

const VERSION = (c: Ctx): string => {
  const [a, b] = c.v.split('.').map(Number) as [number, number];
  return `
#define LINUX_VERSION_CODE ${(a << 16) + (b << 8)}
#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))
#define LINUX_VERSION_MAJOR ${a}
#define LINUX_VERSION_PATCHLEVEL ${b}
#define LINUX_VERSION_SUBLEVEL 0
`;
};

const KUNIT = (): string => `
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/err.h>
struct kunit {
	void *priv;
	const char *name;
	char *log;
	int status;
};
struct kunit_case {
	void (*run_case)(struct kunit *test);
	const char *name;
	const void *(*generate_params)(const void *prev, char *desc);
	int status;
	char *module_name;
	char *log;
};
struct kunit_suite {
	const char name[256];
	int (*suite_init)(struct kunit_suite *suite);
	void (*suite_exit)(struct kunit_suite *suite);
	int (*init)(struct kunit *test);
	void (*exit)(struct kunit *test);
	struct kunit_case *test_cases;
	int status;
	char *log;
};
#define KUNIT_CASE(test_name) { .run_case = test_name, .name = #test_name, .module_name = KBUILD_MODNAME }
#define kunit_test_suites(__suites...) static struct kunit_suite *__UNIQUE_ID(array)[] __used __section(".kunit_test_suites") = { __suites }
#define kunit_test_suite(suite) kunit_test_suites(&suite)
#define kunit_test_init_section_suites(__suites...) kunit_test_suites(__suites)
#define KUNIT_EXPECTATION 0
#define KUNIT_ASSERTION 1
void __sim_kunit_binary(struct kunit *test, int kind, const char *op, ...);
void __sim_kunit_bool(struct kunit *test, int kind, int expect, ...);
void __sim_kunit_ptr(struct kunit *test, int kind, const char *check, ...);
void __sim_kunit_str(struct kunit *test, int kind, const char *op, ...);
void __sim_kunit_fail(struct kunit *test, int kind, const char *file, int line, ...);
void __sim_kunit_log(struct kunit *test, const char *level, const char *fmt, ...);
void __sim_kunit_skip(struct kunit *test, int abort, const char *fmt, ...);
void *kunit_kmalloc(struct kunit *test, size_t size, gfp_t gfp);
void *kunit_kzalloc(struct kunit *test, size_t size, gfp_t gfp);
#define KUNIT_BINARY(test, kind, op, left, right, fmt...) __sim_kunit_binary(test, kind, op, left, right, #left, #right, __FILE__, __LINE__, ##fmt)
#define KUNIT_EXPECT_EQ(test, left, right) KUNIT_BINARY(test, KUNIT_EXPECTATION, "==", left, right)
#define KUNIT_EXPECT_NE(test, left, right) KUNIT_BINARY(test, KUNIT_EXPECTATION, "!=", left, right)
#define KUNIT_EXPECT_LT(test, left, right) KUNIT_BINARY(test, KUNIT_EXPECTATION, "<", left, right)
#define KUNIT_EXPECT_LE(test, left, right) KUNIT_BINARY(test, KUNIT_EXPECTATION, "<=", left, right)
#define KUNIT_EXPECT_GT(test, left, right) KUNIT_BINARY(test, KUNIT_EXPECTATION, ">", left, right)
#define KUNIT_EXPECT_GE(test, left, right) KUNIT_BINARY(test, KUNIT_EXPECTATION, ">=", left, right)
#define KUNIT_EXPECT_PTR_EQ(test, left, right) KUNIT_BINARY(test, KUNIT_EXPECTATION, "==", left, right)
#define KUNIT_EXPECT_PTR_NE(test, left, right) KUNIT_BINARY(test, KUNIT_EXPECTATION, "!=", left, right)
#define KUNIT_EXPECT_EQ_MSG(test, left, right, fmt, ...) KUNIT_BINARY(test, KUNIT_EXPECTATION, "==", left, right, fmt, ##__VA_ARGS__)
#define KUNIT_EXPECT_NE_MSG(test, left, right, fmt, ...) KUNIT_BINARY(test, KUNIT_EXPECTATION, "!=", left, right, fmt, ##__VA_ARGS__)
#define KUNIT_ASSERT_EQ(test, left, right) KUNIT_BINARY(test, KUNIT_ASSERTION, "==", left, right)
#define KUNIT_ASSERT_NE(test, left, right) KUNIT_BINARY(test, KUNIT_ASSERTION, "!=", left, right)
#define KUNIT_ASSERT_LT(test, left, right) KUNIT_BINARY(test, KUNIT_ASSERTION, "<", left, right)
#define KUNIT_ASSERT_LE(test, left, right) KUNIT_BINARY(test, KUNIT_ASSERTION, "<=", left, right)
#define KUNIT_ASSERT_GT(test, left, right) KUNIT_BINARY(test, KUNIT_ASSERTION, ">", left, right)
#define KUNIT_ASSERT_GE(test, left, right) KUNIT_BINARY(test, KUNIT_ASSERTION, ">=", left, right)
#define KUNIT_ASSERT_PTR_EQ(test, left, right) KUNIT_BINARY(test, KUNIT_ASSERTION, "==", left, right)
#define KUNIT_ASSERT_PTR_NE(test, left, right) KUNIT_BINARY(test, KUNIT_ASSERTION, "!=", left, right)
#define KUNIT_ASSERT_EQ_MSG(test, left, right, fmt, ...) KUNIT_BINARY(test, KUNIT_ASSERTION, "==", left, right, fmt, ##__VA_ARGS__)
#define KUNIT_ASSERT_NE_MSG(test, left, right, fmt, ...) KUNIT_BINARY(test, KUNIT_ASSERTION, "!=", left, right, fmt, ##__VA_ARGS__)
#define KUNIT_EXPECT_TRUE(test, condition) __sim_kunit_bool(test, KUNIT_EXPECTATION, 1, condition, #condition, __FILE__, __LINE__)
#define KUNIT_EXPECT_FALSE(test, condition) __sim_kunit_bool(test, KUNIT_EXPECTATION, 0, condition, #condition, __FILE__, __LINE__)
#define KUNIT_ASSERT_TRUE(test, condition) __sim_kunit_bool(test, KUNIT_ASSERTION, 1, condition, #condition, __FILE__, __LINE__)
#define KUNIT_ASSERT_FALSE(test, condition) __sim_kunit_bool(test, KUNIT_ASSERTION, 0, condition, #condition, __FILE__, __LINE__)
#define KUNIT_EXPECT_TRUE_MSG(test, condition, fmt, ...) __sim_kunit_bool(test, KUNIT_EXPECTATION, 1, condition, #condition, __FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define KUNIT_EXPECT_FALSE_MSG(test, condition, fmt, ...) __sim_kunit_bool(test, KUNIT_EXPECTATION, 0, condition, #condition, __FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define KUNIT_EXPECT_NULL(test, ptr) __sim_kunit_ptr(test, KUNIT_EXPECTATION, "null", ptr, #ptr, __FILE__, __LINE__)
#define KUNIT_EXPECT_NOT_NULL(test, ptr) __sim_kunit_ptr(test, KUNIT_EXPECTATION, "not_null", ptr, #ptr, __FILE__, __LINE__)
#define KUNIT_EXPECT_NOT_ERR_OR_NULL(test, ptr) __sim_kunit_ptr(test, KUNIT_EXPECTATION, "not_err_or_null", ptr, #ptr, __FILE__, __LINE__)
#define KUNIT_ASSERT_NULL(test, ptr) __sim_kunit_ptr(test, KUNIT_ASSERTION, "null", ptr, #ptr, __FILE__, __LINE__)
#define KUNIT_ASSERT_NOT_NULL(test, ptr) __sim_kunit_ptr(test, KUNIT_ASSERTION, "not_null", ptr, #ptr, __FILE__, __LINE__)
#define KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ptr) __sim_kunit_ptr(test, KUNIT_ASSERTION, "not_err_or_null", ptr, #ptr, __FILE__, __LINE__)
#define KUNIT_EXPECT_STREQ(test, left, right) __sim_kunit_str(test, KUNIT_EXPECTATION, "==", left, right, #left, #right, __FILE__, __LINE__)
#define KUNIT_EXPECT_STRNEQ(test, left, right) __sim_kunit_str(test, KUNIT_EXPECTATION, "!=", left, right, #left, #right, __FILE__, __LINE__)
#define KUNIT_ASSERT_STREQ(test, left, right) __sim_kunit_str(test, KUNIT_ASSERTION, "==", left, right, #left, #right, __FILE__, __LINE__)
#define KUNIT_ASSERT_STRNEQ(test, left, right) __sim_kunit_str(test, KUNIT_ASSERTION, "!=", left, right, #left, #right, __FILE__, __LINE__)
#define KUNIT_FAIL(test, fmt, ...) __sim_kunit_fail(test, KUNIT_EXPECTATION, __FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define KUNIT_SUCCEED(test) do { } while (0)
#define kunit_info(test, fmt, ...) __sim_kunit_log(test, KERN_INFO, fmt, ##__VA_ARGS__)
#define kunit_warn(test, fmt, ...) __sim_kunit_log(test, KERN_WARNING, fmt, ##__VA_ARGS__)
#define kunit_err(test, fmt, ...) __sim_kunit_log(test, KERN_ERR, fmt, ##__VA_ARGS__)
#define kunit_skip(test, fmt, ...) __sim_kunit_skip(test, 1, fmt, ##__VA_ARGS__)
#define kunit_mark_skipped(test, fmt, ...) __sim_kunit_skip(test, 0, fmt, ##__VA_ARGS__)
`;

type Maker = (c: Ctx) => string;

/** Every header the model has, by the name a module includes it with. */
const HEADERS: ReadonlyMap<string, Maker> = new Map<string, Maker>([
  ['linux/compiler.h', COMPILER],
  ['linux/compiler_types.h', () => '#include <linux/compiler.h>\n'],
  ['linux/types.h', TYPES],
  ['linux/limits.h', () => '#include <linux/types.h>\n' + LIMITS()],
  ['linux/printk.h', PRINTK],
  ['linux/bug.h', BUG],
  ['linux/kernel.h', KERNEL],
  ['linux/string.h', STRING],
  ['linux/errno.h', ERRNO],
  ['linux/init.h', INIT],
  ['linux/moduleparam.h', MODULEPARAM],
  ['linux/module.h', MODULE],
  ['linux/export.h', EXPORT],
  ['linux/ptrace.h', PTRACE],
  ['asm/ptrace.h', () => '#include <linux/ptrace.h>\n'],
  ['linux/kprobes.h', KPROBES],
  ['linux/sched.h', SCHED],
  ['linux/uaccess.h', UACCESS],
  ['asm/uaccess.h', () => '#include <linux/uaccess.h>\n'],
  ['linux/slab.h', SLAB],
  ['linux/gfp.h', () => '#include <linux/slab.h>\n'],
  ['linux/spinlock.h', SPINLOCK],
  ['linux/mutex.h', MUTEX],
  ['linux/atomic.h', ATOMIC],
  ['linux/random.h', RANDOM],
  ['linux/delay.h', DELAY],
  ['linux/ktime.h', KTIME],
  ['linux/timekeeping.h', () => '#include <linux/ktime.h>\n'],
  ['linux/jiffies.h', () => '#include <linux/ktime.h>\n'],
  ['linux/stacktrace.h', STACKTRACE],
  ['linux/preempt.h', PREEMPT],
  ['linux/hardirq.h', () => '#include <linux/preempt.h>\n'],
  ['linux/interrupt.h', () => '#include <linux/preempt.h>\n'],
  ['linux/irqflags.h', () => '#include <linux/preempt.h>\n'],
  ['linux/smp.h', SMP],
  ['linux/cpumask.h', () => '#include <linux/smp.h>\n'],
  ['linux/kallsyms.h', KALLSYMS],
  ['linux/err.h', ERR],
  ['linux/version.h', VERSION],
  ['kunit/test.h', KUNIT],
  // Headers a module commonly includes whose parts the model has elsewhere: they bring in the basics.
  ...[
    'linux/fs.h', 'linux/file.h', 'linux/fcntl.h', 'linux/list.h', 'linux/stddef.h', 'linux/stat.h', 'linux/time.h',
    'linux/sched/signal.h', 'linux/cred.h', 'linux/uio.h', 'linux/ftrace.h', 'linux/syscalls.h', 'linux/proc_fs.h',
    'linux/seq_file.h', 'linux/percpu.h', 'linux/rcupdate.h', 'linux/wait.h', 'linux/kthread.h', 'linux/workqueue.h',
    'linux/timer.h', 'linux/ctype.h', 'linux/bitops.h', 'linux/kconfig.h', 'linux/stringify.h',
  ].map((h): [string, Maker] => [h, () => '#include <linux/kernel.h>\n#include <linux/sched.h>\n']),
]);

/** The text of kernel header `name` for `arch` and `kernel`, or undefined when the model has no such header. */
export function kernelHeader(name: string, arch: CArch, kernel: KernelVersion): string | undefined {
  const make = HEADERS.get(name);
  return make ? make({ arch, v: kernel }) : undefined;
}

/** The names of the headers the model has (for documentation and tests). */
export const KNOWN_HEADERS: readonly string[] = [...HEADERS.keys()];
