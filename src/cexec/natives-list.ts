// The kernel functions a module's C code may call that the model runs natively (src/cexec/natives.ts
// implements each). Kept apart so that loading a module can refuse the others, naming the call,
// without pulling in the executor.

export const NATIVE_NAMES: readonly string[] = [
  // printk and the kernel log
  'printk', '_printk', 'dump_stack', '__sim_warn', '__sim_bug', 'printk_ratelimit',
  // kprobes
  'register_kprobe', 'unregister_kprobe', 'register_kretprobe', 'unregister_kretprobe', 'enable_kprobe', 'disable_kprobe',
  // the running context
  'get_current', 'raw_smp_processor_id', 'preempt_count', 'preempt_disable', 'preempt_enable', 'preempt_enable_no_resched',
  'irqs_disabled', 'num_online_cpus', 'arch_local_irq_save', 'arch_local_irq_restore', 'arch_local_irq_disable', 'arch_local_irq_enable',
  '_cond_resched', 'schedule',
  // user memory
  'strncpy_from_user', 'copy_from_user', 'copy_to_user', 'strnlen_user', '__sim_access_ok', 'pagefault_disable', 'pagefault_enable',
  'copy_from_kernel_nofault', 'copy_from_user_nofault', 'strncpy_from_user_nofault', 'probe_kernel_read', 'strncpy_from_unsafe_user',
  // memory
  'kmalloc', 'kzalloc', 'kcalloc', 'kmalloc_array', 'kfree', 'ksize',
  // strings
  'strlen', 'strnlen', 'strcmp', 'strncmp', 'strcpy', 'strncpy', 'strscpy', 'strlcpy', 'strcat', 'strchr', 'strrchr', 'strstr',
  'memcpy', 'memmove', 'memset', 'memcmp', 'sprintf', 'snprintf', 'scnprintf', 'kstrtoint', 'kstrtouint', 'kstrtol', 'kstrtoul', 'kstrtou64',
  // atomics
  'atomic_read', 'atomic_set', 'atomic_add', 'atomic_sub', 'atomic_inc', 'atomic_dec', 'atomic_add_return', 'atomic_sub_return',
  'atomic_inc_return', 'atomic_dec_return', 'atomic_fetch_add', 'atomic_dec_and_test', 'atomic_inc_and_test', 'atomic_xchg', 'atomic_cmpxchg',
  'atomic64_read', 'atomic64_set', 'atomic64_add', 'atomic64_inc', 'atomic64_dec', 'atomic64_inc_return', 'atomic64_add_return',
  'atomic_long_read', 'atomic_long_set', 'atomic_long_inc', 'atomic_long_dec', 'atomic_long_inc_return',
  // locks
  '_raw_spin_lock', '_raw_spin_unlock', '_raw_spin_trylock', '_raw_spin_lock_irq', '_raw_spin_unlock_irq', '_raw_spin_lock_bh',
  '_raw_spin_unlock_bh', '_raw_spin_lock_irqsave', '_raw_spin_unlock_irqrestore',
  // time, sleeping, randomness
  'msleep', 'msleep_interruptible', 'ssleep', 'usleep_range', 'udelay', 'ndelay', 'mdelay', 'ktime_get', 'ktime_get_ns', 'ktime_get_boottime_ns',
  'get_random_u32', 'get_random_u64', 'get_random_long', 'get_random_u32_below', 'prandom_u32', 'get_random_int',
  // stack traces
  'stack_trace_save', 'stack_trace_save_regs', 'stack_trace_print',
  // modules
  'try_module_get', 'module_put',
  // KUnit (src/cexec/kunit.ts): kunit_info/warn/err, kunit_skip/mark_skipped, test-managed memory
  '__sim_kunit_log', '__sim_kunit_skip', 'kunit_kmalloc', 'kunit_kzalloc',
];

const NATIVE = new Set(NATIVE_NAMES);

export function isNative(name: string): boolean {
  return NATIVE.has(name);
}
