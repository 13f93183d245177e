import type { SymbolTable } from '../kernel/index.ts';
import type { EventOf, LoggedEvent } from '../model/events.ts';
import { instanceProbe } from '../model/evolve.ts';
import type { CpuState, KernelState } from '../model/state.ts';
import type { Projection } from './folder.ts';
import { errnoText } from '../errno.ts';
import { count } from './count.ts';
import { probeName } from '../model/fold/input.ts';
import { own } from '../model/own.ts';

// `kprobesim why LOG --probe NAME`: the story behind a probe's numbers. Each nmissed increment
// with the CPU, the kprobe that was running there and its status (R50), and each unregister of
// the probe with what it waited for: the CPUs its text-patch sync waited for (R55) and the CPUs
// its grace period waited for (R65), until when.

interface Miss {
  readonly seq: number;
  readonly t: number;
  readonly cpu: number;
  readonly pid: number;
  /** What happened on the CPU, after "cpu N (pid P) ". */
  readonly what: string;
  readonly nmissed: number;
}

interface Wait {
  readonly what: 'text-patch sync' | 'grace period';
  readonly gen: number;
  readonly seq: number;
  readonly t: number;
  /** CPU → what it was doing when the wait began. */
  readonly cpus: Map<number, string>;
  /** CPU → seq and t at which it released the wait. */
  readonly released: Map<number, { seq: number; t: number }>;
  end?: { seq: number; t: number };
}

interface Unregister {
  readonly fn: string;
  readonly pid: number;
  readonly cpu: number;
  readonly seq: number;
  readonly t: number;
  readonly waits: Wait[];
  end?: { seq: number; t: number };
}

const FAULT_OUTCOME = { fault_handler: 'handled by its fault_handler', fixup: 'fixed up by the exception table', oops: 'an oops' } as const;

function doing(c: CpuState, probes: (p: string) => string): string {
  if (c.handler !== null) return `in ${c.handler.probe}'s ${c.handler.phase}-handler (${c.status})`;
  if (c.trap !== null) return `between a breakpoint trap at ${probes(c.trap)} and its probe lookup`;
  if (c.status !== 'idle') return `handling ${c.probes.join(', ')} in ${c.status}`;
  return `preempt_count ${c.preempt_count}`;
}

export class WhyView implements Projection {
  private readonly misses: Miss[] = [];
  /** kretprobe entries that found no instance (R73, R74), with how many were out then. */
  private readonly poolMisses: {
    seq: number;
    t: number;
    cpu: number;
    pid: number;
    reason: string;
    out: number;
    maxactive: number;
    holders: number[];
  }[] = [];
  /** register_* calls that refused the probe (§3), with the errno their caller got. */
  private readonly refusals: { seq: number; t: number; cpu: number; pid: number; errno: number; reason: string }[] = [];
  /** Registrations that succeeded (`kprobe.registered`). */
  private registered = 0;
  private readonly calls: Unregister[] = [];
  /** Open calls by pid. */
  private readonly open = new Map<number, Unregister>();

  constructor(
    readonly probe: string,
    private readonly symbols: SymbolTable,
  ) {}

  private where(addr: string): string {
    return this.symbols.format(BigInt(addr)) ?? addr;
  }

  /** What a CPU was doing when `e` counted a miss, and the rule that counted it. */
  private missed(c: CpuState, e: EventOf<'kprobe.miss' | 'kprobe.ftrace.miss' | 'kprobe.opt.miss' | 'kprobe.fault'>): string {
    const where = (a: string) => this.where(a);
    const running = c.probes.join(', ') || (c.current === null ? '?' : where(c.current));
    switch (e.type) {
      case 'kprobe.miss':
      case 'kprobe.ftrace.miss': {
        // An ftrace-based miss (R91) has no REENTER: the CPU's own status says what was running.
        const status = e.type === 'kprobe.miss' ? e.status : c.status;
        const outer = c.handler !== null ? doing(c, where) : `${c.probes.join(', ')} in ${status}`;
        return `hit ${where(e.addr)} while ${running} was running: ${outer}; no handler ran (${e.type === 'kprobe.miss' ? 'R50' : 'R91, through ftrace'})`;
      }
      case 'kprobe.opt.miss':
        // R86: the optimized callback found a kprobe running on this CPU: a miss on every child.
        return `hit ${where(e.addr)} while ${running} was running: ${doing(c, where)}; no handler ran (R86, through the optimized jump)`;
      case 'kprobe.fault':
        // R58 (before v5.14): kprobe_fault_handler() counts a miss for a fault in a handler.
        return `took a fault ${doing(c, where)} at ${c.current === null ? '?' : where(c.current)} (${FAULT_OUTCOME[e.outcome]}); kprobe_fault_handler() counted it as a miss (R58, before v5.14)`;
    }
  }

  observe(before: KernelState, e: LoggedEvent, after: KernelState): void {
    switch (e.type) {
      case 'kprobe.miss':
      case 'kprobe.ftrace.miss':
      case 'kprobe.opt.miss':
      case 'kprobe.fault': {
        if (!e.probes.includes(this.probe)) return;
        const { seq, t, cpu, pid } = e;
        this.misses.push({ seq, t, cpu, pid, what: this.missed(before.cpus[cpu]!, e), nmissed: own(after.stats, this.probe)?.nmissed ?? 0 });
        return;
      }
      case 'kretprobe.miss': {
        if (e.probe !== this.probe) return;
        const pool = own(before.kretprobes, e.probe);
        this.poolMisses.push({
          seq: e.seq,
          t: e.t,
          cpu: e.cpu,
          pid: e.pid,
          reason: e.reason,
          out: pool ? pool.maxactive - pool.free : 0,
          maxactive: pool?.maxactive ?? 0,
          // The tasks whose calls hold the instances: hooked on their frames, or just taken by
          // an entry hook still running on their CPU.
          holders: before.tasks
            .filter((t) => {
              for (let f = t.frames; f !== null; f = f.up) if (f.rp?.some((i) => instanceProbe(i) === e.probe)) return true;
              const hook = t.cpu === null ? null : (before.cpus[t.cpu]?.handler?.instance ?? null);
              return hook !== null && instanceProbe(hook) === e.probe;
            })
            .map((t) => t.pid),
        });
        return;
      }
      case 'kprobe.register.fail':
        if (e.probe === this.probe) this.refusals.push({ seq: e.seq, t: e.t, cpu: e.cpu, pid: e.pid, errno: e.errno, reason: e.reason });
        return;
      case 'kprobe.registered':
        if (e.probe === this.probe) this.registered++;
        return;
      case 'kprobe.unregister':
      case 'kprobe.disable_kprobe':
        if (e.probe !== this.probe) return;
        this.open.set(e.pid, {
          fn: e.type === 'kprobe.unregister' ? 'unregister_kprobe' : 'disable_kprobe',
          pid: e.pid,
          cpu: e.cpu,
          seq: e.seq,
          t: e.t,
          waits: [],
        });
        this.calls.push(this.open.get(e.pid)!);
        return;
      case 'text.sync.start':
      case 'rcu.gp.start': {
        const call = this.open.get(e.pid);
        if (call === undefined) return;
        const gen = e.type === 'text.sync.start' ? e.sync : e.gp;
        call.waits.push({
          what: e.type === 'text.sync.start' ? 'text-patch sync' : 'grace period',
          gen,
          seq: e.seq,
          t: e.t,
          cpus: new Map(e.waiting.map((id) => [id, doing(before.cpus[id]!, (a) => this.where(a))])),
          released: new Map(),
        });
        return;
      }
      case 'ipi.ack':
      case 'rcu.qs': {
        const what = e.type === 'ipi.ack' ? 'text-patch sync' : 'grace period';
        const gen = e.type === 'ipi.ack' ? e.sync : e.gp;
        for (const call of this.open.values()) {
          for (const w of call.waits) {
            if (w.what === what && w.gen <= gen && w.cpus.has(e.cpu) && !w.released.has(e.cpu)) w.released.set(e.cpu, { seq: e.seq, t: e.t });
          }
        }
        return;
      }
      case 'text.sync.end':
      case 'rcu.gp.end': {
        const call = this.open.get(e.pid);
        const w = call?.waits.at(-1);
        if (w !== undefined) w.end = { seq: e.seq, t: e.t };
        return;
      }
      case 'kprobe.unregistered':
      case 'kprobe.returned': {
        const call = this.open.get(e.pid);
        if (call === undefined || e.probe !== this.probe) return;
        call.end = { seq: e.seq, t: e.t };
        this.open.delete(e.pid);
        return;
      }
      default:
        return;
    }
  }

  /** The first line: the probe's counts, or that it never got registered. */
  private headline(final: KernelState): string {
    const s = own(final.stats, this.probe);
    if (s === undefined) return `probe ${this.probe}: no such probe in this run`;
    if (this.registered === 0 && this.refusals.length > 0) {
      return `probe ${this.probe}: never registered: the kernel refused every registration (${this.refusals.length}), so it could not be hit`;
    }
    return `probe ${this.probe}: ${count(s.hits, 'hit')}: ${s.handled} handled, ${s.nmissed} missed (nmissed), ${s.skipped} skipped while disabled`;
  }

  /** A few lines for `why LOG` without --probe: the headline and how much of each story there is. */
  brief(final: KernelState): string[] {
    const stories = [
      count(this.misses.length, 'nmissed increment'),
      ...(own(final.kretprobes, this.probe) !== undefined ? [count(this.poolMisses.length, 'pool miss', 'pool misses')] : []),
      count(this.calls.length, 'unregister/disable call'),
    ];
    const refused = new Map<string, number>();
    for (const r of this.refusals) {
      const key = `${errnoText(r.errno)}: ${r.reason}`;
      refused.set(key, (refused.get(key) ?? 0) + 1);
    }
    return [
      this.headline(final),
      `  ${stories.join(', ')}`,
      ...[...refused].map(([what, n]) => `  register_kprobe returned ${what}${n > 1 ? ` (${n} times)` : ''}`),
    ];
  }

  text(final: KernelState): string {
    const out: string[] = [];
    const at = (p: { seq: number; t: number }) => `seq ${p.seq} (t=${p.t})`;
    out.push(this.headline(final));
    if (this.refusals.length > 0) {
      // §3: a refusal changes nothing in the kernel (INV-validate); only the caller sees the errno.
      out.push('', `registration failures (${this.refusals.length}):`);
      for (const r of this.refusals) {
        out.push(`  ${at(r)}: register_kprobe(${this.probe}) by pid ${r.pid} on cpu ${r.cpu} returned ${errnoText(r.errno)}: ${r.reason}; nothing was registered`);
      }
    }
    out.push('', `nmissed increments (${this.misses.length}):`);
    if (this.misses.length === 0) out.push('  none: every hit found its CPU free of other kprobes (R50)');
    for (const m of this.misses) {
      out.push(
        `  ${at(m)}: cpu ${m.cpu} (pid ${m.pid}) ${m.what}; nmissed is now ${m.nmissed}`,
      );
    }
    const pool = own(final.kretprobes, this.probe);
    if (pool !== undefined) {
      out.push('', `kretprobe pool misses, rp->nmissed (${this.poolMisses.length}; maxactive ${pool.maxactive}):`);
      if (this.poolMisses.length === 0) out.push('  none: every entry found a free instance (R73)');
      for (const m of this.poolMisses) {
        const why =
          m.reason === 'empty'
            ? `all ${m.out} of ${m.maxactive} instances were out with calls still running${m.holders.length ? ` (in pids ${m.holders.join(', ')})` : ''}`
            : 'the kretprobe was being unregistered (its pool detached)';
        out.push(`  ${at(m)}: cpu ${m.cpu} (pid ${m.pid}) entered the function but ${why}; no entry handler, no return handler (R73, R74)`);
      }
    }
    out.push('', `unregister/disable calls (${this.calls.length}):`);
    if (this.calls.length === 0) out.push('  none');
    for (const c of this.calls) {
      out.push(`  ${c.fn}(${this.probe}) by pid ${c.pid} on cpu ${c.cpu}, called at ${at(c)}:`);
      for (const w of c.waits) {
        const rule = w.what === 'text-patch sync' ? 'R55' : 'R65';
        if (w.cpus.size === 0) {
          out.push(`    ${w.what} ${w.gen} at ${at(w)}: waited for no CPU (${rule})`);
          continue;
        }
        out.push(`    ${w.what} ${w.gen} at ${at(w)}: waited for ${w.cpus.size === 1 ? 'cpu' : 'cpus'} ${[...w.cpus.keys()].join(', ')} (${rule})`);
        for (const [cpu, what] of w.cpus) {
          const r = w.released.get(cpu);
          out.push(`      cpu ${cpu} was ${what}; ${r ? `released it at ${at(r)}` : 'never released it'}`);
        }
        if (w.end) out.push(`      the wait ended at ${at(w.end)}`);
      }
      out.push(c.end ? `    returned at ${at(c.end)}` : '    had not returned when the log ends');
    }
    return out.join('\n') + '\n';
  }
}

/**
 * `kprobesim why LOG` without --probe: every probe of the run briefly, in the order they appear
 * (a scenario's, then those a shell session defined), failed registrations included.
 */
export class WhyAllView implements Projection {
  private readonly views = new Map<string, WhyView>();

  constructor(
    probes: readonly string[],
    private readonly symbols: SymbolTable,
  ) {
    for (const p of probes) this.views.set(p, new WhyView(p, symbols));
  }

  observe(before: KernelState, e: LoggedEvent, after: KernelState): void {
    if (e.type === 'input.probe') {
      const name = probeName(e.probe);
      if (!this.views.has(name)) this.views.set(name, new WhyView(name, this.symbols));
    }
    for (const v of this.views.values()) v.observe(before, e, after);
  }

  text(final: KernelState, log: string): string {
    if (this.views.size === 0) return 'no probes in this run\n';
    const out: string[] = [];
    for (const v of this.views.values()) out.push(...v.brief(final), '');
    out.push(`each in full: kprobesim why ${log} --probe NAME`);
    return out.join('\n') + '\n';
  }
}
