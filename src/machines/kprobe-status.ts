import type { KprobeStatus } from '../model/state.ts';

// The per-CPU kprobe_status graph (rules §6, R43–R58), defined once. This object is the states
// config of the CPU machine (src/machines/cpu.ts turns each status's `step` list into its STEP
// transitions and passes the rest to createMachine as it is): in each status, `step` says which
// kernel function a granted step runs, and `on` where the events that step emits lead. Everything
// else that knows the graph is derived from it below: the INV-status checker's allowed edges
// (src/monitors/inv-status.ts) and the status the fold assigns (src/model/fold/cpu.ts).
//
// It is plain data (no XState import) so that the fold, which has no XState in it, can read it.
// Events are the log's domain event types (docs/events.md); each transition names the kernel
// function that makes the move (`meta.kernel`) and the rules it follows (`meta.rules`). Guards
// are named and defined in the machine's setup(): `saved` (the status restore_previous_kprobe()
// puts back, R51) and `returned` (a kretprobe return handler finished, R75). A transition with no
// target leaves the status as it is; an event with no transition from a state is refused there.

export type CpuStatusValue = KprobeStatus | 'halted';

export interface EdgeMeta {
  /** The rules of docs/rules.md the move follows. */
  readonly rules: readonly string[];
  /** The kernel function that makes the move. */
  readonly kernel: string;
}

export type StatusGuard = { readonly type: 'saved'; readonly params: { readonly status: KprobeStatus } } | 'returned';

export interface StatusTransition {
  readonly target?: CpuStatusValue;
  readonly guard?: StatusGuard;
  readonly meta: EdgeMeta;
}

export interface StatusStateConfig {
  readonly type?: 'final';
  readonly on?: Readonly<Record<string, readonly StatusTransition[]>>;
  /** What a step the scheduler grants runs in this status: the first choice whose guard holds. */
  readonly step?: readonly StepChoice[];
}

/** What the CPU machine's step guards test (src/kprobes/cpu-step.ts defines each). */
export type StepGuard = 'timerDue' | 'trapped' | 'irqInKprobe' | 'onTrampoline' | 'stepped';

/** The kernel functions a CPU's step runs (src/kprobes/cpu-step.ts; run_task is the task's own code). */
export type KernelStep =
  | 'timer_interrupt'
  | 'kprobe_int3_handler'
  | 'run_task'
  | 'rethook_trampoline_handler'
  | 'kretprobe_rethook_handler'
  | 'aggr_pre_handler'
  | 'aggr_post_handler'
  | 'setup_singlestep'
  | 'kprobe_post_process';

export interface StepChoice {
  readonly guard?: StepGuard;
  readonly run: KernelStep;
}

/** R50: the statuses in which a hit is a miss, saved in prev_kprobe and restored after (R51). */
export const SAVED_STATUSES = ['KPROBE_HIT_ACTIVE', 'KPROBE_HIT_SS', 'KPROBE_HIT_SSDONE'] as const satisfies readonly KprobeStatus[];

const go = (target: CpuStatusValue, rules: readonly string[], kernel: string): StatusTransition[] => [{ target, meta: { rules, kernel } }];
const stay = (rules: readonly string[], kernel: string): StatusTransition[] => [{ meta: { rules, kernel } }];
/** R51: restore_previous_kprobe(): back to whichever status the nested hit saved. */
const restore = (rules: readonly string[], kernel: string): StatusTransition[] =>
  SAVED_STATUSES.map((status) => ({ target: status, guard: { type: 'saved', params: { status } }, meta: { rules, kernel } }));

// A kernel can oops in any status (a fault with no fixup, an int3 no one owns): the CPU halts.
const OOPS = go('halted', ['R54', 'R57', 'R58'], 'die() (oops)');
const MISS = go('KPROBE_REENTER', ['R50'], 'kprobe_int3_handler(): reenter_kprobe(), save_previous_kprobe()');

/**
 * In every status, before the status's own work: a due timer interrupt (when interrupts are on:
 * task code, or an ftrace-based handler, R93), a pending breakpoint trap (a hit, or a reentry
 * from a handler, R50), and an interrupt that arrived inside a kprobe run, which runs to its end.
 */
const FIRST: readonly StepChoice[] = [
  { guard: 'timerDue', run: 'timer_interrupt' },
  { guard: 'trapped', run: 'kprobe_int3_handler' },
  { guard: 'irqInKprobe', run: 'run_task' },
];
/** R47.3, R48: step the probed instruction's copy, then the trap after it. */
const SINGLESTEP: readonly StepChoice[] = [...FIRST, { guard: 'stepped', run: 'kprobe_post_process' }, { run: 'setup_singlestep' }];

export const KPROBE_STATUS_STATES = {
  idle: {
    // R75: a function returning into the kretprobe trampoline runs it before anything else.
    step: [...FIRST, { guard: 'onTrampoline', run: 'rethook_trampoline_handler' }, { run: 'run_task' }],
    on: {
      'kprobe.hit': go('KPROBE_HIT_ACTIVE', ['R46'], 'kprobe_int3_handler(): set_current_kprobe()'),
      'kprobe.ftrace.hit': go('KPROBE_HIT_ACTIVE', ['R92', 'R93'], 'kprobe_ftrace_handler()'),
      'kprobe.opt.hit': go('KPROBE_HIT_ACTIVE', ['R86'], 'optimized_callback()'),
      'kretprobe.ret_handler': go('KPROBE_HIT_ACTIVE', ['R75'], '__kretprobe_trampoline_handler()'),
      // R69/R75: the trampoline recycles an instance with no handler to call: no kprobe runs.
      'kretprobe.put': stay(['R69', 'R75'], '__kretprobe_trampoline_handler()'),
      'kernel.oops': OOPS,
    },
  },
  KPROBE_HIT_ACTIVE: {
    // R10, R75: the pre-handlers, one step at a time; on the trampoline, the return handler.
    step: [...FIRST, { guard: 'onTrampoline', run: 'kretprobe_rethook_handler' }, { run: 'aggr_pre_handler' }],
    on: {
      'kprobe.ss': go('KPROBE_HIT_SS', ['R47.3'], 'setup_singlestep()'),
      'kprobe.boost': go('idle', ['R47.2'], 'setup_singlestep(): reset_current_kprobe()'),
      'kprobe.detour': go('idle', ['R47.1'], 'setup_detour_execution()'),
      // R92: an ftrace-based probe has no single-step: post-handlers follow the pre-handlers,
      // and one without post-handlers is done after its pre-handlers.
      'kprobe.ftrace.post': go('KPROBE_HIT_SSDONE', ['R92'], 'kprobe_ftrace_handler()'),
      'kprobe.done': go('idle', ['R92'], 'kprobe_ftrace_handler(): __this_cpu_write(current_kprobe, NULL)'),
      'kprobe.opt.done': go('idle', ['R86'], 'optimized_callback(): __this_cpu_write(current_kprobe, NULL)'),
      // R46: a pre-handler returned non-zero: no single-step, no post-handler.
      'kprobe.redirect': go('idle', ['R46'], 'kprobe_int3_handler(): reset_current_kprobe()'),
      'kprobe.override': go('idle', ['R46'], 'kprobe_int3_handler(): reset_current_kprobe()'),
      'kprobe.jump': go('idle', ['R46'], 'kprobe_int3_handler(): reset_current_kprobe()'),
      'kprobe.miss': MISS,
      'kretprobe.put': [
        { target: 'idle', guard: 'returned', meta: { rules: ['R75'], kernel: '__kretprobe_trampoline_handler(): __this_cpu_write(current_kprobe, NULL)' } },
        // R73: an entry handler gave its instance back; the pre-handlers go on.
        { meta: { rules: ['R73'], kernel: 'pre_handler_kretprobe()' } },
      ],
      'kernel.oops': OOPS,
    },
  },
  KPROBE_HIT_SS: {
    step: SINGLESTEP,
    on: {
      'kprobe.ss.done': go('KPROBE_HIT_SSDONE', ['R48', 'R49'], 'kprobe_int3_handler(): resume_singlestep(), kprobe_post_process()'),
      'kprobe.ss.fault': go('idle', ['R57'], 'kprobe_fault_handler(): reset_current_kprobe()'),
      'kprobe.miss': MISS,
      'kernel.oops': OOPS,
    },
  },
  KPROBE_HIT_SSDONE: {
    // R11: the post-handlers, one step at a time.
    step: [...FIRST, { run: 'aggr_post_handler' }],
    on: {
      'kprobe.done': go('idle', ['R49'], 'kprobe_post_process(): reset_current_kprobe()'),
      'kprobe.miss': MISS,
      'kernel.oops': OOPS,
    },
  },
  KPROBE_REENTER: {
    // R50: the nested hit's copy is stepped with no handlers.
    step: SINGLESTEP,
    on: {
      // R47.3/R50: the nested hit's copy is stepped in KPROBE_REENTER.
      'kprobe.ss': stay(['R47.3', 'R50'], 'setup_singlestep(reenter=1)'),
      'kprobe.ss.done': restore(['R49', 'R51'], 'kprobe_post_process(): restore_previous_kprobe()'),
      'kprobe.ss.fault': restore(['R57', 'R51'], 'kprobe_fault_handler(): restore_previous_kprobe()'),
      'kprobe.boost': restore(['R47.2', 'R51'], 'setup_singlestep(): restore_previous_kprobe()'),
      'kprobe.detour': restore(['R47.1', 'R51'], 'setup_singlestep(): restore_previous_kprobe()'),
      // R50: a hit in KPROBE_REENTER is "Unrecoverable kprobe detected." and BUG().
      'kprobe.bug': go('halted', ['R50'], 'reenter_kprobe(): BUG()'),
      'kernel.oops': OOPS,
    },
  },
  halted: { type: 'final' },
} as const satisfies Record<CpuStatusValue, StatusStateConfig>;

const STATES: Readonly<Record<CpuStatusValue, StatusStateConfig>> = KPROBE_STATUS_STATES;

/** The kprobe_status values: the graph's states but the final one. */
export const KPROBE_STATUSES: readonly KprobeStatus[] = (Object.keys(STATES) as CpuStatusValue[]).filter((s): s is KprobeStatus => s !== 'halted');

/** The event types that appear in the graph: the CPU machine is sent these, and only these. */
export const STATUS_EVENTS: ReadonlySet<string> = new Set(Object.values(STATES).flatMap((s) => Object.keys(s.on ?? {})));

/** Every move between two different statuses the graph allows, by event type (INV-status). */
export const STATUS_EDGES: ReadonlyMap<string, ReadonlySet<string>> = (() => {
  const edges = new Map<string, Set<string>>();
  for (const from of KPROBE_STATUSES) {
    for (const [type, ts] of Object.entries(STATES[from].on ?? {})) {
      for (const t of ts) {
        if (t.target === undefined || t.target === 'halted' || t.target === from) continue;
        let set = edges.get(type);
        if (set === undefined) edges.set(type, (set = new Set()));
        set.add(edgeKey(from, t.target));
      }
    }
  }
  return edges;
})();

export function edgeKey(from: KprobeStatus, to: KprobeStatus): string {
  return `${from}>${to}`;
}

/**
 * What an event does to the status, as the fold applies it: from REENTER, the graph's own
 * transition (stay, or restore the saved status); from any other status, the one status the
 * event's transitions lead to, taken even off the graph (the kernel code assigns it wherever it
 * runs; INV-status then reports the move). `restore` means restore_previous_kprobe().
 */
export type StatusEffect = KprobeStatus | 'stay' | 'restore';

function effectOf(type: string, reenter: boolean): StatusEffect | undefined {
  const nested = STATES.KPROBE_REENTER.on?.[type];
  if (reenter && nested !== undefined) {
    if (nested.every((t) => t.target === undefined)) return 'stay';
    if (nested.every((t) => typeof t.guard === 'object' && t.guard.type === 'saved')) return 'restore';
  }
  const targets = new Set<KprobeStatus>();
  for (const from of KPROBE_STATUSES) {
    if (from === 'KPROBE_REENTER') continue;
    for (const t of STATES[from].on?.[type] ?? []) if (t.target !== undefined && t.target !== 'halted') targets.add(t.target);
  }
  return targets.size === 1 ? [...targets][0] : undefined;
}

const EFFECTS = new Map<string, readonly [StatusEffect | undefined, StatusEffect | undefined]>(
  [...STATUS_EVENTS].map((type) => [type, [effectOf(type, false), effectOf(type, true)]] as const),
);

/** The status effect of `type` on a CPU (REENTER or not); undefined when the event sets none. */
export function statusEffect(type: string, reenter: boolean): StatusEffect | undefined {
  return EFFECTS.get(type)?.[reenter ? 1 : 0];
}

type OnKeys<T> = T extends { readonly on: infer O } ? keyof O & string : never;
/** The domain event types the graph has transitions for. */
export type StatusEventType = OnKeys<(typeof KPROBE_STATUS_STATES)[keyof typeof KPROBE_STATUS_STATES]>;
