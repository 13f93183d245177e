import type { Arch, BuildConfig } from '../kernel/image.ts';
import type { KernelVersion } from '../kernel/releases.ts';

// A scenario is plain JSON data: what a user writes in a file and what a log header carries.
// Nothing in it is code; handlers are sequences of declarative steps (design.md, "Handlers").

/** One step of a kprobe handler. Each step is one or more scheduler steps of its CPU. */
export type HandlerStep =
  /**
   * printk through `_printk` (so a probe on printk sees the call). Placeholders: see
   * src/kprobes/printk-format.ts. With `arch` the step is built only for that architecture, as
   * the `#ifdef CONFIG_X86` / `#ifdef CONFIG_ARM64` branches of kprobe_example.c are.
   */
  | { readonly do: 'print'; readonly text: string; readonly arch?: Arch }
  /** Call a kernel function of the image; it runs instruction by instruction. */
  | { readonly do: 'call'; readonly fn: string }
  /** An entry_handler's return value: non-zero gives the kretprobe instance back, no hook (R73). */
  | { readonly do: 'return'; readonly value: number }
  /**
   * override_function_with_return() after setting the return value, as fail_function and
   * bpf_override_return do: the pre-handler returns non-zero with IP at just_return_func, so the
   * probed function does not run and its caller gets `value` (R46). Last step of a pre-handler
   * of a probe on a function's entry; kernel 4.16 and later.
   */
  | { readonly do: 'override_return'; readonly value: number }
  /**
   * regs->ip = the entry of `fn`, and the pre-handler returns non-zero (R46): the call goes on in
   * `fn`, which returns to the original caller, as a livepatch-style redirection does. Last step
   * of a pre-handler of a probe on a function's entry, where the stack is the call's own.
   */
  | { readonly do: 'jump'; readonly fn: string }
  /**
   * Write a register of the probed context (pt_regs), as `regs->di = value` in C: the later
   * handlers of the same hit read it back (`{reg:di}` in a print). Not the IP or the stack
   * pointer (use `jump` or `override_return`), not the return value (use `set_retval`).
   */
  | { readonly do: 'set_reg'; readonly reg: string; readonly value: number }
  /** A kretprobe return handler's regs_set_return_value(): the caller gets `value` instead. */
  | { readonly do: 'set_retval'; readonly value: number }
  /**
   * A kretprobe handler writes its instance's `data[]` (R77): a number, or `now` (the logical
   * time, as kretprobe_example.c stores ktime_get() in its entry handler). Read with `{data}`,
   * or `{elapsed}` (now minus data, in ns).
   */
  | { readonly do: 'set_data'; readonly value: number | 'now' }
  /**
   * Touch a bad address. With `fixup` the access has an exception-table fixup (as
   * copy_from_kernel_nofault has) and the handler goes on; without, the kernel oopses unless a
   * pre-5.14 fault_handler says it handled the fault (R58).
   */
  | { readonly do: 'fault'; readonly fixup?: boolean }
  /**
   * A library user's TypeScript handler (`SimulationOptions.callbacks[name]`): called with a
   * read-only view of the handler context, it returns the declarative steps to run in its place.
   * The returned steps are logged (`handler.callback`), so the fold and replay never call code.
   */
  | { readonly do: 'callback'; readonly name: string }
  /** Busy-wait for N steps (other CPUs go on meanwhile). */
  | { readonly do: 'spin'; readonly steps: number }
  /** Something that may sleep: a "BUG: scheduling while atomic" in a handler (R61). */
  | { readonly do: 'sleep' }
  /** dump_stack(): the call trace goes to the kernel log. */
  | { readonly do: 'dump_stack' };

export interface ProbeSpec {
  /** The name of this `struct kprobe` in the scenario (a C variable name in the kernel's samples). */
  readonly name: string;
  readonly symbol?: string;
  readonly offset?: number;
  /** An absolute address instead of a symbol: "0xffffffff81000000". */
  readonly addr?: string;
  readonly pre?: readonly HandlerStep[];
  readonly post?: readonly HandlerStep[];
  /** Register with KPROBE_FLAG_DISABLED: in the table, not armed, until enable_kprobe (R29). */
  readonly disabled?: boolean;
  /**
   * A kretprobe (spec §9): `entry` and `handler` instead of `pre` and `post`. A jprobe (kernel
   * 4.14 only, R82): `handler` is the function execution is diverted into at the probed
   * function's entry; it ends with jprobe_return(), then the probed function runs.
   */
  readonly kind?: 'kprobe' | 'kretprobe' | 'jprobe';
  /** Instances in the pool; 0 or absent: max(10, 2 × CPUs) (R71). */
  readonly maxactive?: number;
  /** The kretprobe's entry_handler. */
  readonly entry?: readonly HandlerStep[];
  /** The kretprobe's return handler; `{retval}` prints the call's own return value (R76). */
  readonly handler?: readonly HandlerStep[];
  /**
   * `fault_handler` (kernels before 5.14, R58): what it prints, and whether it reports the fault
   * handled (a non-zero return).
   */
  readonly fault_handler?: { readonly print?: string; readonly handled: boolean };
}

/** What a task does, in order. After the last operation the task calls do_exit. */
export type TaskOp =
  | {
      readonly op: 'call';
      readonly fn: string;
      readonly times?: number;
      /**
       * In each call, the instruction at byte offset `at` of `fn` faults the first time it runs
       * (a page not present, say), and the kernel's fault path ends as `outcome` says: the page
       * gets mapped and the instruction runs again, an exception-table fixup resumes after it, or
       * an oops. Single-stepped by a kprobe, this is spec R57.
       */
      readonly fault?: { readonly at: number; readonly outcome: 'resolved' | 'fixup' | 'oops' };
      /**
       * Internal, never in a scenario file: a compiled `fork`. The call is kernel_clone, and the
       * child it makes runs program `prog` of the setup under the name `comm`.
       */
      readonly exec?: { readonly comm: string; readonly prog: number };
      /**
       * A system call's filename (an `openat`'s path): a string in the task's user memory, which
       * the call's functions get a pointer to in their filename argument register (src/cexec).
       */
      readonly path?: string;
      /**
       * Arguments of a module function written in C, in its parameters (as the arch's argument
       * registers carry them): integers, decimal or "0x" hex (a pointer is its address).
       */
      readonly args?: readonly string[];
    }
  /**
   * fork() and exec in the child: the task calls kernel_clone; the child (a new pid) runs
   * `program` under the name `comm` and then exits, while the parent goes on at once.
   */
  | { readonly op: 'fork'; readonly comm: string; readonly program: readonly TaskOp[] }
  | { readonly op: 'printk'; readonly text: string }
  | { readonly op: 'register_kprobe'; readonly probe: string }
  | { readonly op: 'unregister_kprobe'; readonly probe: string }
  /**
   * The caller writes its own struct kprobe: `p->addr = NULL` and/or `p->flags = 0`, as
   * lib/test_kprobes.c does before reusing a probe (R22: register_kprobe writes the resolved
   * address into the struct, and unregistering leaves DISABLED set). Default: both.
   */
  | { readonly op: 'clear_kprobe'; readonly probe: string; readonly fields?: readonly ('addr' | 'flags')[] }
  /** register_kprobes(kps, num): in order; a failure rolls back the earlier ones (R32, R33). */
  | { readonly op: 'register_kprobes'; readonly probes: readonly string[] }
  /** unregister_kprobes(kps, num): phase 1 for each, then one grace period (R63, R65). */
  | { readonly op: 'unregister_kprobes'; readonly probes: readonly string[] }
  | { readonly op: 'enable_kprobe'; readonly probe: string }
  | { readonly op: 'disable_kprobe'; readonly probe: string }
  /** Load a module of `scenario.modules`: its text appears, its init text is freed (R96). */
  | { readonly op: 'insmod'; readonly module: string }
  /**
   * Internal, never in a scenario file: what an `insmod` compiles to after the module's init
   * function (do_init_module(): the module goes LIVE, its init text is freed, R96).
   */
  | { readonly op: 'module_live'; readonly module: string }
  /** Internal, never in a scenario file: a C module's data copied into memory before its init runs. */
  | { readonly op: 'c_load'; readonly module: string }
  /** Internal: a C module's exit function, called by rmmod when the module is live (else no call). */
  | { readonly op: 'c_exit'; readonly module: string; readonly fn: string }
  /** Unload it: probes in its text become GONE (R95) and its code is gone. */
  | { readonly op: 'rmmod'; readonly module: string }
  /** `echo 0|1 > /sys/kernel/debug/kprobes/enabled`: disarm or arm every probe (R42). */
  | { readonly op: 'kprobes_enabled'; readonly value: boolean }
  /** `echo 0|1 > /proc/sys/debug/kprobes-optimization` (R40; kernels with `config.optprobes`). */
  | { readonly op: 'kprobes_optimization'; readonly value: boolean }
  /** What if ftrace hit an internal failure and shut itself down (ftrace_kill): R94. */
  | { readonly op: 'ftrace_failure' }
  /**
   * The task executes int3 in user space, as a debugger's breakpoint does: kprobes leave a user-mode
   * trap alone (R44); with no debugger attached the SIGTRAP kills the task.
   */
  | { readonly op: 'user_int3' }
  | { readonly op: 'sleep'; readonly ticks: number }
  /** wait(2) for every child the task forked (runs with C modules: `run --module`'s workload). */
  | { readonly op: 'wait_children' }
  /** KUnit's kunit_init_test(): a struct kunit for the case `name` (`kprobesim kunit`). */
  | { readonly op: 'kunit_test'; readonly name: string };

export interface TaskSpec {
  readonly comm: string;
  readonly pid?: number;
  /** Pin the task to one CPU; otherwise it may run on, and migrate between, any CPU. */
  readonly cpu?: number;
  readonly program: readonly TaskOp[];
  /**
   * A shell: when the program runs out the task waits for input (operations a `kprobesim shell`
   * session appends, event `input.ops`) instead of exiting.
   */
  readonly interactive?: boolean;
}

/**
 * A loadable module's text: functions with their callees (own or core) and return values; or a
 * module written in C (`source`, `code`, `params`: issue 11, src/cexec), whose functions are its
 * C code's (`functions` is then empty and `name` is kbuild's, from the file name).
 */
export interface ModuleSpec {
  readonly name: string;
  /** The C file's name as given (relative to the scenario file, or as on the command line). */
  readonly source?: string;
  /** The C source itself (a scenario file names only `source`; loading reads it). */
  readonly code?: string;
  /** insmod's parameters (name → value). */
  readonly params?: Readonly<Record<string, string>>;
  readonly functions: readonly {
    readonly name: string;
    readonly calls?: readonly string[];
    readonly ret?: number;
    /** In the module's init text (`__init`). */
    readonly init?: boolean;
  }[];
}

/**
 * A condition the run must satisfy (docs/expect.md): `always` after every event, or `at_end` on the
 * state the run ends with, in the expect expression language over the folded state.
 */
export type Expectation =
  | { readonly always: string; readonly name?: string }
  | { readonly at_end: string; readonly name?: string };

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Loadable modules the tasks may insmod and rmmod (spec §13). */
  readonly modules?: readonly ModuleSpec[];
  /** The kernel release whose behaviour and symbols the run follows (default: 6.17). */
  readonly kernel?: KernelVersion;
  /** The architecture of the kernel image (default: x86_64). */
  readonly arch?: Arch;
  /**
   * Build options (x86_64): `ftrace` gives C functions an fentry site at their entry and turns
   * on CONFIG_KPROBES_ON_FTRACE, so a probe there is ftrace-based (spec §12); `ibt` starts C
   * functions with ENDBR64, so an entry probe sits at +4 (R24).
   */
  readonly config?: BuildConfig;
  /**
   * The local timer interrupt: every `period` ticks each CPU running a task with interrupts
   * enabled takes it, and its handler (hrtimer_interrupt → … → scheduler_tick) runs in hard
   * interrupt context on that task's stack, where its functions can hit probes.
   */
  readonly timer?: { readonly period: number };
  readonly cpus: number;
  /** The run stops after this many scheduler steps even if tasks remain. */
  readonly max_steps: number;
  /**
   * The run stops when a fork takes the live tasks past this many (default DEFAULT_MAX_TASKS):
   * memory stays proportional to the live state. Absent unless given, so logs of scenarios
   * without it keep their bytes.
   */
  readonly max_tasks?: number;
  readonly probes: readonly ProbeSpec[];
  readonly tasks: readonly TaskSpec[];
  /** The scenario's own assertions over the folded state, checked while it runs (docs/expect.md). */
  readonly expect?: readonly Expectation[];
}

/** scenario.max_tasks when absent: far more than any built-in forks, far less than memory allows. */
export const DEFAULT_MAX_TASKS = 4096;
/** The largest max_tasks: the kernel's default pid_max (PID_MAX_DEFAULT, 32768). */
export const MAX_MAX_TASKS = 32_768;

/** The task limit a run of `s` has. */
export function maxTasksOf(s: Pick<Scenario, 'max_tasks'>): number {
  return s.max_tasks ?? DEFAULT_MAX_TASKS;
}
