import { KPROBE_STATUSES } from '../machines/kprobe-status.ts';
import type { ApiCall, CpuState, HandlerRun, KernelState, ProbeLifecycle, TaskState, Wait } from '../model/state.ts';
import { own } from '../model/own.ts';
import type { Scenario } from '../scenario/types.ts';

// What an expect expression can refer to: the names of the folded kernel state (src/model/state.ts)
// as the expression language sees them, each with its type, a line of documentation (docs/expect.md
// is checked against these) and how its value is read from a state. The checker types an
// expression against these before the run; the evaluator reads values through the same getters.
// Records are read lazily: a CPU is its CpuState, a probe or a pool its name.

/** A value at run time: a scalar, a record (an item of one of the records below), or a list of them. */
export type Value = number | boolean | string | null | Item | readonly Item[];
/** A record's item, opaque to the evaluator: only its record's getters read it. */
export type Item = object | string;

export type Type =
  | { readonly kind: 'int'; readonly nullable?: boolean }
  | { readonly kind: 'bool' }
  /** `values`: the strings it can be (a kprobe status, a probe's lifecycle…), named `what`. */
  | { readonly kind: 'string'; readonly nullable?: boolean; readonly values?: readonly string[]; readonly what?: string }
  | { readonly kind: 'null' }
  | { readonly kind: 'record'; readonly rec: RecordDef }
  /** A list of records; `keys` when its items can be named (`probes.kp`, `probes["kp"]`). */
  | { readonly kind: 'list'; readonly rec: RecordDef; readonly keys?: Keys };

export interface Field {
  readonly type: Type;
  readonly doc: string;
  readonly get: (item: never, s: KernelState) => Value;
}

export interface RecordDef {
  /** How a message names one (`a CPU`). */
  readonly what: string;
  /** How a message names one item (`cpu 1`, `probe kp`). */
  readonly label: (item: never) => string;
  readonly fields: Readonly<Record<string, Field>>;
}

export interface Keys {
  /** What a key names (`probe`). */
  readonly what: string;
  /** The keys a scenario has (checked before the run). */
  readonly of: (scenario: Scenario) => readonly string[];
}

export interface Root {
  readonly type: Type;
  readonly doc: string;
  readonly get: (s: KernelState) => Value;
}

const INT: Type = { kind: 'int' };
const INT_OR_NULL: Type = { kind: 'int', nullable: true };
const BOOL: Type = { kind: 'bool' };
const STRING: Type = { kind: 'string' };
const enumOf = (what: string, values: readonly string[], nullable = false): Type => ({ kind: 'string', values, what, nullable });

function field<T>(type: Type, doc: string, get: (item: T, s: KernelState) => Value): Field {
  return { type, doc, get: get as (item: never, s: KernelState) => Value };
}

function record<T>(what: string, label: (item: T) => string, fields: Record<string, Field>): RecordDef {
  return { what, label: label as (item: never) => string, fields };
}

/** Every value of a string union, checked against it at compile time (a value added to the union must be added here). */
function allOf<T extends string>() {
  return <const L extends readonly T[]>(list: L & ([Exclude<T, L[number]>] extends [never] ? unknown : { missing: Exclude<T, L[number]> })): L => list;
}

/** The probe whose handler the CPU runs now (its pre, post or return handler), if any. */
function handlerOf(c: CpuState): string | null {
  return c.handler?.probe ?? null;
}

export const CPU = record<CpuState>('a CPU', (c) => `cpu ${c.id}`, {
  id: field<CpuState>(INT, 'the CPU number', (c) => c.id),
  status: field<CpuState>(enumOf('kprobe status', KPROBE_STATUSES), 'kcb->kprobe_status ("idle": no kprobe running)', (c) => c.status),
  current: field<CpuState>({ kind: 'string', nullable: true }, 'the address of the probe point being handled (current_kprobe), or null', (c) => c.current),
  handler: field<CpuState>({ kind: 'string', nullable: true }, 'the probe whose handler runs on it now, or null', handlerOf),
  phase: field<CpuState>(enumOf('handler phase', allOf<HandlerRun['phase']>()(['pre', 'post', 'ret']), true), 'which handler of that probe: "pre", "post" or "ret" (a kretprobe\'s return handler), or null', (c) => c.handler?.phase ?? null),
  trapped: field<CpuState>(BOOL, 'a breakpoint trap was taken and its probe not looked up yet', (c) => c.trap !== null),
  preempt_count: field<CpuState>(INT, 'preempt_count', (c) => c.preempt_count),
  irqs_off: field<CpuState>(BOOL, 'local interrupts are disabled', (c) => c.irqs_off),
  halted: field<CpuState>(BOOL, 'the CPU died (an oops or BUG)', (c) => c.halted),
  task: field<CpuState>(INT_OR_NULL, 'the pid of the task it runs, or null', (c, s) => s.sched.curr[c.id] ?? null),
});

const WAITS = allOf<Wait['on']>()(['mutex', 'sync', 'gp', 'time', 'input', 'children']);
const CALLS = allOf<ApiCall['fn']>()(['register_kprobe', 'unregister_kprobe', 'enable_kprobe', 'disable_kprobe', 'kprobes_enabled', 'insmod', 'rmmod', 'module_live']);

export const TASK = record<TaskState>('a task', (t) => `task ${t.pid} (${t.comm})`, {
  pid: field<TaskState>(INT, 'its pid', (t) => t.pid),
  comm: field<TaskState>(STRING, 'its name', (t) => t.comm),
  cpu: field<TaskState>(INT_OR_NULL, 'the CPU it runs on, or null', (t) => t.cpu),
  pinned: field<TaskState>(INT_OR_NULL, 'the CPU it is pinned to, or null', (t) => t.pinned),
  waiting: field<TaskState>(enumOf('wait', WAITS, true), 'what it waits for: "mutex" (kprobe_mutex), "sync" (a text-patch sync), "gp" (a grace period), "time", "input", "children" (its children to exit), or null', (t) => t.wait?.on ?? null),
  in_call: field<TaskState>(enumOf('kprobes call', CALLS, true), 'the kprobes call it is in ("register_kprobe", "unregister_kprobe", …), or null', (t, s) => s.kprobes.calls[t.pid]?.fn ?? null),
});

const LIFECYCLE = allOf<ProbeLifecycle>()(['unregistered', 'registering', 'registered', 'unregistering']);

/** The stats of a probe, zeros before it was hit. */
const stat = (name: string, s: KernelState, key: 'hits' | 'nmissed' | 'handled' | 'skipped' | 'pre_calls' | 'post_calls' | 'ret_calls' | 'fault_misses'): number =>
  own(s.stats, name)?.[key] ?? 0;

export const PROBE = record<string>('a probe', (p) => `probe ${p}`, {
  name: field<string>(STRING, 'its name in scenario.probes', (p) => p),
  state: field<string>(enumOf('probe state', LIFECYCLE), '"unregistered", "registering", "registered" or "unregistering"', (p, s) => own(s.kprobes.probes, p)?.state ?? 'unregistered'),
  registered: field<string>(BOOL, 'state == "registered"', (p, s) => own(s.kprobes.probes, p)?.state === 'registered'),
  addr: field<string>({ kind: 'string', nullable: true }, 'p->addr (hex), or null', (p, s) => own(s.kprobes.probes, p)?.addr ?? null),
  disabled: field<string>(BOOL, 'KPROBE_FLAG_DISABLED is set', (p, s) => own(s.kprobes.probes, p)?.disabled ?? false),
  gone: field<string>(BOOL, 'KPROBE_FLAG_GONE is set (its code was freed)', (p, s) => own(s.kprobes.probes, p)?.gone ?? false),
  hits: field<string>(INT, 'hits on it', (p, s) => stat(p, s, 'hits')),
  nmissed: field<string>(INT, 'kp.nmissed', (p, s) => stat(p, s, 'nmissed')),
  handled: field<string>(INT, 'hits whose handlers were dispatched', (p, s) => stat(p, s, 'handled')),
  skipped: field<string>(INT, 'hits legitimately not handled without a miss (R53)', (p, s) => stat(p, s, 'skipped')),
  pre_calls: field<string>(INT, 'pre-handler calls', (p, s) => stat(p, s, 'pre_calls')),
  post_calls: field<string>(INT, 'post-handler calls', (p, s) => stat(p, s, 'post_calls')),
  ret_calls: field<string>(INT, 'kretprobe return-handler calls', (p, s) => stat(p, s, 'ret_calls')),
  running: field<string>(INT, 'how many CPUs run one of its handlers now', (p, s) => s.cpus.filter((c) => handlerOf(c) === p).length),
});

export const POOL = record<string>('a kretprobe pool', (p) => `pool ${p}`, {
  name: field<string>(STRING, 'the kretprobe\'s name', (p) => p),
  maxactive: field<string>(INT, 'instances in the pool (R71)', (p, s) => own(s.kretprobes, p)?.maxactive ?? 0),
  free: field<string>(INT, 'free instances', (p, s) => own(s.kretprobes, p)?.free ?? 0),
  out: field<string>(INT, 'instances taken and not given back', (p, s) => Object.keys(own(s.kretprobes, p)?.held ?? {}).length),
  nmissed: field<string>(INT, 'rp->nmissed: entry hits that found no free instance (R74)', (p, s) => own(s.kretprobes, p)?.nmissed ?? 0),
  attached: field<string>(BOOL, 'false once unregistration detached it (R69)', (p, s) => own(s.kretprobes, p)?.attached ?? false),
});

export const KPROBES = record<KernelState>('the kprobe manager', () => 'kprobes', {
  mutex_owner: field<KernelState>(INT_OR_NULL, 'the pid holding kprobe_mutex, or null', (s) => s.kprobes.mutex.owner),
  mutex_waiters: field<KernelState>(INT, 'tasks waiting for kprobe_mutex', (s) => s.kprobes.mutex.waiters.length),
  calls: field<KernelState>(INT, 'kprobes calls in progress (register, unregister, enable, disable, …)', (s) => Object.keys(s.kprobes.calls).length),
  all_disarmed: field<KernelState>(BOOL, 'the debugfs switch turned every probe off (R42)', (s) => s.kprobes.all_disarmed),
  grace_periods: field<KernelState>(INT, 'grace periods in progress', (s) => Object.keys(s.kprobes.gps).length),
  syncing: field<KernelState>(BOOL, 'a text-patch sync is in progress', (s) => s.kprobes.sync !== null),
  armed_points: field<KernelState>(INT, 'probe points whose breakpoint is armed', (s) => Object.values(s.kprobes.table).filter((p) => p.armed).length),
});

const probeNames = (s: KernelState): string[] => Object.keys(s.kprobes.probes);

export const ROOTS: Readonly<Record<string, Root>> = {
  cpus: { type: { kind: 'list', rec: CPU }, doc: 'every CPU', get: (s) => s.cpus },
  tasks: { type: { kind: 'list', rec: TASK }, doc: 'every live task', get: (s) => s.tasks },
  probes: {
    type: { kind: 'list', rec: PROBE, keys: { what: 'probe', of: (sc) => sc.probes.map((p) => p.name) } },
    doc: 'every probe of scenario.probes; probes.NAME (or probes["NAME"]) is one',
    get: probeNames,
  },
  pools: {
    type: { kind: 'list', rec: POOL, keys: { what: 'kretprobe', of: (sc) => sc.probes.filter((p) => p.kind === 'kretprobe').map((p) => p.name) } },
    doc: 'the instance pool of every kretprobe registered so far; pools.NAME is one',
    get: (s) => Object.keys(s.kretprobes),
  },
  kprobes: { type: { kind: 'record', rec: KPROBES }, doc: 'the kprobe manager: kprobe_mutex, calls, grace periods', get: (s) => s },
  t: { type: INT, doc: 'the logical time', get: (s) => s.t },
  seq: { type: INT, doc: 'the seq of the last event', get: (s) => s.seq },
  bugs: { type: INT, doc: 'kernel bug events so far (BUG, oops, scheduling while atomic)', get: (s) => s.bugs },
  printk_lines: { type: INT, doc: 'lines printed to the kernel log', get: (s) => s.printk_lines },
  exited: { type: INT, doc: 'tasks that exited', get: (s) => s.exited },
  halted: { type: BOOL, doc: 'the kernel halted (a CPU died)', get: (s) => s.halted !== null },
};

/** The functions over lists: `count(L)`, `count(x in L: COND)`, `all(…)`, `any(…)`, `sum(x in L: INT)`. */
export const FUNCTIONS = ['count', 'all', 'any', 'sum'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** The text of a type for messages (`int`, `string or null`, `a list of CPUs`). */
export function typeText(t: Type): string {
  switch (t.kind) {
    case 'int':
    case 'bool':
      return 'nullable' in t && t.nullable ? `${t.kind} or null` : t.kind;
    case 'string':
      return t.nullable ? 'string or null' : 'string';
    case 'null':
      return 'null';
    case 'record':
      return t.rec.what;
    case 'list':
      return `a list (each ${t.rec.what.replace(/^an? /, '')})`;
  }
}
