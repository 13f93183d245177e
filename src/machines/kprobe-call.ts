import type { DomainEvent } from '../model/events.ts';
import type { ApiCall, ApiPhase } from '../model/state.ts';

// The call a task makes into kprobes under kprobe_mutex: register_kprobe, unregister_kprobe,
// enable_kprobe, disable_kprobe, the debugfs kprobes/enabled switch and the module notifier
// (spec §2, §3, §4, §5, §8, §13). This config is the one definition of a call's steps and their
// order, as an XState v5 machine config (`createMachine(kprobeCallConfig)` gives the machine):
//
//   register_kprobe:   mutex_lock → hlist_add_head_rcu → arm_kprobe → text_poke_sync → mutex_unlock
//   unregister_kprobe: mutex_lock → __unregister_kprobe_top (__disable_kprobe [→ text_poke_sync]
//                      → hlist_del_rcu) → mutex_unlock → synchronize_rcu → __unregister_kprobe_bottom
//
// Each state is one step of the kprobe manager (an interleaving point: other CPUs step in
// between), named as kernel/kprobes.c names it; `meta.phase` is the value the model logs and folds
// for it (`ApiCall.phase`: part of the state a digest covers, so it keeps its model name), and
// `meta.rules` the rules of docs/rules.md the step follows. An event moves a call to the target of
// the transition on it; a step may publish several events, and the call stands where its last
// moving event leaves it.
//
// This file is plain data (no XState runtime): the fold (`src/model/fold/kprobes.ts`) derives its
// phase table from it (NEXT_PHASE, built once, here, at module load), and each task's call machine
// (`./kprobe-call-actor.ts`) is this graph with, in every step, a transition that runs the step
// function of the state's kernel name (`src/kprobes/api-step.ts`).

/** The domain event types that move a call. */
type EventType = DomainEvent['type'];

interface StepMeta {
  /** The phase the model logs and folds while a call stands in this state. */
  readonly phase: ApiPhase;
  /** What kernel code the step is. */
  readonly kernel: string;
  /** The rules (docs/rules.md) the step follows. */
  readonly rules: readonly string[];
}

export interface CallStateConfig {
  readonly id?: string;
  readonly description?: string;
  readonly type?: 'final';
  readonly initial?: string;
  readonly meta?: StepMeta | { readonly kernel: string; readonly rules: readonly string[] };
  readonly on?: Readonly<Partial<Record<EventType, string>>>;
  readonly states?: Readonly<Record<string, CallStateConfig>>;
}

const MACHINE_ID = 'kprobe_call';
const at = (fn: ApiCall['fn'], ...path: string[]): string => `#${[MACHINE_ID, fn, ...path].join('.')}`;

const LOCK: StepMeta = { phase: 'lock', kernel: 'mutex_lock(&kprobe_mutex)', rules: ['R16'] };
const SYNC: StepMeta = {
  phase: 'sync',
  kernel: 'text_poke_sync(): a serializing IPI every CPU acknowledges with interrupts on',
  rules: ['R55', 'R18'],
};

export const kprobeCallConfig = {
  id: MACHINE_ID,
  initial: 'idle',
  states: {
    idle: {
      description: 'the task is in no kprobes call',
      on: {
        'kprobe.register': 'register_kprobe',
        'kprobe.unregister': 'unregister_kprobe',
        'kprobe.enable_kprobe': 'enable_kprobe',
        'kprobe.disable_kprobe': 'disable_kprobe',
        'kprobes.enabled_write': 'kprobes_enabled',
        'module.insmod': 'insmod',
        'module.rmmod': 'rmmod',
        'module.init': 'module_live',
      },
    },

    // register_kprobe(): the R21-R28 checks are made before the call takes the mutex (a refusal
    // never enters this graph); then the probe enters the table before its breakpoint is written.
    register_kprobe: {
      initial: 'mutex_lock',
      states: {
        mutex_lock: { meta: LOCK, on: { 'mutex.lock': 'hlist_add_head_rcu' } },
        hlist_add_head_rcu: {
          meta: {
            phase: 'insert',
            kernel: '__register_kprobe(): get_kprobe(), register_aggr_kprobe() or prepare_kprobe() and hlist_add_head_rcu()',
            rules: ['R18', 'R27', 'R8', 'R29', 'R30'],
          },
          on: { 'kprobe.insert': 'arm_kprobe' },
        },
        arm_kprobe: {
          meta: { phase: 'arm', kernel: 'arm_kprobe() → arch_arm_kprobe(): text_poke() of int3', rules: ['R18', 'R27'] },
          // A probe that is not armed (R29 DISABLED, R30 arming off, R8 an armed point it joins)
          // unlocks and returns in the step that inserts it, without a text patch.
          on: { 'text.sync.start': 'text_poke_sync', 'kprobe.registered': 'registered' },
        },
        text_poke_sync: { meta: SYNC, on: { 'text.sync.end': 'mutex_unlock' } },
        mutex_unlock: {
          meta: { phase: 'unlock', kernel: 'try_to_optimize_kprobe(), mutex_unlock(&kprobe_mutex), return 0', rules: ['R16', 'R27'] },
          on: { 'kprobe.registered': 'registered' },
        },
        registered: { type: 'final' },
      },
    },

    // unregister_kprobe(p) is unregister_kprobes(&p, 1) (R63): phase 1 under the mutex, the grace
    // period, then phase 3. In a batch the grace period is the batch's (R65): the entry's call
    // ends before it (kprobe.batch.next) and the batch waits once for all of them.
    unregister_kprobe: {
      initial: 'mutex_lock',
      states: {
        mutex_lock: { meta: LOCK, on: { 'mutex.lock': '__unregister_kprobe_top' } },
        __unregister_kprobe_top: {
          meta: { kernel: '__unregister_kprobe_top(): phase 1, under kprobe_mutex', rules: ['R64'] },
          initial: '__disable_kprobe',
          // Disarming writes the original byte and waits for every CPU (R55) before the unlink.
          on: { 'text.sync.start': '.text_poke_sync' },
          states: {
            __disable_kprobe: {
              meta: {
                phase: 'disable',
                kernel: '__disable_kprobe() → disarm_kprobe() → arch_disarm_kprobe(): text_poke() of the original byte',
                rules: ['R64', 'R34', 'R13', 'R18'],
              },
              // R64: a probe not registered when the mutex is held is skipped: unlock at once.
              on: { 'kprobe.disable': 'hlist_del_rcu', 'mutex.unlock': at('unregister_kprobe', 'synchronize_rcu') },
            },
            text_poke_sync: { meta: SYNC, on: { 'text.sync.end': 'hlist_del_rcu' } },
            hlist_del_rcu: {
              meta: {
                phase: 'unlink',
                kernel: 'hlist_del_rcu() of a standalone probe or an only child\'s aggregator; list_del_rcu() of another child',
                rules: ['R64', 'R18', 'R69'],
              },
              on: { 'kprobe.unlink': at('unregister_kprobe', 'mutex_unlock') },
            },
          },
        },
        mutex_unlock: {
          meta: { phase: 'unlock', kernel: 'mutex_unlock(&kprobe_mutex)', rules: ['R16'] },
          on: { 'mutex.unlock': 'synchronize_rcu' },
        },
        synchronize_rcu: {
          meta: {
            phase: 'gp',
            kernel: 'synchronize_rcu(): waits for every CPU in a preempt-disabled region',
            rules: ['R65', 'R67'],
          },
          // The call returns only after the grace period (R67); a batch's entry ends here at once and
          // the batch waits for all its entries in one grace period (R65).
          on: { 'kprobe.unregistered': '__unregister_kprobe_bottom', 'kprobe.batch.next': '__unregister_kprobe_bottom' },
        },
        __unregister_kprobe_bottom: {
          type: 'final',
          meta: { kernel: '__unregister_kprobe_bottom(): phase 3, then return', rules: ['R66', 'R67'] },
        },
      },
    },

    // enable_kprobe() and disable_kprobe() give no grace period (R37). The flag changes first
    // (kprobe.enable, kprobe.disable); a step that also patches the point's text then waits for
    // the sync before it unlocks.
    enable_kprobe: {
      initial: 'mutex_lock',
      on: { 'text.sync.start': '.text_poke_sync' },
      states: {
        mutex_lock: { meta: LOCK, on: { 'mutex.lock': 'enable_kprobe' } },
        enable_kprobe: {
          meta: { phase: 'enable', kernel: 'enable_kprobe(): clear DISABLED, arm_kprobe()', rules: ['R35', 'R36', 'R97'] },
          // An enable that arms the point waits for its text-patch sync.
          // Refused (-EINVAL), or nothing to do: unlock and return at once.
          on: { 'kprobe.enable': 'mutex_unlock', 'kprobe.returned': 'returned' },
        },
        text_poke_sync: { meta: SYNC, on: { 'text.sync.end': 'mutex_unlock' } },
        mutex_unlock: { meta: { phase: 'unlock', kernel: 'mutex_unlock(&kprobe_mutex), return', rules: ['R16', 'R37'] }, on: { 'kprobe.returned': 'returned' } },
        returned: { type: 'final' },
      },
    },

    disable_kprobe: {
      initial: 'mutex_lock',
      on: { 'text.sync.start': '.text_poke_sync' },
      states: {
        mutex_lock: { meta: LOCK, on: { 'mutex.lock': '__disable_kprobe' } },
        __disable_kprobe: {
          meta: { phase: 'disable', kernel: 'disable_kprobe() → __disable_kprobe() → disarm_kprobe()', rules: ['R34', 'R13', 'R18'] },
          on: { 'kprobe.disable': 'mutex_unlock', 'kprobe.returned': 'returned' },
        },
        text_poke_sync: { meta: SYNC, on: { 'text.sync.end': 'mutex_unlock' } },
        mutex_unlock: { meta: { phase: 'unlock', kernel: 'mutex_unlock(&kprobe_mutex), return', rules: ['R16', 'R37'] }, on: { 'kprobe.returned': 'returned' } },
        returned: { type: 'final' },
      },
    },

    // echo 0|1 > /sys/kernel/debug/kprobes/enabled (spec §5).
    kprobes_enabled: {
      initial: 'mutex_lock',
      states: {
        mutex_lock: { meta: LOCK, on: { 'mutex.lock': 'write_enabled_file_bool' } },
        write_enabled_file_bool: {
          meta: { phase: 'switch', kernel: 'write_enabled_file_bool(): the current state again is a no-op', rules: ['R42'] },
          on: { 'kprobes.all_disarmed': 'arm_all_kprobes', 'kprobes.enabled_written': 'written' },
        },
        arm_all_kprobes: {
          meta: { phase: 'patch', kernel: 'arm_all_kprobes() / disarm_all_kprobes(): one point at a time', rules: ['R42', 'R30'] },
          on: { 'text.sync.start': 'text_poke_sync', 'kprobes.enabled_written': 'written' },
        },
        text_poke_sync: { meta: SYNC, on: { 'text.sync.end': 'arm_all_kprobes' } },
        written: { type: 'final' },
      },
    },

    insmod: moduleCall(),
    rmmod: moduleCall(),
    module_live: moduleCall(),
  },
} as const satisfies CallStateConfig;

/** insmod, rmmod and a module's init: kprobes' module notifier runs under kprobe_mutex (§13). */
function moduleCall(): CallStateConfig {
  return {
    initial: 'mutex_lock',
    states: {
      mutex_lock: { meta: LOCK, on: { 'mutex.lock': 'kprobes_module_callback' } },
      kprobes_module_callback: {
        meta: { phase: 'module', kernel: 'kprobes_module_callback(): module text is GONE, or its blacklist added', rules: ['R95', 'R96', 'R28', 'R16'] },
        on: { 'module.done': 'done' },
      },
      done: { type: 'final' },
    },
  };
}

// ── derived once, at module load ─────────────────────────────────────────────────────────────

/** A state of the graph with its XState id (`kprobe_call.register_kprobe.mutex_lock`). */
export interface CallState {
  readonly id: string;
  readonly key: string;
  readonly config: CallStateConfig;
  readonly parent: CallState | null;
}

function walk(config: CallStateConfig, key: string, parent: CallState | null, out: Map<string, CallState>): void {
  const id = parent === null ? key : `${parent.id}.${key}`;
  const node: CallState = { id, key, config, parent };
  out.set(id, node);
  for (const [k, child] of Object.entries(config.states ?? {})) walk(child, k, node, out);
}

/** Every state of the graph by its XState id. */
export const CALL_STATES: ReadonlyMap<string, CallState> = (() => {
  const out = new Map<string, CallState>();
  walk(kprobeCallConfig, MACHINE_ID, null, out);
  return out;
})();

/** The state a transition declared on `from` goes to (`#id`, `.child` or a sibling), entered down its initial states. */
export function resolveTarget(from: CallState, target: string): CallState {
  const id = target.startsWith('#') ? target.slice(1) : target.startsWith('.') ? `${from.id}${target}` : `${from.parent?.id}.${target}`;
  let node = CALL_STATES.get(id);
  if (node === undefined) throw new Error(`kprobe-call: ${from.id}: no state ${target}`);
  while (node.config.initial !== undefined) node = CALL_STATES.get(`${node.id}.${node.config.initial}`)!;
  return node;
}

/** The phase of a state (a state with none is the call's end, or a compound state). */
export function phaseOf(s: CallState): ApiPhase | undefined {
  const meta = s.config.meta;
  return meta !== undefined && 'phase' in meta ? meta.phase : undefined;
}

/** The call (`register_kprobe`, …) a state belongs to. */
function fnOf(s: CallState): ApiCall['fn'] {
  const key = s.id.split('.')[1];
  if (key === undefined || !(key in kprobeCallConfig.states) || key === 'idle') throw new Error(`kprobe-call: ${s.id} is in no call`);
  return key as ApiCall['fn'];
}

export type PhaseTable = Readonly<Record<ApiCall['fn'], Readonly<Partial<Record<EventType, ApiPhase>>>>>;

/**
 * What phase a call is in after each event that moves it: every transition of the graph, read as
 * (call, event) → the phase of its target. An event moves a call to one phase wherever it stands
 * (checked here: two transitions on one event to different phases of one call are refused), so
 * the fold needs no current state to apply it.
 */
export const NEXT_PHASE: PhaseTable = (() => {
  const out: Record<string, Partial<Record<EventType, ApiPhase>>> = {};
  for (const s of CALL_STATES.values()) {
    for (const [type, target] of Object.entries(s.config.on ?? {}) as [EventType, string][]) {
      const to = resolveTarget(s, target);
      const phase = phaseOf(to);
      if (phase === undefined) continue; // the call ends: the fold removes it
      const fn = fnOf(to);
      const row = (out[fn] ??= {});
      if (row[type] !== undefined && row[type] !== phase) throw new Error(`kprobe-call: ${fn}: ${type} goes to both ${row[type]} and ${phase}`);
      row[type] = phase;
    }
  }
  return out as PhaseTable;
})();

/** The kernel-named steps, one per phase of each call: the key of the state, and the function of `api-step.ts` it runs. */
export type CallStep =
  | 'mutex_lock'
  | 'hlist_add_head_rcu'
  | 'arm_kprobe'
  | 'text_poke_sync'
  | 'mutex_unlock'
  | '__disable_kprobe'
  | 'hlist_del_rcu'
  | 'synchronize_rcu'
  | 'enable_kprobe'
  | 'write_enabled_file_bool'
  | 'arm_all_kprobes'
  | 'kprobes_module_callback';
