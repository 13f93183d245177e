import type { SymbolTable } from '../kernel/index.ts';
import type { LoggedEvent } from '../model/events.ts';
import { currentTask } from '../model/queries.ts';
import type { KernelState } from '../model/state.ts';
import type { TraceRecord } from '../shell/backend.ts';
import { evalArg } from '../shell/fetch-eval.ts';
import type { ProbeDefinition } from '../tracefs/index.ts';
import type { Projection } from '../views/folder.ts';
import { isFtraceSite } from '../kprobes/resolve.ts';
import { breakpointPc, probedContext, returnAddress, stackNames } from '../kprobes/regs.ts';
import type { KernelVersion } from '../kernel/index.ts';
import { breakpointIsNmi, contextFlags, traceLayout, type TraceLayout } from '../tracefs/trace-layout.ts';

// The records trace_kprobe's handlers write (R156), made from the events of the run: a kprobe
// event's record when its pre-handler runs, a kretprobe event's when its return handler runs,
// with the fetch arguments evaluated against the state at that moment.

/**
 * ftrace's context flags, in the five columns of v5.11+ (contextFlags() drops migrate-disable
 * for older releases): the breakpoint path runs with interrupts off, NMI-like where the release
 * and arch take it as an NMI (breakpointIsNmi(): x86 since v5.8, arm64 since v5.11), R154.
 */
const KPROBE_FLAGS = 'd.Z..';
const KPROBE_FLAGS_NOT_NMI = 'd....';
/**
 * An ftrace-based probe (§12) runs in the probed context, preemption disabled by ftrace (R93); so
 * does the optimized callback behind an optimized probe's jump (R86).
 */
const IN_CONTEXT_FLAGS = '...1.';
/** The kretprobe handler runs from the trampoline, in the task's context with interrupts off. */
const KRETPROBE_FLAGS = 'd....';

export class TraceRecords implements Projection {
  private pending: TraceRecord[] = [];
  /** The session's probes by model name. */
  readonly probes = new Map<string, ProbeDefinition>();

  private readonly layout: TraceLayout;
  /** Whether the breakpoint handler runs as an NMI on this release and arch. */
  private readonly breakpointIsNmi: boolean;

  constructor(
    private readonly symbols: SymbolTable,
    kernel: KernelVersion,
    /** Write no record for an event past this seq (`kprobesim trace LOG --at SEQ`). */
    private readonly upTo = Infinity,
  ) {
    this.layout = traceLayout(kernel);
    this.breakpointIsNmi = breakpointIsNmi(symbols.image.arch, kernel);
  }

  observe(before: KernelState, e: LoggedEvent): void {
    if (e.type !== 'handler.enter' || e.seq > this.upTo) return;
    const def = this.probes.get(e.probe);
    if (def === undefined || e.phase !== (def.kind === 'kprobe' ? 'pre' : 'ret')) return;
    const cpu = before.cpus[e.cpu]!;
    const task = currentTask(before, e.cpu);
    const frame = task?.frames ?? null;
    if (task === undefined || frame === null) return;
    const base = { group: def.group, event: def.event, comm: task.comm, pid: task.pid, cpu: e.cpu, timestampNs: BigInt(e.t) * 1000n };
    if (def.kind === 'kprobe') {
      const ip = BigInt(cpu.current ?? '0x0');
      const fn = this.symbols.lookup(frame.fn);
      // `%ip`/`%pc` read regs as the handler got them (x86: past the int3; arm64: the BRK itself);
      // the record's own `__probe_ip` is the probe address.
      const regsIp = breakpointPc(this.symbols.image.arch, ip);
      const ctx = probedContext(this.symbols, { task, frame, ip: regsIp, atEntry: fn !== undefined && fn.addr === ip, retval: null });
      this.pending.push({
        ...base,
        flags: contextFlags(this.layout, isFtraceSite(this.symbols, ip) || cpu.opt_run ? IN_CONTEXT_FLAGS : this.breakpointIsNmi ? KPROBE_FLAGS : KPROBE_FLAGS_NOT_NMI),
        location: this.where(ip),
        ip,
        args: def.args.map((a) => evalArg(a.fetch, a.type, ctx)),
        stack: stackNames(this.symbols, frame),
      });
      return;
    }
    const tramp = cpu.trampoline;
    if (tramp === null) return;
    const fn = this.symbols.lookup(tramp.fn);
    const retIp = returnAddress(this.symbols, frame);
    const ctx = probedContext(this.symbols, { task, frame, ip: retIp, atEntry: false, retval: BigInt(tramp.ret) });
    this.pending.push({
      ...base,
      flags: contextFlags(this.layout, KRETPROBE_FLAGS),
      location: `${this.where(retIp)} <- ${tramp.fn}`,
      ip: fn?.addr ?? 0n,
      retIp,
      args: def.args.map((a) => evalArg(a.fetch, a.type, ctx)),
      stack: stackNames(this.symbols, frame.up),
    });
  }

  /** R152: `sym+0xoff/0xsize`, module symbols with ` [mod]`, else `0x%08lx`. */
  private where(addr: bigint): string {
    const s = this.symbols.containing(addr);
    if (s === undefined) return `0x${addr.toString(16).padStart(8, '0')}`;
    const mod = s.kind === 'func' && s.module !== undefined ? ` [${s.module}]` : '';
    return `${s.name}+0x${(addr - s.addr).toString(16)}/0x${s.size.toString(16)}${mod}`;
  }

  /** The records since the last call, in the order the handlers ran. */
  drain(): TraceRecord[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}
