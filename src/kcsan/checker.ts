import { DEFAULT_KERNEL, type SymbolTable } from '../kernel/index.ts';
import { findObject } from '../cexec/memory.ts';
import type { LoggedEvent } from '../model/events.ts';
import { symbolsOf } from '../model/setup.ts';
import type { KernelState } from '../model/state.ts';
import type { Scenario } from '../scenario/types.ts';
import type { Projection } from '../views/folder.ts';
import { stepAccesses, type StepAccess } from './access.ts';
import { HappensBefore } from './happens-before.ts';
import { reportLines, stackOf, titleOf, type KcsanReport, type RaceAccess } from './report.ts';
import { Shadow, type Stamp } from './shadow.ts';
import { threadOn } from './threads.ts';

// The race checker: KCSAN's reports for module memory, found by happens-before instead of by
// sampling watchpoints. Every access a module's C code makes (c.step's `acc`) is checked against
// the shadow memory under the happens-before relation of ./happens-before.ts; two accesses of one
// byte by different threads, at least one a write and at least one plain, with neither ordered
// before the other, are a data race, whether or not a value was lost on this run. The report
// depends on the events alone, so a run and its replay, and every worker of an exploration,
// report the same races in the same words.

/** CONFIG_KCSAN_REPORT_ONCE_IN_MS's default: a race of the same two frames is reported once in 3 s (a tick is a microsecond). */
const REPORT_ONCE_TICKS = 3_000_000;

export class KcsanMonitor implements Projection {
  readonly reports: KcsanReport[] = [];
  private readonly hb = new HappensBefore();
  private readonly shadow = new Shadow<RaceAccess>();
  private order = 0;
  /** How each CPU's current kprobe hit was taken: through int3, an optimized jump, or ftrace. */
  private readonly via = new Map<number, 'int3' | 'jump' | 'ftrace'>();
  /** Top-frame pairs reported, with when (report.c rate_limit_report). */
  private readonly reported = new Map<string, number>();
  private symbols: SymbolTable | null = null;

  /** Called with each report as it is made (run prints it in dmesg). */
  onReport: ((r: KcsanReport) => void) | null = null;

  private constructor(private readonly scenario: Scenario) {}

  /** A checker for a scenario whose modules are C code, or null (nothing to check). */
  static of(scenario: Scenario): KcsanMonitor | null {
    return (scenario.modules ?? []).some((m) => m.source !== undefined) ? new KcsanMonitor(scenario) : null;
  }

  private table(): SymbolTable {
    return (this.symbols ??= symbolsOf(this.scenario));
  }

  observe(before: KernelState, e: LoggedEvent, after: KernelState): void {
    switch (e.type) {
      case 'c.step':
        if (e.acc.length > 0) this.step(before, e, after);
        return;
      case 'kprobe.hit':
        this.via.set(e.cpu, 'int3');
        break;
      case 'kprobe.opt.hit':
        this.via.set(e.cpu, 'jump');
        break;
      case 'kprobe.ftrace.hit':
        this.via.set(e.cpu, 'ftrace');
        break;
      case 'mem.alloc':
        if (e.kind === 'data' || e.kind === 'heap' || e.kind === 'ri') this.shadow.forget(BigInt(e.addr), e.size);
        return;
      case 'module.gone':
        for (const [addr, obj] of Object.entries(before.c?.mem ?? {})) if (obj.m === e.module) this.shadow.forget(BigInt(addr), obj.size);
        break;
      default:
        break;
    }
    this.hb.observe(before, e);
  }

  /** KCSAN's get_thread_desc(): `task N` unless in interrupt (or NMI) context. */
  private by(w: KernelState, e: Extract<LoggedEvent, { type: 'c.step' }>): string {
    const c = w.cpus[e.cpu];
    if ((c?.in_irq ?? 0) > 0) return 'interrupt';
    // x86's int3 handler runs as an NMI (irqentry_nmi_enter, ist_enter before v5.8): in_task()
    // is false there. arm64's BRK handler, ftrace's callback and an optimized probe's detour run
    // in the task's context, as does a return handler (from the trampoline).
    const arch = this.scenario.arch ?? 'x86_64';
    if (e.ctx === 'handler' && arch === 'x86_64' && c?.handler?.phase !== 'ret' && (this.via.get(e.cpu) ?? 'int3') === 'int3') return 'interrupt';
    return `task ${e.pid}`;
  }

  private step(before: KernelState, e: Extract<LoggedEvent, { type: 'c.step' }>, after: KernelState): void {
    const t = threadOn(before, e.cpu, e.pid);
    const id = this.hb.id(t);
    const task = before.tasks.find((x) => x.pid === e.pid);
    const handlerFrames = e.ctx === 'handler' ? (before.cpus[e.cpu]?.handler?.frames ?? null) : null;
    const where = { by: this.by(before, e), cpu: e.cpu, pid: e.pid, comm: task?.comm ?? 'swapper', handlerFrames, taskFrames: task?.frames ?? null };
    for (const a of stepAccesses(e.acc)) {
      // An acquire comes before the accesses after it, a release after those before it.
      if (a.order === 'acquire' || a.order === 'full') this.hb.acquire(t, `lock ${a.addr}`);
      const info: RaceAccess = { seq: e.seq, type: a.type, marked: a.marked, addr: a.addr, size: a.size, ...where };
      const stamp: Stamp<RaceAccess> = { thread: id, epoch: this.hb.epoch(t), marked: a.marked, write: a.type !== 'read', info, order: this.order++ };
      const race = this.shadow.access(a.addr, a.size, a.type, stamp, this.hb.clock(t));
      if (race !== null) this.report(race.info, info, a, before, after, e.t);
      if (a.order === 'release' || a.order === 'full') this.hb.release(t, `lock ${a.addr}`);
    }
  }

  private report(first: RaceAccess, second: RaceAccess, a: StepAccess, before: KernelState, after: KernelState, t: number): void {
    const symbols = this.table();
    const pair = [stackOf(symbols, first)[0] ?? '', stackOf(symbols, second)[0] ?? ''].sort().join(' / ');
    const last = this.reported.get(pair);
    if (last !== undefined && t - last < REPORT_ONCE_TICKS) return;
    this.reported.set(pair, t);
    const title = titleOf(symbols, first, second);
    // What the watcher saw change while it stalled: its bytes, before and after the other's write.
    const change = a.type === 'read' || first.size > 8 ? null : valueChange(before, after, first.addr, first.size);
    const kernel = this.scenario.kernel ?? DEFAULT_KERNEL;
    const r: KcsanReport = { seq: second.seq, t, title, first, second, change, lines: reportLines(symbols, kernel, title, first, second, change) };
    this.reports.push(r);
    this.onReport?.(r);
  }
}

function valueAt(w: KernelState, addr: bigint, size: number): bigint | null {
  const f = findObject(w.c?.mem ?? {}, addr);
  if (f === undefined) return null;
  const off = Number(addr - f.base);
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(f.obj.b[off + i] ?? 0);
  return v;
}

function valueChange(before: KernelState, after: KernelState, addr: bigint, size: number): KcsanReport['change'] {
  const old = valueAt(before, addr, size);
  const now = valueAt(after, addr, size);
  return old === null || now === null || old === now ? null : { old, new: now };
}
