// What `kprobesim shell` needs from the simulated kernel. The shell (lexer, file tree, tracefs
// files, commands) is pure and synchronous given an implementation of this interface; the
// simulator implements it on top of its kprobe manager and scheduler (src/session/sim-backend.ts),
// the shell's own tests use a scripted one (test/fakes/fake-backend.ts).
//
// Ownership split:
// * the shell owns the tracefs *text* state: the `kprobe_events` store (src/tracefs), event ids,
//   enable flags, filters, `error_log`, trace options and the trace ring buffer;
// * the backend owns the *kernel*: kprobe registration/arming, running tasks, time, hit and
//   miss counters, and evaluating fetch arguments when a probe fires.
//
// Probe identity: the shell hands the backend the same `ProbeDefinition` object in
// registerProbe, enableEvent, disableEvent, unregisterProbe, hits and misses (the tracefs store is
// immutable and keeps that object), so an implementation may key a Map on it.

import type { Arch, ParseContext, ProbeDefinition } from '../tracefs/index.ts';
import type { KernelVersion } from '../kernel/releases.ts';

/**
 * The value of one fetch argument as the probe handler stored it in the record (R153):
 * * numeric types (`u*`, `s*`, `x*`, `char`, `symbol`, bitfields): the value as a bigint; the shell
 *   masks it to the type's width and prints it per R118 (a bitfield is the already extracted field);
 * * `string` / `ustring` / `symstr`: the text, or `null` when the read faulted (printed `(fault)`);
 * * arrays: one element per slot, each as above.
 */
export type ArgValue = bigint | string | null | readonly (bigint | string | null)[];

/** One event record produced by an enabled kprobe event firing (R156), before filtering. */
export interface TraceRecord {
  /** The event's group and name (the probe's `ProbeDefinition.group` / `.event`). */
  readonly group: string;
  readonly event: string;
  /** current->comm (at most 15 characters) and pid of the task that hit the probe. */
  readonly comm: string;
  readonly pid: number;
  readonly cpu: number;
  /**
   * The five context-flag characters ftrace prints (R154): irqs-off (`d`/`.`), need-resched
   * (`N`/`n`/`p`/`.`), hard/soft irq (`Z` for a breakpoint-path kprobe, `z`, `H`, `h`, `s`, `.`),
   * preempt depth (hex digit or `.`), migrate-disable depth (digit or `.`). Example: `d.Z..`.
   * The shell derives `common_flags` / `common_preempt_count` for filters from it.
   */
  readonly flags: string;
  /** Logical time of the hit in nanoseconds (printed `%5lu.%06lu`). */
  readonly timestampNs: bigint;
  /**
   * The location part of the event text, without the parentheses (R152):
   * kprobe `kernel_clone+0x0/0x450` (module symbols with ` [mod]`, unknown addresses `0x%08lx`);
   * kretprobe `<RETSITE>+0x<off>/0x<size> <- <FUNC>`.
   */
  readonly location: string;
  /** `__probe_ip` (kprobe) or `__probe_func` (kretprobe): the probed address. */
  readonly ip: bigint;
  /** `__probe_ret_ip` (kretprobes only): the return address. */
  readonly retIp?: bigint;
  /** One value per fetch argument of the probe, in definition order (R153). */
  readonly args: readonly ArgValue[];
  /**
   * The kernel stack at the hit, innermost frame first, as ftrace's `<stack trace>` entry prints
   * it (` => kernel_clone`, …). Used only when the `stacktrace` option is on.
   */
  readonly stack?: readonly string[];
}

/** A command that makes the kernel do work (`run`, `tick`, …), as `help` lists it. */
export interface KernelCommandInfo {
  readonly name: string;
  /** e.g. `run COMMAND [ARG]...` */
  readonly usage: string;
  /** One line. */
  readonly summary: string;
}

/**
 * One thing a forked child of the shell does in the kernel before it exits: execve(2) of its
 * program, an open(2), a read(2), or a sleep of `us` microseconds (nanosleep).
 */
export type ChildStep = { readonly kind: 'exec' } | { readonly kind: 'open' } | { readonly kind: 'read' } | { readonly kind: 'sleep'; readonly us: number };

/** A child the shell forks for a command: `comm` is the program's name (`sh` for a builtin). */
export interface ChildTask {
  readonly comm: string;
  readonly steps: readonly ChildStep[];
}

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit status (0–255). */
  readonly status: number;
}

export interface KernelBackend {
  /** The simulated architecture; must equal `parseContext.arch` (`%REG` names, §15.6). */
  readonly arch: Arch;
  /** Online CPUs: `#P:` in the trace header; the kretprobe default maxactive is max(10, 2 × cpus) (R71). */
  readonly cpus: number;
  /** The kernel release (default: the reference one): the `trace` file's layout follows it (R154). */
  readonly kernel?: KernelVersion;
  /** Symbol lookup, function entry, BTF, … for the `kprobe_events` parser (src/tracefs). */
  readonly parseContext: ParseContext;

  /**
   * R150 step 10 for a parsed definition: lockdown (-EPERM), notrace/blacklist (-EINVAL),
   * resolution of `@SYM` arguments (-ENOENT), then register_kprobe()/register_kretprobe()
   * (-EILSEQ off an instruction boundary, -EEXIST, …). Returns 0 or a negative errno; on error
   * nothing may remain registered. `enabled`: the probe joins an event that is already enabled
   * (a multi-probe append, R131), so it is registered armed; otherwise it is registered disabled
   * (KPROBE_FLAG_DISABLED, R134).
   */
  registerProbe(probe: ProbeDefinition, options: { readonly enabled: boolean }): number;
  /** Unregister a probe that registerProbe accepted (its event was deleted, R133/R103). */
  unregisterProbe(probe: ProbeDefinition): void;
  /**
   * Writing `1` to an event's `enable` (R134): enable_kprobe() on each of the event's registered
   * probes, rolling back the ones already enabled if one fails. Returns 0 or a negative errno.
   * From then on hits of these probes produce TraceRecords.
   */
  enableEvent(probes: readonly ProbeDefinition[]): number;
  /** Writing `0` to an event's `enable`: disable_kprobe() on each probe; no more records. */
  disableEvent(probes: readonly ProbeDefinition[]): void;

  /** Current logical time in nanoseconds (error_log timestamps). Must not decrease. */
  nowNs(): bigint;

  /** The kernel-work commands the shell delegates to runCommand (listed by `help`). */
  readonly commands: readonly KernelCommandInfo[];
  /**
   * Run one kernel-work command; `argv[0]` is one of `commands[].name` (e.g. `['run', 'ls']`,
   * `['tick', '10']`). Deterministic. Usage errors are reported in the result, never thrown.
   */
  runCommand(argv: readonly string[]): CommandResult;

  /**
   * The shell runs a command line's programs: it forks one child per command of the pipeline
   * (kernel_clone), each child does its steps and exits, and the shell waits until all are done.
   * Deterministic. A kernel that cannot run them (it has stopped) says so in the result. Absent:
   * programs make the kernel do nothing (their output is the shell's all the same).
   */
  runChildren?(children: readonly ChildTask[]): CommandResult;
  /**
   * The kernel log as `dmesg` prints it (`[    0.000066] text` lines) since it was last cleared;
   * `clear`: empty it after reading (`dmesg -c`). Absent: the kernel has no log to read.
   */
  kernelLog?(clear: boolean): readonly string[];

  /**
   * The records produced by enabled events since the previous call, in production order
   * (per CPU in time order). The shell calls it before every command and after runCommand, then
   * applies filters and the stacktrace option and buffers what passes.
   */
  traceRecords(): readonly TraceRecord[];
  /** kprobe_profile (R157): times the probe's handler ran (kretprobes: return handler), all CPUs. */
  hits(probe: ProbeDefinition): number | bigint;
  /** kprobe_profile: `kp.nmissed` (+ `rp.nmissed` for a kretprobe). */
  misses(probe: ProbeDefinition): number | bigint;
  /** `%pS` for `:symbol` arguments: `sym+0xoff/0xsize`, or null when no symbol covers it. */
  symbolize(address: bigint): string | null;
  /**
   * `/proc/kallsyms` as root reads it: `<address> <type> <name>[\t[<module>]]` per symbol, in
   * address order. Absent: the tree has no `/proc`.
   */
  kallsyms?(): string;
  /**
   * tracefs `available_filter_functions`: the functions with an ftrace patch site, one per line;
   * null when the kernel has none (no CONFIG_DYNAMIC_FTRACE, so no such file).
   */
  availableFilterFunctions?(): string | null;
  /**
   * debugfs `/sys/kernel/debug/kprobes/{list,blacklist,enabled}` as the kernel prints them
   * (spec §14). Absent: the tree has no `kprobes` directory there.
   */
  kprobesFile?(name: KprobesFileName): string;
  /** A write to `kprobes/enabled` (R42): arm (true) or disarm every probe; 0 or an errno. */
  setKprobesEnabled?(on: boolean): number;

  /**
   * `insmod PATH [param=value]...`: the shell forks `insmod`, which execs, opens and reads PATH
   * (the module's C source: the simulator builds it as kbuild would) and calls finit_module(2)
   * with the parameters. Returns 0 or -errno (-ENOEXEC: it does not build; -EEXIST: a module of
   * that name is loaded; module_init's own error), and gcc's diagnostics when there are any.
   * Absent: the kernel has no module support (ENOSYS).
   */
  loadModule?(request: ModuleLoadRequest): ModuleLoadResult;
  /** `rmmod NAME`: the shell forks `rmmod`, which calls delete_module(2): 0 or -errno (-ENOENT: not loaded). */
  unloadModule?(name: string): number;
  /** `/proc/modules` as the kernel prints it (`name size refcount holders state address [taints]`). Absent: no such file. */
  procModules?(): string;
  /** `/proc/sys/kernel/tainted`: the kernel's taint flags (TAINT_OOT_MODULE once a module of the user's is loaded). */
  tainted?(): number;
}

export interface ModuleLoadRequest {
  /** The path as insmod was given it (gcc's diagnostics name the file so). */
  readonly path: string;
  /** The module's C source, or null when insmod could not read FILE (its child's open or read failed with `readErrno`). */
  readonly source: string | null;
  readonly readErrno?: number;
  /** insmod's parameters in order (`name=value`, or `name` for a bool). */
  readonly params: readonly string[];
}

export interface ModuleLoadResult {
  /** 0, or the negative errno of finit_module(2). */
  readonly ret: number;
  /** What building the module printed (gcc's warnings and errors), '' when nothing. */
  readonly diagnostics: string;
}

/** The files of debugfs `kprobes/`. */
export type KprobesFileName = 'list' | 'blacklist' | 'enabled';
