import type { LogHeader } from '../log/header.ts';
import type { LoggedEvent } from '../model/events.ts';
import { initialState } from '../model/initial.ts';
import type { ApiCall, Batch, KernelState, TaskState, Wait } from '../model/state.ts';
import { InvariantMonitor } from '../monitors/invariants.ts';
import type { Scenario } from '../scenario/types.ts';
import { validateScenario } from '../scenario/validate.ts';
import { Folder, type Projection } from '../views/folder.ts';
import type { CounterSeries, Flow, Instant, Severity, Slice, Timeline, TimelineInput, TimelineOptions, Track, TrackKind } from './model.ts';

// Builds the timeline model (./model.ts) from a log. The kernel state comes from the project's
// fold (Folder → evolve) and the invariant checkers (InvariantMonitor), run once over the log;
// this file only watches each event with the state before and after it and keeps, per track, a
// stack of what is open there. A slice is recorded when it closes, so slices of one track nest by
// construction; a final pass (placeSlices) checks that and moves anything that would not nest to
// an 'async' track.
//
// What goes where:
// - CPU N's track: the task running there (sched.switch in … out, sleep or exit), its kernel
//   function calls, a timer interrupt, and the kprobe machinery of that CPU: the breakpoint path
//   of each trap (kprobe.trap … kprobe.done, or the single-step's end for a reentrant miss), each
//   handler, the single-step, the kretprobe trampoline and each return-probe run, with the
//   handler's own function calls. While a task makes a kprobes API call on the CPU, the call and
//   what it waits in (kprobe_mutex, a text-patch sync, a grace period) are shown there too. A task
//   switched out leaves its slices closed; when it runs again they reopen (args.resumed).
// - A task's track (only for tasks that make kprobes API calls): the whole call from its first to
//   its last event, whether the task runs or not, with the waits nested in it.
// - kprobe_mutex: who holds it (mutex.lock … mutex.unlock), and the optimizer's instants.
// - scheduler: time jumps, deadlock and limit instants, a shell session's typed lines.

/** An open slice on a track's stack. `key` identifies what closes it. */
interface Open {
  key: string;
  name: string;
  cat: string;
  start: number;
  args: Record<string, unknown>;
  /** Part of the task's own context (function frames, interrupt, API call): it reopens when the task runs again. */
  taskLevel: boolean;
}

/** A closed slice before placement (depth and track overflow are decided at the end). */
interface Raw {
  track: string;
  name: string;
  cat: string;
  start: number;
  end: number;
  args: Record<string, unknown>;
  /** Stack position when it opened: the tie-break that keeps a parent before its child. */
  level: number;
  /** Creation order: the last tie-break, for byte-stable output. */
  n: number;
  clippedStart: boolean;
  clippedEnd: boolean;
}

interface PendingAck {
  readonly cpu: number;
  ack: number | null;
}

interface OpenWait {
  readonly what: 'sync' | 'gp';
  readonly gen: number;
  readonly acks: PendingAck[];
}

const MAX_NAME_LIST = 3;

function listNames(names: readonly string[]): string {
  return names.length <= MAX_NAME_LIST ? names.join(', ') : `${names.slice(0, MAX_NAME_LIST).join(', ')}, … (${names.length})`;
}

function cpuList(cpus: readonly number[]): string {
  return cpus.length === 1 ? `CPU ${cpus[0]}` : `CPUs ${cpus.join(', ')}`;
}

function apiName(call: ApiCall): string {
  switch (call.fn) {
    case 'insmod':
    case 'rmmod':
      return `${call.fn} ${call.probe}`;
    case 'module_live':
      return `do_init_module ${call.probe}`;
    case 'kprobes_enabled':
      return 'write debug/kprobes/enabled';
    default:
      return `${call.fn}(${call.probe})`;
  }
}

function batchName(b: Batch): string {
  return `${b.fn}(${listNames(b.probes)})`;
}

function findTask(s: KernelState, pid: number): TaskState | undefined {
  for (const t of s.tasks) if (t.pid === pid) return t;
  return undefined;
}

function sameWait(a: Wait | null | undefined, b: Wait | null | undefined): boolean {
  if (a === b) return true;
  if (a == null || b == null || a.on !== b.on) return false;
  if (a.on === 'sync' && b.on === 'sync') return a.sync === b.sync;
  if (a.on === 'gp' && b.on === 'gp') return a.gp === b.gp;
  return true;
}

/** Severity and category of the events shown as instants on the track of their CPU or task. */
const INSTANT: Readonly<Partial<Record<LoggedEvent['type'], readonly [Severity, string]>>> = {
  'kprobe.miss': ['miss', 'miss'],
  'kprobe.opt.miss': ['miss', 'miss'],
  'kprobe.ftrace.miss': ['miss', 'miss'],
  'kprobe.ftrace.recursion': ['miss', 'miss'],
  'kretprobe.miss': ['miss', 'miss'],
  'kprobe.bug': ['bug', 'bug'],
  'kernel.oops': ['bug', 'bug'],
  'bug.atomic_sleep': ['bug', 'bug'],
  'kprobe.recovered': ['warn', 'warn'],
  'ftrace.killed': ['warn', 'warn'],
  'kprobe.fault': ['warn', 'fault'],
  'insn.fault': ['warn', 'fault'],
  'kprobe.ss.fault': ['warn', 'fault'],
  'trap.user': ['info', 'trap'],
  'fault.inject': ['info', 'fault'],
  'module.noref': ['info', 'module'],
  'handler.skip': ['info', 'kprobe'],
  'kprobe.redirect': ['info', 'kprobe'],
  'kprobe.override': ['info', 'kprobe'],
  'kprobe.jump': ['info', 'kprobe'],
  printk: ['info', 'printk'],
  'task.fork': ['info', 'task'],
  'task.exec': ['info', 'task'],
  'task.exit': ['info', 'task'],
  // the manager's steps, on the calling task's track
  'kprobe.register.fail': ['warn', 'api'],
  'module.busy': ['warn', 'module'],
  'kprobe.insert': ['info', 'api'],
  'kprobe.disable': ['info', 'api'],
  'kprobe.enable': ['info', 'api'],
  'kprobe.unlink': ['info', 'api'],
  'text.arm': ['info', 'text'],
  'text.disarm': ['info', 'text'],
  'kretprobe.pool': ['info', 'api'],
  'kretprobe.detach': ['info', 'api'],
  'kprobes.all_disarmed': ['info', 'api'],
  'kprobes.optimization': ['info', 'api'],
  'kprobe.opt.queue': ['info', 'optimizer'],
  'kprobe.opt.unopt': ['info', 'optimizer'],
  'kprobe.opt.unopt.queue': ['info', 'optimizer'],
  'kprobe.opt.rearm': ['info', 'optimizer'],
  'kprobe.opt.revive': ['info', 'optimizer'],
  'module.live': ['info', 'module'],
  'module.gone': ['info', 'module'],
  // no task: the optimizer (under kprobe_mutex) and the scheduler
  'kprobe.opt.patch': ['info', 'optimizer'],
  'kprobe.opt.unpatch': ['info', 'optimizer'],
  'time.advance': ['info', 'sched'],
  'kernel.deadlock': ['warn', 'sched'],
  'run.limit': ['warn', 'sched'],
  'run.task_limit': ['warn', 'sched'],
  'input.line': ['info', 'input'],
};

function instantName(e: LoggedEvent): string {
  switch (e.type) {
    case 'kprobe.miss':
      return `miss ${listNames(e.probes)}`;
    case 'kprobe.opt.miss':
    case 'kprobe.ftrace.miss':
      return `miss ${listNames(e.probes)}`;
    case 'kprobe.ftrace.recursion':
      return 'ftrace recursion';
    case 'kretprobe.miss':
      return `kretprobe miss ${e.probe} (${e.reason})`;
    case 'kprobe.bug':
      return `BUG: ${e.message}`;
    case 'kernel.oops':
      return `Oops: ${e.message}`;
    case 'bug.atomic_sleep':
      return 'BUG: sleeping function called from invalid context';
    case 'kprobe.recovered':
      return 'WARN: kprobe recovered';
    case 'ftrace.killed':
      return 'WARN: ftrace killed';
    case 'printk':
      return e.text;
    case 'handler.skip':
      return `skip ${e.probe} ${e.phase} (${e.reason})`;
    case 'task.fork':
      return `fork ${e.comm} (${e.child})`;
    case 'task.exec':
      return `exec ${e.comm}`;
    case 'task.exit':
      return `exit ${e.code}`;
    case 'kprobe.register.fail':
      return `register ${e.probe} failed: ${e.errno}`;
    case 'time.advance':
      return `idle until t=${e.to}`;
    case 'input.line':
      return e.text;
    default: {
      const what = 'probe' in e ? ` ${e.probe}` : 'module' in e ? ` ${e.module}` : 'addr' in e ? ` ${e.addr}` : '';
      return `${e.type}${what}`;
    }
  }
}

/** The event's payload: what an instant's args carry. */
function payload(e: LoggedEvent): Record<string, unknown> {
  const { seq: _s, t: _t, src: _src, type: _type, ...rest } = e;
  return rest;
}

export class TimelineBuilder implements Projection {
  private readonly scenario: Scenario;
  private readonly folder: Folder;
  private readonly monitor = new InvariantMonitor();
  private readonly from: number;
  private readonly to: number;

  private readonly stacks = new Map<string, Open[]>();
  /** The pid whose task slice is open on each CPU. */
  private readonly running: (number | null)[];
  /** Each task's own open context (frames, interrupt, API call, wait), to reopen when it runs again. */
  private readonly taskContext = new Map<number, Open[]>();
  private readonly comms = new Map<number, string>();
  private readonly tracks = new Map<string, { name: string; kind: TrackKind; cpu?: number; pid?: number }>();
  private readonly raws: Raw[] = [];
  private readonly instants: Instant[] = [];
  private readonly counters = new Map<string, { name: string; kind: 'hits' | 'nmissed' | 'free'; probe: string; points: { seq: number; value: number }[] }>();
  private readonly flows: { name: string; from: Flow['from']; to: Flow['to']; cat: 'wait' | 'release'; what: 'sync' | 'gp'; gen: number; n: number }[] = [];
  private readonly waits = new Map<number, OpenWait>();
  private readonly times: number[] = [];
  private firstSeq = 0;
  private lastSeq = 0;
  private seenSeq = 0;
  private ended = false;
  private violationsSeen = 0;
  private counter = 0;
  private countersStarted = false;

  constructor(
    private readonly header: LogHeader,
    scenario?: Scenario,
    options: TimelineOptions = {},
  ) {
    this.scenario = scenario ?? validateScenario(header.scenario);
    this.from = options.from ?? 1;
    this.to = options.to ?? Number.MAX_SAFE_INTEGER;
    const state = initialState(this.scenario);
    this.folder = new Folder(state, [this.monitor, this]);
    this.running = state.cpus.map(() => null);
    for (const t of state.tasks) this.comms.set(t.pid, t.comm);
    for (let cpu = 0; cpu < state.cpus.length; cpu++) this.tracks.set(`cpu/${cpu}`, { name: `CPU ${cpu}`, kind: 'cpu', cpu });
    this.tracks.set('sched', { name: 'scheduler', kind: 'sched' });
    this.tracks.set('mutex', { name: 'kprobe_mutex', kind: 'mutex' });
  }

  /** Feeds the next event of the log (in seq order). Events past the window's end are ignored. */
  push(e: LoggedEvent): void {
    if (e.seq > this.to) return;
    this.folder.apply(e);
  }

  /** The folded state after the last event pushed (the HTML viewer keeps checkpoints of it). */
  get state(): KernelState {
    return this.folder.state;
  }

  // ── the projection: each event with the state before and after it ───────────────────────────

  observe(before: KernelState, e: LoggedEvent, after: KernelState): void {
    const s = e.seq;
    this.seenSeq = s;
    if (s >= this.from) {
      if (this.firstSeq === 0) this.firstSeq = s;
      this.lastSeq = s;
      this.times.push(e.t);
      if (!this.countersStarted) this.startCounters(before);
    }
    if (e.type === 'log.end') {
      this.ended = true;
      if (this.monitor.violations.length > this.violationsSeen) this.collectViolations(e);
      return;
    }
    if (e.src.startsWith('cpu/') && 'cpu' in e) this.cpuEvent(before, e);
    else if (e.src === 'kprobes') this.managerEvent(before, e, after);
    else if (e.src === 'sched') this.schedEvent(e);
    const kind = INSTANT[e.type];
    if (kind !== undefined) this.instant(this.instantTrack(e), instantName(e), kind[1], s, kind[0], this.instantArgs(e, after));
    if (before.stats !== after.stats || before.kretprobes !== after.kretprobes) this.countersAt(s, before, after);
    // The invariant checkers are the Folder's first projection: they have seen this event.
    if (this.monitor.violations.length > this.violationsSeen) this.collectViolations(e);
  }

  // ── CPU events ─────────────────────────────────────────────────────────────────────────────

  private cpuEvent(before: KernelState, e: Extract<LoggedEvent, { cpu: number }>): void {
    const s = e.seq;
    const cpu = e.cpu;
    const track = `cpu/${cpu}`;
    // A task's event means the task runs on that CPU (its slice opens if the log did not say so).
    if ('pid' in e) this.ensureRunning(cpu, e.pid, s);
    switch (e.type) {
      case 'task.exit':
        this.closeAll(track, s, false);
        this.running[cpu] = null;
        this.taskContext.delete(e.pid);
        this.closeAll(`task/${e.pid}`, s, false);
        return;
      case 'task.sleep':
        this.closeAll(track, s, false);
        this.running[cpu] = null;
        return;
      case 'task.fork':
        this.comms.set(e.child, e.comm);
        return;
      case 'task.exec':
        this.comms.set(e.pid, e.comm);
        return;
      case 'func.call':
        if (e.ctx === 'task') this.pushTask(cpu, e.pid, { key: `call:${e.fn}`, name: e.fn, cat: 'call', start: s, args: { ctx: 'task', pid: e.pid }, taskLevel: true });
        else this.open(track, { key: `hcall:${e.fn}`, name: e.fn, cat: 'call', start: s, args: { ctx: 'handler', pid: e.pid }, taskLevel: false });
        return;
      case 'func.ret':
        if (e.ctx === 'task') this.popTask(cpu, e.pid, `call:${e.fn}`, s);
        else this.closeTo(track, `hcall:${e.fn}`, s);
        return;
      case 'irq.enter':
        this.pushTask(cpu, e.pid, { key: 'irq', name: 'timer interrupt', cat: 'irq', start: s, args: { fn: e.fn }, taskLevel: true });
        this.pushTask(cpu, e.pid, { key: `call:${e.fn}`, name: e.fn, cat: 'call', start: s, args: { ctx: 'irq', pid: e.pid }, taskLevel: true });
        return;
      case 'irq.exit':
        this.popTask(cpu, e.pid, 'irq', s);
        return;
      case 'kprobe.trap':
        this.open(track, { key: 'kprobe', name: `int3 at ${e.addr}`, cat: 'kprobe', start: s, args: { addr: e.addr }, taskLevel: false });
        return;
      case 'kprobe.hit':
      case 'kprobe.miss': {
        const hit = e.type === 'kprobe.hit';
        const top = this.find(track, 'kprobe');
        const name = `${hit ? 'kprobe' : 'kprobe miss'} ${listNames(e.probes)}`;
        if (top === undefined) this.open(track, { key: 'kprobe', name, cat: 'kprobe', start: s, args: { addr: e.addr, probes: e.probes }, taskLevel: false });
        else {
          top.name = name;
          top.args = hit ? { ...top.args, probes: e.probes } : { ...top.args, probes: e.probes, running: e.running, status: e.status };
        }
        return;
      }
      case 'kprobe.opt.hit':
        this.open(track, { key: 'kprobe', name: `optprobe ${listNames(e.probes)}`, cat: 'kprobe', start: s, args: { addr: e.addr, probes: e.probes, optimized: true }, taskLevel: false });
        return;
      case 'kprobe.ftrace.hit':
        this.open(track, { key: 'kprobe', name: `ftrace kprobe ${listNames(e.probes)}`, cat: 'kprobe', start: s, args: { addr: e.addr, probes: e.probes, ftrace: true }, taskLevel: false });
        return;
      case 'handler.enter':
        this.open(track, { key: `handler:${e.probe}:${e.phase}`, name: `${e.phase}_handler ${e.probe}`, cat: 'handler', start: s, args: { probe: e.probe, phase: e.phase }, taskLevel: false });
        return;
      case 'handler.exit':
        this.closeTo(track, `handler:${e.probe}:${e.phase}`, s);
        return;
      case 'kprobe.ss':
        this.open(track, { key: 'ss', name: 'single-step', cat: 'singlestep', start: s, args: { addr: e.addr }, taskLevel: false });
        return;
      case 'kprobe.ss.done':
        // A reentrant (missed) hit ends with its single-step: the outer run is restored.
        if (before.cpus[cpu]?.status === 'KPROBE_REENTER') this.closeTo(track, 'kprobe', s);
        else this.closeTo(track, 'ss', s);
        return;
      case 'kprobe.ss.fault':
      case 'kprobe.boost':
      case 'kprobe.detour':
      case 'kprobe.done':
      case 'kprobe.opt.done':
      case 'kprobe.recovered':
      case 'kprobe.redirect':
      case 'kprobe.override':
      case 'kprobe.jump':
        this.closeTo(track, 'kprobe', s);
        if (e.type === 'kprobe.jump' || e.type === 'kprobe.override') this.renameTopCall(cpu, e.pid, e.fn, e.type);
        return;
      case 'kretprobe.trampoline':
        this.open(track, { key: 'trampoline', name: `kretprobe_trampoline ${e.fn}`, cat: 'kretprobe', start: s, args: { fn: e.fn, ret: e.ret, instances: e.instances }, taskLevel: false });
        return;
      case 'kretprobe.ret_handler':
        this.open(track, { key: `ret:${e.instance}`, name: `kretprobe ${e.probe} (${e.instance})`, cat: 'kretprobe', start: s, args: { probe: e.probe, instance: e.instance, addr: e.addr }, taskLevel: false });
        return;
      case 'kretprobe.put':
        this.closeTo(track, `ret:${e.instance}`, s);
        return;
      case 'kretprobe.return':
        this.closeTo(track, 'trampoline', s);
        this.popTask(cpu, e.pid, `call:${e.fn}`, s);
        return;
      case 'ipi.ack':
        this.ack('sync', e.sync, cpu, s);
        return;
      case 'rcu.qs':
        this.ack('gp', e.gp, cpu, s);
        return;
      default:
        return;
    }
  }

  /** The task slice of `pid` is open on `cpu` (it runs there): events of a task mean it runs. */
  private ensureRunning(cpu: number, pid: number, s: number): void {
    if (this.running[cpu] === pid) return;
    const track = `cpu/${cpu}`;
    this.closeAll(track, s - 1, false);
    // The task may still be shown running on another CPU (it migrated without a switch event there).
    for (let c = 0; c < this.running.length; c++) {
      if (c !== cpu && this.running[c] === pid) {
        this.closeAll(`cpu/${c}`, s - 1, false);
        this.running[c] = null;
      }
    }
    this.running[cpu] = pid;
    const comm = this.comms.get(pid) ?? '?';
    this.open(track, { key: `task:${pid}`, name: `${comm} (${pid})`, cat: 'task', start: s, args: { pid, comm }, taskLevel: false });
    for (const o of this.taskContext.get(pid) ?? []) this.open(track, { ...o, start: s, args: { ...o.args, resumed: true } });
  }

  private pushTask(cpu: number, pid: number, o: Open): void {
    let ctx = this.taskContext.get(pid);
    if (ctx === undefined) this.taskContext.set(pid, (ctx = []));
    ctx.push(o);
    if (this.running[cpu] === pid) this.open(`cpu/${cpu}`, { ...o });
  }

  private popTask(cpu: number | null, pid: number, key: string, s: number): void {
    const ctx = this.taskContext.get(pid);
    if (ctx !== undefined) {
      const i = ctx.map((o) => o.key).lastIndexOf(key);
      if (i >= 0) ctx.length = i;
    }
    if (cpu !== null && this.running[cpu] === pid) this.closeTo(`cpu/${cpu}`, key, s);
  }

  /** kprobe.jump / kprobe.override: the innermost call goes on as another function. */
  private renameTopCall(cpu: number, pid: number, fn: string, how: string): void {
    const rename = (o: Open | undefined): void => {
      if (o === undefined) return;
      o.key = `call:${fn}`;
      o.args = { ...o.args, [how === 'kprobe.jump' ? 'jumped_to' : 'overridden_by']: fn };
    };
    const ctx = this.taskContext.get(pid);
    const last = ctx?.findLast((o) => o.key.startsWith('call:'));
    rename(last);
    if (this.running[cpu] === pid) rename(this.stack(`cpu/${cpu}`).findLast((o) => o.key.startsWith('call:') && o.taskLevel));
  }

  // ── manager events: API calls, waits, kprobe_mutex ──────────────────────────────────────────

  private managerEvent(before: KernelState, e: LoggedEvent, after: KernelState): void {
    const s = e.seq;
    if (!('pid' in e) || !('cpu' in e)) return;
    const { pid, cpu } = e;
    this.ensureRunning(cpu, pid, s);
    if (e.type === 'mutex.lock') this.open('mutex', { key: `hold:${pid}`, name: `held by ${this.comms.get(pid) ?? '?'} (${pid})`, cat: 'mutex', start: s, args: { pid }, taskLevel: false });
    const kb = before.kprobes;
    const ka = after.kprobes;
    if (kb === ka) return;
    const tb = findTask(before, pid);
    const ta = findTask(after, pid);
    const batchB = kb.batches[pid];
    const batchA = ka.batches[pid];
    const callB = kb.calls[pid];
    const callA = ka.calls[pid];
    const waitB = tb?.wait?.on === 'time' || tb?.wait?.on === 'input' ? null : (tb?.wait ?? null);
    const waitA = ta?.wait?.on === 'time' || ta?.wait?.on === 'input' ? null : (ta?.wait ?? null);
    const batchChanged = (batchB === undefined) !== (batchA === undefined) || (batchB !== undefined && batchA !== undefined && batchB.fn !== batchA.fn);
    const callChanged = (callB === undefined) !== (callA === undefined) || (callB !== undefined && callA !== undefined && (callB.fn !== callA.fn || callB.probe !== callA.probe));
    const waitChanged = !sameWait(waitB, waitA);
    // Close, innermost first.
    if (waitB !== null && (waitChanged || callChanged || batchChanged)) this.closeApi(cpu, pid, 'wait', s);
    if (callB !== undefined && (callChanged || batchChanged)) this.closeApi(cpu, pid, 'api', s);
    if (batchB !== undefined && batchChanged) this.closeApi(cpu, pid, 'batch', s);
    // Open, outermost first.
    if (batchA !== undefined && batchChanged) this.openApi(cpu, pid, { key: 'batch', name: batchName(batchA), cat: 'api', start: s, args: { fn: batchA.fn, probes: batchA.probes, pid }, taskLevel: true });
    if (callA !== undefined && (callChanged || batchChanged)) this.openApi(cpu, pid, { key: 'api', name: apiName(callA), cat: 'api', start: s, args: { fn: callA.fn, probe: callA.probe, pid }, taskLevel: true });
    if (waitA !== null && (waitChanged || callChanged || batchChanged)) this.openWait(cpu, pid, waitA, s, after);
    if (e.type === 'mutex.unlock') this.closeTo('mutex', `hold:${pid}`, s);
  }

  private openApi(cpu: number, pid: number, o: Open): void {
    this.trackFor(pid);
    this.open(`task/${pid}`, { ...o });
    this.pushTask(cpu, pid, o);
  }

  private closeApi(cpu: number, pid: number, key: string, s: number): void {
    if (key === 'wait') this.endWait(cpu, pid, s);
    this.closeTo(`task/${pid}`, key, s);
    this.popTask(cpu, pid, key, s);
  }

  private openWait(cpu: number, pid: number, w: Wait, s: number, after: KernelState): void {
    let name: string;
    let cat: string;
    let args: Record<string, unknown>;
    let waiting: readonly number[] = [];
    if (w.on === 'mutex') {
      name = 'mutex_lock(&kprobe_mutex) waits';
      cat = 'mutex';
      args = { owner: after.kprobes.mutex.owner };
    } else if (w.on === 'sync') {
      waiting = after.kprobes.sync?.gen === w.sync ? after.kprobes.sync.waiting : [];
      name = waiting.length > 0 ? `text_poke_sync: waits for ${cpuList(waiting)}` : 'text_poke_sync';
      cat = 'sync';
      args = { sync: w.sync, waiting };
    } else if (w.on === 'gp') {
      waiting = after.kprobes.gps[w.gp] ?? [];
      name = waiting.length > 0 ? `synchronize_rcu: waits for ${cpuList(waiting)}` : 'synchronize_rcu';
      cat = 'gp';
      args = { gp: w.gp, waiting };
    } else return;
    this.openApi(cpu, pid, { key: 'wait', name, cat, start: s, args: { ...args, pid }, taskLevel: true });
    if (w.on === 'sync' || w.on === 'gp') {
      const what = w.on;
      const gen = w.on === 'sync' ? w.sync : w.gp;
      this.waits.set(pid, { what, gen, acks: waiting.map((c) => ({ cpu: c, ack: null })) });
      const from = { track: this.waitTrack(cpu, pid), seq: s };
      for (const c of waiting) {
        this.flows.push({ name: `${what === 'sync' ? 'text_poke_sync' : 'synchronize_rcu'} waits for CPU ${c}`, from, to: { track: `cpu/${c}`, seq: s }, cat: 'wait', what, gen, n: this.counter++ });
      }
    }
  }

  /** Where a task's wait slice is drawn at this moment: its CPU's track while it runs there. */
  private waitTrack(cpu: number, pid: number): string {
    return this.running[cpu] === pid && this.find(`cpu/${cpu}`, 'wait') !== undefined ? `cpu/${cpu}` : `task/${pid}`;
  }

  private ack(what: 'sync' | 'gp', gen: number, cpu: number, s: number): void {
    for (const w of this.waits.values()) {
      if (w.what !== what || w.gen !== gen) continue;
      for (const a of w.acks) if (a.cpu === cpu && a.ack === null) a.ack = s;
    }
  }

  private endWait(cpu: number, pid: number, s: number): void {
    const w = this.waits.get(pid);
    if (w === undefined) return;
    this.waits.delete(pid);
    const to = { track: this.waitTrack(cpu, pid), seq: s };
    for (const a of w.acks) {
      if (a.ack === null) continue;
      this.flows.push({ name: `CPU ${a.cpu} ${w.what === 'sync' ? 'acknowledges the sync IPI' : 'reports a quiescent state'}`, from: { track: `cpu/${a.cpu}`, seq: a.ack }, to, cat: 'release', what: w.what, gen: w.gen, n: this.counter++ });
    }
  }

  private schedEvent(e: LoggedEvent): void {
    if (e.type !== 'sched.switch') return;
    const s = e.seq;
    this.closeAll(`cpu/${e.cpu}`, s - 1, false);
    this.running[e.cpu] = null;
    this.ensureRunning(e.cpu, e.next, s);
  }

  // ── instants and counters ─────────────────────────────────────────────────────────────────

  private instantTrack(e: LoggedEvent): string {
    if (e.src.startsWith('cpu/')) return e.src;
    if (e.src === 'kprobes') {
      if ('pid' in e) {
        this.trackFor(e.pid);
        return `task/${e.pid}`;
      }
      return 'mutex';
    }
    return 'sched';
  }

  private instantArgs(e: LoggedEvent, after: KernelState): Record<string, unknown> {
    const args = payload(e);
    if (e.type === 'kprobe.miss' || e.type === 'kprobe.opt.miss' || e.type === 'kprobe.ftrace.miss' || e.type === 'kprobe.ftrace.recursion') {
      const probes = 'probes' in e ? e.probes : (after.cpus[e.cpu]?.probes ?? []);
      const nmissed: Record<string, number> = {};
      for (const p of probes) nmissed[p] = after.stats[p]?.nmissed ?? 0;
      args.nmissed = probes.length === 1 ? nmissed[probes[0]!] : nmissed;
    } else if (e.type === 'kretprobe.miss') {
      args.nmissed = after.kretprobes[e.probe]?.nmissed ?? 0;
    }
    return args;
  }

  private instant(track: string, name: string, cat: string, seq: number, severity: Severity, args: Record<string, unknown>): void {
    if (seq < this.from || seq > this.to) return;
    this.instants.push({ track, name, cat, seq, severity, args });
  }

  /** Each violation the checkers found on event `e`, as an instant on that event's track. */
  private collectViolations(e: LoggedEvent): void {
    const vs = this.monitor.violations;
    const track = this.instantTrack(e);
    for (; this.violationsSeen < vs.length; this.violationsSeen++) {
      const v = vs[this.violationsSeen]!;
      this.instant(track, `${v.inv} violated`, 'violation', v.seq, 'violation', { inv: v.inv, message: v.message });
    }
  }

  private series(id: string, name: string, kind: 'hits' | 'nmissed' | 'free', probe: string) {
    let c = this.counters.get(id);
    if (c === undefined) this.counters.set(id, (c = { name, kind, probe, points: [] }));
    return c;
  }

  private point(id: string, name: string, kind: 'hits' | 'nmissed' | 'free', probe: string, seq: number, value: number): void {
    const c = this.series(id, name, kind, probe);
    const last = c.points[c.points.length - 1];
    if (last !== undefined && last.seq === seq) last.value = value;
    else if (last === undefined || last.value !== value) c.points.push({ seq, value });
  }

  /** The counters' values as the window opens (the state before its first event). */
  private startCounters(s: KernelState): void {
    this.countersStarted = true;
    const seq = Math.max(this.from, 1);
    for (const p of Object.keys(s.stats).sort()) {
      const st = s.stats[p]!;
      this.point(`hits/${p}`, `${p} hits`, 'hits', p, seq, st.hits);
      this.point(`nmissed/${p}`, `${p} nmissed`, 'nmissed', p, seq, st.nmissed);
    }
    for (const p of Object.keys(s.kretprobes).sort()) this.point(`free/${p}`, `${p} free instances`, 'free', p, seq, s.kretprobes[p]!.free);
  }

  private countersAt(seq: number, before: KernelState, after: KernelState): void {
    if (seq < this.from) return;
    if (before.stats !== after.stats) {
      for (const p of Object.keys(after.stats)) {
        const a = after.stats[p]!;
        const b = before.stats[p];
        if (b === a) continue;
        if (b?.hits !== a.hits || !this.counters.has(`hits/${p}`)) this.point(`hits/${p}`, `${p} hits`, 'hits', p, seq, a.hits);
        if (b?.nmissed !== a.nmissed || !this.counters.has(`nmissed/${p}`)) this.point(`nmissed/${p}`, `${p} nmissed`, 'nmissed', p, seq, a.nmissed);
      }
    }
    if (before.kretprobes !== after.kretprobes) {
      for (const p of Object.keys(after.kretprobes)) {
        const a = after.kretprobes[p]!;
        if (before.kretprobes[p]?.free !== a.free || !this.counters.has(`free/${p}`)) this.point(`free/${p}`, `${p} free instances`, 'free', p, seq, a.free);
      }
    }
  }

  // ── track stacks ──────────────────────────────────────────────────────────────────────────

  private trackFor(pid: number): void {
    const id = `task/${pid}`;
    if (!this.tracks.has(id)) this.tracks.set(id, { name: `${this.comms.get(pid) ?? '?'} (pid ${pid})`, kind: 'task', pid });
  }

  private stack(track: string): Open[] {
    let st = this.stacks.get(track);
    if (st === undefined) this.stacks.set(track, (st = []));
    return st;
  }

  private open(track: string, o: Open): void {
    this.stack(track).push(o);
  }

  private find(track: string, key: string): Open | undefined {
    const st = this.stacks.get(track);
    if (st === undefined) return undefined;
    for (let i = st.length - 1; i >= 0; i--) if (st[i]!.key === key) return st[i];
    return undefined;
  }

  /** Closes the innermost open slice with this key, and everything open inside it, at seq `s`. */
  private closeTo(track: string, key: string, s: number): void {
    const st = this.stacks.get(track);
    if (st === undefined) return;
    for (let i = st.length - 1; i >= 0; i--) {
      if (st[i]!.key !== key) continue;
      while (st.length > i) this.record(track, st.pop()!, st.length, s, false);
      return;
    }
  }

  private closeAll(track: string, s: number, open: boolean): void {
    const st = this.stacks.get(track);
    if (st === undefined) return;
    while (st.length > 0) this.record(track, st.pop()!, st.length, s, open);
  }

  private record(track: string, o: Open, level: number, end: number, stillOpen: boolean): void {
    if (end < this.from || o.start > this.to) return;
    const start = Math.max(o.start, this.from);
    const clippedStart = o.start < this.from;
    const clippedEnd = stillOpen || end > this.to;
    this.raws.push({ track, name: o.name, cat: o.cat, start, end: Math.min(end, this.to), args: o.args, level, n: this.counter++, clippedStart, clippedEnd });
  }

  // ── the result ────────────────────────────────────────────────────────────────────────────

  finish(): Timeline {
    const last = this.lastSeq;
    for (const track of [...this.stacks.keys()].sort()) this.closeAll(track, last, true);
    if (this.firstSeq === 0 && !this.countersStarted) this.countersStarted = true;
    const ordered = orderTracks(this.tracks);
    const { slices, tracks } = placeSlices(this.raws, ordered);
    const order = new Map(tracks.map((t) => [t.id, t.order]));
    const inWindow = (seq: number): boolean => seq >= this.firstSeq && seq <= last && this.firstSeq > 0;
    const flows: Flow[] = this.flows
      .filter((f) => inWindow(f.from.seq) && inWindow(f.to.seq))
      .sort((a, b) => a.from.seq - b.from.seq || a.n - b.n)
      .map((f, i) => ({ id: i + 1, name: f.name, from: f.from, to: f.to, cat: f.cat, what: f.what, gen: f.gen }));
    const instants = this.instants.map((x, i) => ({ x, i })).sort((a, b) => a.x.seq - b.x.seq || a.i - b.i).map(({ x }) => x);
    const counters: CounterSeries[] = [...this.counters.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, c]) => ({ id, name: c.name, points: c.points.filter((p) => p.seq <= last), kind: c.kind, probe: c.probe }));
    slices.sort((a, b) => order.get(a.track)! - order.get(b.track)! || a.startSeq - b.startSeq || a.depth - b.depth);
    return {
      tracks,
      slices,
      instants,
      counters,
      flows,
      firstSeq: this.firstSeq,
      lastSeq: last,
      cpus: this.scenario.cpus,
      scenario: this.scenario.name,
      seed: this.header.seed,
      run: this.header.run,
      times: this.times,
      partial: !this.ended && this.seenSeq < this.to,
    };
  }
}

/** CPUs first, then the scheduler, kprobe_mutex, and tasks by pid. */
function orderTracks(tracks: Map<string, { name: string; kind: TrackKind; cpu?: number; pid?: number }>): Track[] {
  const rank = (t: { kind: TrackKind; cpu?: number; pid?: number }): number =>
    t.kind === 'cpu' ? t.cpu! : t.kind === 'sched' ? 1e6 : t.kind === 'mutex' ? 1e6 + 1 : 2e6 + t.pid!;
  return [...tracks.entries()]
    .sort(([, a], [, b]) => rank(a) - rank(b))
    .map(([id, t], order) => ({ id, name: t.name, kind: t.kind, order, ...(t.cpu !== undefined ? { cpu: t.cpu } : {}), ...(t.pid !== undefined ? { pid: t.pid } : {}) }));
}

/**
 * Gives each slice its depth and checks that each track's slices nest: one that would overlap
 * another without nesting goes to the first of the track's async tracks (`<track>~1`, `~2`, …)
 * where it nests. Returns the tracks in their final order (async tracks right after their parent).
 */
export function placeSlices(raws: readonly Raw[], tracks: readonly Track[]): { slices: Slice[]; tracks: Track[] } {
  const byTrack = new Map<string, Raw[]>();
  for (const r of raws) {
    let l = byTrack.get(r.track);
    if (l === undefined) byTrack.set(r.track, (l = []));
    l.push(r);
  }
  const slices: Slice[] = [];
  const out: Track[] = [];
  for (const track of tracks) {
    out.push(track);
    let pending = (byTrack.get(track.id) ?? []).sort((a, b) => a.start - b.start || b.end - a.end || a.level - b.level || a.n - b.n);
    let lane = 0;
    while (pending.length > 0) {
      const id = lane === 0 ? track.id : `${track.id}~${lane}`;
      if (lane > 0) out.push({ id, name: `${track.name} (${lane + 1})`, kind: 'async', order: 0, parent: track.id });
      const rest: Raw[] = [];
      const stack: Raw[] = [];
      for (const r of pending) {
        while (stack.length > 0 && stack[stack.length - 1]!.end < r.start) stack.pop();
        const top = stack[stack.length - 1];
        if (top !== undefined && top.end < r.end) {
          rest.push(r);
          continue;
        }
        slices.push({
          track: id,
          name: r.name,
          cat: r.cat,
          startSeq: r.start,
          endSeq: r.end,
          depth: stack.length,
          args: r.args,
          ...(r.clippedStart ? { clippedStart: true } : {}),
          ...(r.clippedEnd ? { clippedEnd: true } : {}),
        });
        stack.push(r);
      }
      pending = rest;
      lane++;
    }
  }
  return { slices, tracks: out.map((t, order) => ({ ...t, order })) };
}

export function buildTimeline(input: TimelineInput, options: TimelineOptions = {}): Timeline {
  const b = new TimelineBuilder(input.header, input.scenario, options);
  for (const e of input.events) {
    if (e.seq > (options.to ?? Number.MAX_SAFE_INTEGER)) break;
    b.push(e);
  }
  return b.finish();
}
