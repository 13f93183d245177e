import type { Hex, JsonObject } from './events.ts';
import type { CState } from '../cexec/memory.ts';

// The whole simulated kernel as plain immutable data: the fold of the event log.
// Slices are owned: a CPU's slice changes only through events that CPU emits, the scheduler's
// only through sched events, the kprobe manager's only through kprobes events. Tasks and the
// hit-path statistics are shared data that several actors' events touch. INV-fold compares each
// actor's context with its slice here.

/** `kcb->kprobe_status` (spec R43), with 'idle' for "no running kprobe" (current_kprobe == NULL). */
export type KprobeStatus = 'idle' | 'KPROBE_HIT_ACTIVE' | 'KPROBE_HIT_SS' | 'KPROBE_HIT_SSDONE' | 'KPROBE_REENTER';

/** One call frame: a function and the index of the next instruction to execute in its body. */
export interface Frame {
  readonly fn: string;
  readonly pc: number;
  readonly up: Frame | null;
  /** kretprobe instances whose trampoline replaced this frame's return address, oldest first (R73). */
  readonly rp?: readonly string[];
  /** regs->ax set by a kprobe that overrode this call's return (kprobe.override). */
  readonly ax?: number;
  /** The interrupt handler's outermost frame, pushed on the interrupted task's stack. */
  readonly irq?: true;
  /** A module's C function (src/cexec): where its locals are. */
  readonly cl?: Hex;
  /** The values its current instruction has read so far (the instruction resumes with them). */
  readonly cm?: readonly string[];
  /** It called a function and waits for its return value. */
  readonly cw?: true;
}

/** A handler invocation in progress on a CPU (handlers never nest on one CPU: R50). */
export interface HandlerRun {
  readonly probe: string;
  readonly phase: 'pre' | 'post' | 'ret';
  /** The kretprobe instance this handler works with (taken on entry, or being returned). */
  readonly instance: string | null;
  /** Index of the handler step being executed. */
  readonly step: number;
  /** Iterations left of a `spin` step in progress (0 when none). */
  readonly spin: number;
  /** Kernel functions the handler called and that are still running (innermost first). */
  readonly frames: Frame | null;
  /**
   * What TypeScript callbacks returned in this run, in order: each replaced the step at `at` of
   * the list as it stood then (`handler.callback`).
   */
  readonly expansions?: readonly { readonly at: number; readonly steps: readonly JsonObject[] }[];
}

/** The single `prev_kprobe` slot (spec §6.1): what a reentrant hit saved. */
export interface SavedKprobe {
  readonly current: Hex;
  readonly probes: readonly string[];
  readonly status: KprobeStatus;
  readonly next: number;
  /** The interrupt level that run belongs to (scenarios with a timer). */
  readonly irq?: number;
  /** That run came through an optimized point's jump (R86). */
  readonly opt_run?: true;
}

export interface CpuState {
  readonly id: number;
  readonly status: KprobeStatus;
  /** `current_kprobe`: the probe point being handled, or null. */
  readonly current: Hex | null;
  /** The probes at `current` when it was hit, in handler order (newest first, R9). */
  readonly probes: readonly string[];
  /** Index into `probes` of the next probe whose handler of the current phase is due. */
  readonly next: number;
  readonly prev: SavedKprobe | null;
  /** The probed instruction's copy has run; the trap that ends single-stepping is next (R48). */
  readonly stepped: boolean;
  /** A breakpoint trap was taken at this address and the probe lookup is still to come. */
  readonly trap: Hex | null;
  readonly preempt_count: number;
  readonly irqs_off: boolean;
  readonly handler: HandlerRun | null;
  /** Generation of the last text-patch sync IPI this CPU acknowledged. */
  readonly acked_sync: number;
  /** A hooked function returned into the kretprobe trampoline, which walks its instances (R75). */
  readonly trampoline: { readonly fn: string; readonly ret: number; readonly pending: readonly string[] } | null;
  /** Generation of the last grace period this CPU reported a quiescent state for. */
  readonly rcu_gp: number;
  readonly halted: boolean;
  /** Registers the handlers of the current hit wrote (`set_reg`), by arch name. */
  readonly regs_set?: Readonly<Record<string, number>>;
  /** When the local timer interrupt is next due (scenarios with a `timer` only). */
  readonly next_timer?: number;
  /** Hard interrupt nesting (the timer interrupt's handler is running); scenarios with a timer. */
  readonly in_irq?: number;
  /**
   * The interrupt level the current kprobe run belongs to. While `in_irq` is above it, an
   * interrupt arrived during that run (an ftrace-based handler runs with interrupts on) and its
   * code runs first; the run goes on after `irq.exit`.
   */
  readonly kprobe_irq?: number;
  /**
   * The current kprobe run came through an optimized point's jump (R86): no trap, no single-step,
   * no post-handler. A fact about the run, not the table: the point may be unoptimized meanwhile.
   */
  readonly opt_run?: true;
}

export type Wait =
  | { readonly on: 'mutex' }
  | { readonly on: 'sync'; readonly sync: number }
  | { readonly on: 'gp'; readonly gp: number }
  | { readonly on: 'time'; readonly until: number }
  /** An interactive task with nothing left to do, until a session appends operations. */
  | { readonly on: 'input' }
  /** wait(2): until every child it forked has exited (`wait_children`). */
  | { readonly on: 'children' };

export interface TaskState {
  readonly pid: number;
  readonly comm: string;
  /** Index of the scenario task whose program this task runs; -1 for a forked child. */
  readonly prog: number;
  /** Index of the program operation being executed. */
  readonly job: number;
  readonly cpu: number | null;
  readonly last_cpu: number | null;
  readonly pinned: number | null;
  readonly frames: Frame | null;
  readonly wait: Wait | null;
  /** Pid of the last child this task forked (what kernel_clone returns). */
  readonly child: number | null;
  /** A fault injected into the running call: the instruction at `addr` faults when next executed (R57). */
  readonly fault?: InjectedFault;
}

export interface InjectedFault {
  readonly addr: Hex;
  readonly outcome: 'resolved' | 'fixup' | 'oops';
}

export interface SchedState {
  /** The task each CPU runs (`rq->curr`), or null when idle. */
  readonly curr: readonly (number | null)[];
  readonly steps: number;
  /** A kernel without CONFIG_PREEMPTION: no task is switched out while it runs kernel code. */
  readonly voluntary?: true;
}

export type ProbeLifecycle = 'unregistered' | 'registering' | 'registered' | 'unregistering';

export interface ProbeReg {
  readonly state: ProbeLifecycle;
  readonly addr: Hex | null;
  readonly disabled: boolean;
  /** KPROBE_FLAG_GONE: its code was freed (module unloaded, init text freed); implies disabled (R1, R95). */
  readonly gone?: boolean;
  readonly handle: string | null;
}

export interface ProbePoint {
  /** Children, newest first (R9). A one-element list is a standalone probe. */
  readonly probes: readonly string[];
  readonly armed: boolean;
  /** R47.2: the instruction copy was prepared "boostable" (kernels without CONFIG_PREEMPTION). */
  readonly boost?: true;
  /**
   * §11: OPTIMIZED: queued for the optimizer (due at logical time `due`), its breakpoint already
   * replaced by a jump to the detour buffer, its unoptimization waiting in the optimizer's queue
   * (R87, due at `due`; still jumping unless `int3`), or `trapping`: arm_kprobe() wrote int3 over
   * the jump's first byte when it dequeued that unoptimization, so hits trap and resume in the
   * detour buffer (as while queued, R85) and nothing queues it again. A point in `unopt` may have
   * no children left: an emptied aggregator stays in the table until the optimizer tears it down
   * (R64, R68).
   */
  readonly opt?:
    | { readonly state: 'queued'; readonly due: number }
    | { readonly state: 'optimized' }
    | { readonly state: 'unopt'; readonly due: number; readonly int3?: true }
    | { readonly state: 'trapping' };
  /**
   * The aggregator's own DISABLED flag where it departs from R13's "no enabled child": `false`
   * after a registration revived the emptied aggregator (R15's quirk: enabled whatever its
   * children are), `true` after enable_kprobe() on a child while global arming was off (R36's
   * quirk: the child reports enabled, the aggregator stays DISABLED and arm-all skips it). Cleared
   * when an enabled child joins or enable_kprobe() arms the point.
   */
  readonly aggr_disabled?: boolean;
}

/** Where a register/unregister call stands (spec §3, §8); NEXT_PHASE in evolve.ts moves it. */
export type ApiPhase = 'lock' | 'insert' | 'arm' | 'enable' | 'disable' | 'sync' | 'unlink' | 'unlock' | 'gp' | 'switch' | 'patch' | 'module';

export interface ApiCall {
  readonly fn: 'register_kprobe' | 'unregister_kprobe' | 'enable_kprobe' | 'disable_kprobe' | 'kprobes_enabled' | 'insmod' | 'rmmod' | 'module_live';
  readonly probe: string;
  readonly phase: ApiPhase;
  /**
   * An unregister acts only if, once it holds kprobe_mutex, the probe is registered (R64); a
   * second unregister of the same probe, or one of a probe never registered, changes nothing.
   */
  readonly effective: boolean;
}

/**
 * A register_kprobes / unregister_kprobes call: its probes go through the single-probe steps one
 * after the other; the unregistrations (of an unregister batch, or the rollback of a failed
 * register batch) share one grace period at the end (R32, R63, R65).
 */
export interface Batch {
  readonly fn: 'register_kprobes' | 'unregister_kprobes';
  readonly probes: readonly string[];
  /** Registrations done so far (register batches). */
  readonly registered: number;
  /** The errno a failed registration returns, once one failed. */
  readonly errno: number;
  /** Probes to take down (phase 1), or null while a register batch is still registering. */
  readonly undo: readonly string[] | null;
  /** How many of `undo` have been through phase 1. */
  readonly undone: number;
  /** Those phase 1 actually disabled and unlinked (R64): they become unregistered after the grace period. */
  readonly effective: readonly string[];
}

export interface Sync {
  readonly gen: number;
  readonly waiting: readonly number[];
}

export interface KprobesState {
  readonly mutex: { readonly owner: number | null; readonly waiters: readonly number[] };
  readonly probes: Readonly<Record<string, ProbeReg>>;
  readonly table: Readonly<Record<Hex, ProbePoint>>;
  readonly calls: Readonly<Record<number, ApiCall>>;
  readonly sync: Sync | null;
  readonly sync_gen: number;
  /** Grace periods in progress, by generation. */
  readonly gps: Readonly<Record<number, readonly number[]>>;
  readonly gp_gen: number;
  /** `kprobes_all_disarmed`: the global switch is off, nothing is armed (R42). */
  readonly all_disarmed: boolean;
  /** Batch calls in progress, by calling task. */
  readonly batches: Readonly<Record<number, Batch>>;
  /**
   * Loaded modules (their text is present): `coming` while their init runs (init text still
   * there, R25.4), `true` once LIVE (init text freed, R96), `going` once rmmod got past the
   * reference check (no new reference can be taken, R25.2) until the notifier removed it.
   */
  readonly modules: Readonly<Record<string, 'coming' | true | 'going'>>;
  /** R40: the kprobes-optimization sysctl was set to 0. */
  readonly opt_off?: true;
}

export interface ProbeStats {
  readonly hits: number;
  readonly nmissed: number;
  /** Hits whose handlers were dispatched (R53's handler runs). */
  readonly handled: number;
  /** Hits legitimately not handled without a miss (R53): the probe was disabled. */
  readonly skipped: number;
  readonly pre_calls: number;
  readonly post_calls: number;
  /** kretprobe return handler calls (R75). */
  readonly ret_calls: number;
  /** Faults inside a handler counted as misses (before v5.14, R58): nmissed without a hit. */
  readonly fault_misses: number;
  /**
   * What register_kprobe (or register_kretprobe, register_kprobes) returned each time it refused
   * this probe, as its caller saw it: each distinct errno and reason once, with how often. The
   * kernel keeps none of this (a refusal changes nothing, INV-validate); the run's caller does,
   * and the summary and `why` show it. Absent until a registration fails; kept across later
   * registrations.
   */
  readonly refused?: readonly Refusal[];
  /** The latest registration of this probe failed (cleared by the next one that gets through resolution). */
  readonly refused_last?: true;
}

/** One reason register_kprobe refused a probe (`kprobe.register.fail`). */
export interface Refusal {
  /** The negative errno returned, e.g. -84. */
  readonly errno: number;
  /** Why, with the rule that says so. */
  readonly reason: string;
  readonly count: number;
}

/** A kretprobe's instance pool (R71, R72) and its own miss count (R74). */
export interface KretprobePool {
  readonly maxactive: number;
  readonly free: number;
  /** `rp->nmissed`: entry hits that found no instance. */
  readonly nmissed: number;
  /** False once unregistration detached the pool (R69); returning instances are then freed. */
  readonly attached: boolean;
  /** Instances taken so far, over every registration: numbers the next one. */
  readonly taken: number;
  /**
   * The first instance number of this registration's pool: an older instance belongs to a pool
   * an earlier unregistration detached, and is freed when its call returns (R69, R80).
   */
  readonly first: number;
  /**
   * The pool's instances as the kernel preallocates them (R72): the free ones as a stack (the
   * most recently given back is taken first), which one each taken instance is, and each one's
   * `data[]` (here one number), zeroed at allocation and never cleared between uses (R77).
   */
  readonly slots: readonly number[];
  readonly held: Readonly<Record<string, number>>;
  readonly data: readonly number[];
}

export interface KernelState {
  readonly seq: number;
  readonly t: number;
  readonly cpus: readonly CpuState[];
  readonly tasks: readonly TaskState[];
  readonly next_pid: number;
  readonly exited: number;
  readonly sched: SchedState;
  readonly kprobes: KprobesState;
  readonly stats: Readonly<Record<string, ProbeStats>>;
  readonly kretprobes: Readonly<Record<string, KretprobePool>>;
  readonly printk_lines: number;
  readonly bugs: number;
  readonly halted: { readonly cpu: number; readonly message: string } | null;
  /** R94: ftrace shut itself down; ftrace-based probes no longer fire. */
  readonly ftrace_dead?: true;
  /** C modules' memory and calls (src/cexec/memory.ts); only in runs with C modules. */
  readonly c?: CState;
}
