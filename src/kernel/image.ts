// The kernel image as data: what a real kernel's kallsyms, objtool and section tables would tell
// us, reduced to what kprobes cares about. Nothing here executes; CPUs interpret `body`.

/** What an instruction does when a CPU executes it (or single-steps its out-of-line copy). */
export type Op =
  /** An ordinary instruction: the CPU just moves to the next one. */
  | { readonly k: 'insn' }
  /** A direct call to another function of the image. */
  | { readonly k: 'call'; readonly fn: string }
  /** Return to the caller with the function's return value. */
  | { readonly k: 'ret' }
  /**
   * The ftrace patch site at a function's entry (`call __fentry__`, patched to a 5-byte NOP
   * while nothing traces the function): a NOP unless an ftrace-based kprobe is armed on it (R90).
   */
  | { readonly k: 'fentry' };

export interface Insn {
  /** Byte offset from the start of the function. */
  readonly off: number;
  /** Length in bytes (x86 instructions are 1 to 15 bytes, arm64 ones 4). */
  readonly len: number;
  /** The text shown in dumps, e.g. "push   %rbp" (AT&T syntax on x86_64). */
  readonly text: string;
  readonly op: Op;
}

/**
 * Side effects a function has on the simulated kernel when it returns (or, for do_exit,
 * instead of returning). Kept as a closed set so the fold never interprets code.
 */
export type Effect = 'fork' | 'exit';

/** Sections that decide kprobe eligibility (spec R28). */
export type Section = 'text' | 'kprobes.text' | 'noinstr' | 'entry.text';

export interface FunctionSymbol {
  readonly kind: 'func';
  readonly name: string;
  readonly addr: bigint;
  /** Size in bytes: the sum of the instruction lengths. */
  readonly size: number;
  readonly section: Section;
  /** Listed with NOKPROBE_SYMBOL() (spec R28.2). */
  readonly nokprobe: boolean;
  /** Instructions in address order; offsets are contiguous from 0 to size. */
  readonly body: readonly Insn[];
  /** The value the final `ret` hands back ('pid' = the pid of the task created by a fork). */
  readonly ret: number | 'pid';
  readonly effect?: Effect;
  /** The loadable module whose text holds the function; absent for core kernel text. */
  readonly module?: string;
  /** In the module's init text: freed once the module has initialised (R25.4, R96). */
  readonly init?: boolean;
}

export interface DataSymbol {
  readonly kind: 'data';
  readonly name: string;
  readonly addr: bigint;
  readonly size: number;
}

/** Another name for a function's address (kallsyms keeps aliases, e.g. an old name kept for scripts). */
export interface AliasSymbol {
  readonly kind: 'alias';
  readonly name: string;
  readonly target: string;
}

export type KernelSymbol = FunctionSymbol | DataSymbol | AliasSymbol;

/** Kernel build options that change the image (x86_64 only). */
export interface BuildConfig {
  /** CONFIG_DYNAMIC_FTRACE with fentry sites, and CONFIG_KPROBES_ON_FTRACE (spec §12). */
  readonly ftrace?: boolean;
  /** CONFIG_X86_KERNEL_IBT: C functions start with ENDBR64 (R24). */
  readonly ibt?: boolean;
  /**
   * CONFIG_PREEMPTION (default true). `false` is a kernel without it: kernel code is never
   * preempted (a task switches only when it blocks, sleeps or returns to user space), and
   * single-steps of boostable instructions are boosted (R47.2). Changes no image.
   */
  readonly preempt?: boolean;
  /**
   * CONFIG_OPTPROBES with the kprobes-optimization sysctl on (spec §11): eligible probes are
   * queued for the optimizer and, 5 jiffies later, their breakpoint becomes a jump. Changes no image.
   */
  readonly optprobes?: boolean;
}

/** The architectures of the built-in images. */
export type Arch = 'x86_64' | 'arm64';
export const ARCHES: readonly Arch[] = ['x86_64', 'arm64'];

export interface KernelImage {
  readonly arch: Arch;
  /** Every symbol, in address order (aliases after the symbol they name). */
  readonly symbols: readonly KernelSymbol[];
  /**
   * The kernel's frames below a system call's own function, innermost first, as a stack trace
   * shows them (a task's operations are what its system calls do). Empty for module images.
   */
  readonly entryChain: readonly string[];
  /** Where the local timer interrupt enters the kernel (core images only). */
  readonly timerEntry?: string;
  /** The build options it was laid out with. */
  readonly config: BuildConfig;
}
