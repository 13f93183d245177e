import type { EndReason } from '../actors/simulation.ts';
import type { LoggedEvent } from '../model/events.ts';
import type { KernelState, TaskState } from '../model/state.ts';
import { ExpectMonitor } from '../expect/monitor.ts';
import { InvariantMonitor } from '../monitors/invariants.ts';
import type { Scenario } from '../scenario/types.ts';
import type { Projection } from '../views/folder.ts';
import { kcsanDetector, ModuleBugDetector } from './module-detectors.ts';

// What makes a run a failure for `kprobesim explore`. Each detector watches the run's events
// (a projection of its fold) and keeps the first failure it sees; a run fails with the first
// failure any detector reports, in the order of DETECTORS. New kinds (a scenario's `expect`
// assertions, a module's WARN_ON) are one more factory in that list.

export type FailureKind = 'invariant' | 'kernel-bug' | 'deadlock' | 'liveness' | 'expect' | 'kcsan' | 'kasan' | 'warn' | 'kunit';

export interface Failure {
  readonly kind: FailureKind;
  /**
   * What exactly: the invariant (`INV-unregister`), the event (`kernel.oops`), `kernel.deadlock`,
   * `liveness`, the scenario's expectation (`expect[0]`), the data race (`KCSAN: data-race in f / g`),
   * `KASAN`, `kernel.warn`, a KUnit check (`kunit.fail FILE:LINE`).
   */
  readonly check: string;
  readonly message: string;
  /** The seq of the event where it showed. */
  readonly seq: number;
}

export interface FailureDetector extends Projection {
  /** The first failure seen so far, or null. */
  readonly found: Failure | null;
  /** The run ended: checks that need the end (a deadlock). */
  end?(reason: EndReason, world: KernelState): void;
}

/** Builds a detector for a scenario, or null when it has nothing to check there. */
export type DetectorFactory = (scenario: Scenario) => FailureDetector | null;

/** Any INV-* violation of the run's invariant monitor (src/monitors). */
export class InvariantDetector implements FailureDetector {
  private readonly monitor = new InvariantMonitor();
  found: Failure | null = null;
  observe(before: KernelState, e: LoggedEvent, after: KernelState): void {
    if (this.found !== null) return;
    this.monitor.observe(before, e, after);
    const v = this.monitor.violations[0];
    if (v !== undefined) this.found = { kind: 'invariant', check: v.inv, message: `${v.inv}: ${v.message}`, seq: v.seq };
  }
}

/**
 * The kernel's own complaints: BUG (an unrecoverable kprobe, scheduling while atomic), an oops,
 * and WARN (ftrace shutting itself down: ftrace_kill comes from FTRACE_WARN_ON). A scenario
 * that reproduces one of these on purpose fails on every schedule.
 */
export class KernelBugDetector implements FailureDetector {
  found: Failure | null = null;
  observe(_before: KernelState, e: LoggedEvent): void {
    if (this.found !== null) return;
    const at = (what: string, cpu: number, pid: number) => `${what} on cpu ${cpu} (pid ${pid})`;
    switch (e.type) {
      case 'kernel.oops':
        this.found = { kind: 'kernel-bug', check: e.type, message: `${at('Oops', e.cpu, e.pid)}: ${e.message}`, seq: e.seq };
        break;
      case 'kprobe.bug':
        this.found = { kind: 'kernel-bug', check: e.type, message: `${at('BUG', e.cpu, e.pid)}: ${e.message}`, seq: e.seq };
        break;
      case 'bug.atomic_sleep':
        this.found = { kind: 'kernel-bug', check: e.type, message: `${at('BUG', e.cpu, e.pid)}: scheduling while atomic (preempt_count ${e.preempt_count})`, seq: e.seq };
        break;
      case 'ftrace.killed':
        this.found = { kind: 'kernel-bug', check: e.type, message: `${at('WARN', e.cpu, e.pid)}: ftrace shut itself down (ftrace_kill)`, seq: e.seq };
        break;
      default:
        break;
    }
  }
}

function who(w: KernelState, pid: number | null): string {
  if (pid === null) return 'nobody';
  const t = w.tasks.find((x) => x.pid === pid);
  return t === undefined ? `pid ${pid}` : `pid ${pid} (${t.comm})`;
}

function cpuList(cpus: readonly number[]): string {
  return cpus.length === 0 ? 'no CPU' : `${cpus.length === 1 ? 'cpu' : 'cpus'} ${cpus.join(', ')}`;
}

/** What one task waits for, in the kernel's terms. */
export function describeWait(w: KernelState, t: TaskState): string {
  const me = who(w, t.pid);
  const wait = t.wait;
  if (wait === null) return `${me} is ready, but no CPU can run it`;
  switch (wait.on) {
    case 'mutex':
      return `${me} waits for kprobe_mutex, held by ${who(w, w.kprobes.mutex.owner)}`;
    case 'sync': {
      const pending = w.kprobes.sync?.gen === wait.sync ? w.kprobes.sync.waiting : [];
      return `${me} waits for text-patch sync #${wait.sync} (not yet acknowledged by ${cpuList(pending)})`;
    }
    case 'gp':
      return `${me} waits for grace period #${wait.gp} (no quiescent state yet from ${cpuList(w.kprobes.gps[wait.gp] ?? [])})`;
    case 'time':
      return `${me} sleeps until t=${wait.until}`;
    case 'input':
      return `${me} waits for input`;
    case 'children':
      return `${me} waits for its children to exit`;
  }
}

/** The run ends with nothing runnable, no timer pending and tasks left (INV-progress). */
export class DeadlockDetector implements FailureDetector {
  found: Failure | null = null;
  private lastSeq = 0;
  observe(_before: KernelState, e: LoggedEvent): void {
    if (e.type === 'kernel.deadlock') this.lastSeq = e.seq;
  }
  end(reason: EndReason, w: KernelState): void {
    if (reason !== 'deadlock' || this.found !== null) return;
    const waits = w.tasks.map((t) => describeWait(w, t));
    this.found = { kind: 'deadlock', check: 'kernel.deadlock', message: `deadlock: ${waits.join('; ')}`, seq: this.lastSeq };
  }
}

/** The scenario's own `expect` assertions (src/expect): the first one that turns false. */
export class ExpectDetector implements FailureDetector {
  found: Failure | null = null;
  constructor(private readonly monitor: ExpectMonitor) {}
  observe(before: KernelState, e: LoggedEvent, after: KernelState): void {
    if (this.found !== null) return;
    this.monitor.observe(before, e, after);
    const f = this.monitor.failures[0];
    if (f !== undefined) this.found = { kind: 'expect', check: `expect[${f.index}]`, message: f.message, seq: f.seq };
  }
}

/** Every run's detectors, in the order their failures win when several show at one event. */
export const DETECTORS: readonly DetectorFactory[] = [
  () => new InvariantDetector(),
  // Before the kernel's: a KASAN report is its own kind, not just an oops.
  (scenario) => ((scenario.modules ?? []).some((m) => m.source !== undefined) ? new ModuleBugDetector() : null),
  () => new KernelBugDetector(),
  (scenario) => {
    const monitor = ExpectMonitor.of(scenario);
    return monitor === null ? null : new ExpectDetector(monitor);
  },
  () => new DeadlockDetector(),
  (scenario) => kcsanDetector(scenario),
];
