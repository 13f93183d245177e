// The built-in kernel images: the same few dozen real kernel functions on each architecture,
// laid out by its instruction set, with the names that differ between architectures (trap and
// entry code) and between releases (renames). The x86_64 list is the original; arm64 follows it
// in the same order, then adds the system-call wrappers and entry frames its stack traces show.

import { ARM64_ISA } from './arm64.ts';
import { ImageBuilder, type Isa } from './builder.ts';
import type { Arch, BuildConfig, KernelImage } from './image.ts';
import { atLeast, DEFAULT_KERNEL, type KernelVersion } from './releases.ts';
import { X86_64_ISA } from './x86_64.ts';

/** The one-instruction `ret` an overridden function returns through (R46 with a changed IP). */
export const JUST_RETURN_FUNC = 'just_return_func';

export const ISAS: Readonly<Record<Arch, Isa>> = { x86_64: X86_64_ISA, arm64: ARM64_ISA };

/**
 * What runs when a kretprobed function returns into the trampoline, innermost first: the C
 * function that calls the return handlers, its callers, and the asm trampoline the hooked return
 * address pointed at (R75). With rethook (x86 since v5.19; arm64 too by v6.17): arch_rethook_trampoline
 * calls arch_rethook_trampoline_callback → rethook_trampoline_handler → kretprobe_rethook_handler.
 * Before, kretprobe_trampoline called the arch's trampoline_handler (arm64:
 * trampoline_probe_handler), which since v5.10 walks the instances in the generic
 * __kretprobe_trampoline_handler. All of it is NOKPROBE_SYMBOL'd.
 */
export function kretprobeTrampolineChain(arch: Arch, version: KernelVersion): readonly string[] {
  // Of the modelled releases (4.14, 5.10, 6.17) only 6.17 has rethook, on both arches.
  if (atLeast(version, '6.0')) return ['kretprobe_rethook_handler', 'rethook_trampoline_handler', 'arch_rethook_trampoline_callback', 'arch_rethook_trampoline'];
  const handler = arch === 'x86_64' ? 'trampoline_handler' : 'trampoline_probe_handler';
  return [...(atLeast(version, '5.10') ? ['__kretprobe_trampoline_handler'] : []), handler, 'kretprobe_trampoline'];
}

/** The arm64 entry frames below a system call's function, innermost first, per release. */
function arm64EntryChain(version: KernelVersion): string[] {
  if (atLeast(version, '6.0')) return ['invoke_syscall', 'el0_svc_common.constprop.0', 'do_el0_svc', 'el0_svc', 'el0t_64_sync_handler', 'el0t_64_sync'];
  return ['el0_svc_common.constprop.0', 'do_el0_svc', 'el0_svc', 'el0_sync_handler', 'el0_sync'];
}

function buildImage(arch: Arch, version: KernelVersion, config: BuildConfig): KernelImage {
  const b = new ImageBuilder(ISAS[arch], { config });
  const x86 = arch === 'x86_64';
  const text = (name: string, calls: readonly string[] = [], ret: number | 'pid' = 0): void => {
    b.func({ name, calls, ret });
  };
  // printk became a macro around _printk in v5.15.
  const printk = atLeast(version, '5.15') ? '_printk' : 'printk';
  // Process creation: `_do_fork` was renamed `kernel_clone` in v5.10.
  const fork = atLeast(version, '5.10') ? 'kernel_clone' : '_do_fork';

  text(fork, ['copy_process', 'wake_up_new_task'], 'pid');
  b.func({ name: 'copy_process', calls: ['dup_task_struct'], effect: 'fork' });
  text('dup_task_struct');
  text('wake_up_new_task');

  // open(2) and read(2) paths; do_sys_openat2 came with openat2(2) in v5.6.
  if (atLeast(version, '5.6')) {
    text('do_sys_open', ['do_sys_openat2'], 3);
    text('do_sys_openat2', ['getname', 'do_filp_open'], 3);
  } else {
    text('do_sys_open', ['getname', 'do_filp_open'], 3);
  }
  text('getname');
  text('do_filp_open', ['vfs_open']);
  text('vfs_open');
  text('ksys_read', ['vfs_read']);
  text('vfs_read', ['rw_verify_area']);
  text('rw_verify_area');

  text('vfs_symlink');
  text('dput');
  text('kfree');

  text(printk, ['vprintk']);
  text('vprintk', ['vprintk_emit']);
  text('vprintk_emit');
  text('dump_stack', [printk]);

  text('schedule', ['__schedule']);
  text('__schedule', ['__switch_to']);
  text('__switch_to');

  // do_exit never returns: the CPU ends the task when it reaches the ret.
  b.func({ name: 'do_exit', calls: ['exit_mm'], effect: 'exit' });
  text('exit_mm');

  text('inet_csk_accept');
  text('tracefs_create_dir');
  text('notifier_call_chain');

  // Since v5.8 x86's page-fault entry is exc_page_fault, noinstr (R28.3); the older
  // do_page_fault was NOKPROBE_SYMBOL'd instead (R28.2), as arm64's still is.
  if (x86 && atLeast(version, '5.8')) b.func({ name: 'exc_page_fault', section: 'noinstr', calls: ['handle_mm_fault'] });
  else b.func({ name: 'do_page_fault', nokprobe: true, calls: ['handle_mm_fault'] });
  text('handle_mm_fault');

  // kprobes' own machinery, which must never be probed (R28.1, R28.2), and the entry code
  // (R28.3, R28.4).
  b.func({ name: 'get_kprobe', nokprobe: true });
  b.func({ name: x86 ? 'kprobe_int3_handler' : 'kprobe_breakpoint_handler', nokprobe: true });
  b.func({ name: 'arch_arm_kprobe', section: 'kprobes.text' });
  // Where a kretprobed function returns to (R75, R79); never probeable.
  b.func({ name: 'kretprobe_trampoline', section: 'kprobes.text' });
  b.func({ name: 'kprobe_ftrace_handler', nokprobe: true });
  if (x86) {
    b.func({ name: atLeast(version, '5.8') ? 'asm_exc_int3' : 'int3', section: 'entry.text' });
    b.func({ name: 'entry_SYSCALL_64', section: 'entry.text' });
    b.func({ name: 'do_int3', section: 'noinstr' });
  } else {
    // (el0_svc, the system-call entry, comes with the other entry frames at the end.)
    b.func({ name: 'el1_dbg', section: 'entry.text' });
    b.func({ name: 'do_debug_exception', section: 'noinstr' });
  }

  text('rcu_read_lock_held');
  text('synchronize_rcu');
  text('mutex_lock');
  text('fput');

  // Targets the kernel's ftrace kprobe selftests like to use.
  text('vfs_write');
  text('ksys_write', ['vfs_write']);
  text('kernel_read');
  text('security_inode_getattr');
  text('do_execve');
  // arch/*/lib/error-inject.c (v4.16+, CONFIG_FUNCTION_ERROR_INJECTION): where
  // override_function_with_return() points regs->ip. Last of the x86_64 list, so no address moved.
  if (atLeast(version, '4.16')) b.func({ name: JUST_RETURN_FUNC, bare: true });

  let entryChain: string[] = ['entry_SYSCALL_64'];
  if (!x86) {
    // The arm64 system-call wrappers and entry frames the seeds' stack traces show.
    const wrappers = ['__arm64_sys_clone', '__arm64_sys_openat', '__arm64_sys_read'];
    text('__arm64_sys_clone', [fork], 'pid');
    text('__arm64_sys_openat', ['do_sys_open'], 3);
    text('__arm64_sys_read', ['ksys_read']);
    entryChain = arm64EntryChain(version);
    // The innermost entry frame calls the wrappers; the others call the frame inside them.
    entryChain.forEach((name, i) => b.func({ name, section: i === 0 ? 'text' : 'entry.text', calls: i === 0 ? wrappers : [entryChain[i - 1]!] }));
  }

  // The local timer interrupt, last so that no address above moved: the entry stub and its
  // handler (interrupt entry code, never probeable), then the tick code, which is.
  const timerEntry = x86 ? 'asm_sysvec_apic_timer_interrupt' : 'el1h_64_irq';
  b.func({ name: timerEntry, section: 'entry.text', calls: [x86 ? 'sysvec_apic_timer_interrupt' : 'gic_handle_irq'] });
  b.func({ name: x86 ? 'sysvec_apic_timer_interrupt' : 'gic_handle_irq', section: 'noinstr', calls: ['hrtimer_interrupt'] });
  text('hrtimer_interrupt', ['tick_sched_timer']);
  text('tick_sched_timer', ['update_process_times']);
  text('update_process_times', ['account_process_tick', 'scheduler_tick']);
  text('account_process_tick');
  text('scheduler_tick');

  // x86_64 system calls: since v4.17 the entry code calls __x64_sys_* wrappers (which take the
  // user pt_regs); before, sys_* itself. Last of the text, so that no address above moved.
  if (x86) {
    const prefix = atLeast(version, '4.17') ? '__x64_sys_' : 'sys_';
    text(`${prefix}openat`, ['do_sys_open'], 3);
    text(`${prefix}read`, ['ksys_read']);
  }

  // The kretprobe trampoline's handler chain (kretprobe_trampoline itself is above), after all
  // other text so that no address moved; each calls the one inside it.
  const chain = kretprobeTrampolineChain(arch, version).filter((name) => name !== 'kretprobe_trampoline');
  chain.forEach((name, i) => b.func({ name, nokprobe: true, calls: i === 0 ? [] : [chain[i - 1]!] }));

  b.data('linux_proc_banner', 0x60);
  b.data('_sdata', 8);
  b.data('jiffies', 8);
  b.data('init_task', 0x2000);
  return b.build({ entryChain, timerEntry });
}

const IMAGES = new Map<string, KernelImage>();

/** A cache key for a build: `x86_64/6.17+ftrace+ibt`. */
export function buildKey(version: KernelVersion, arch: Arch, config: BuildConfig): string {
  return `${arch}/${version}${config.ftrace ? '+ftrace' : ''}${config.ibt ? '+ibt' : ''}`;
}

/** The built-in image of a kernel release on an architecture, built with `config`. */
export function kernelImage(version: KernelVersion, arch: Arch = 'x86_64', config: BuildConfig = {}): KernelImage {
  const key = buildKey(version, arch, config);
  let image = IMAGES.get(key);
  // Only the options that change the layout go into the image.
  const layout: BuildConfig = { ...(config.ftrace ? { ftrace: true } : {}), ...(config.ibt ? { ibt: true } : {}) };
  if (image === undefined) IMAGES.set(key, (image = deepFreeze(buildImage(arch, version, layout))));
  return image;
}

/**
 * Freezes an image all the way down (symbols, bodies, instructions and their ops): images are
 * built once per process and shared by every run, so nothing may change one.
 */
export function deepFreeze<T>(value: T, seen: Set<object> = new Set()): T {
  if (typeof value !== 'object' || value === null || seen.has(value)) return value;
  seen.add(value);
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v, seen);
  return value;
}

/** The built-in x86_64 image of a kernel release. */
export function x86_64Image(version: KernelVersion): KernelImage {
  return kernelImage(version, 'x86_64');
}

/** The image of the reference kernel, which every scenario boots unless it names another. */
export const X86_64_IMAGE: KernelImage = x86_64Image(DEFAULT_KERNEL);
