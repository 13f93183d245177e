import { DEFAULT_KERNEL, type SymbolTable } from '../kernel/index.ts';
import type { KernelState, ProbeReg, ProbeStats } from '../model/state.ts';
import { errnoText } from '../errno.ts';
import { count } from './count.ts';
import type { Scenario } from '../scenario/types.ts';
import { INVARIANTS, type Violation } from '../monitors/invariants.ts';
import { own } from '../model/own.ts';
import type { ExpectFailure } from '../expect/monitor.ts';
import type { KcsanReport } from '../kcsan/index.ts';

// The text `kprobesim run` prints when a run ends: what ran, how it ended, each probe's counts,
// the invariant verdicts, the kernel bugs the run reproduced, the start of the kernel log, and
// the digest that replay will check.

export interface SummaryInput {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly strategy: string;
  readonly state: KernelState;
  readonly events: number;
  readonly endReason: string;
  readonly violations: readonly Violation[];
  readonly dmesg: readonly string[];
  readonly digest: string;
  readonly symbols: SymbolTable;
  readonly logNote: string | null;
  /** `run --dmesg` prints the whole kernel log after the summary: the summary does not abridge it too. */
  readonly dmesgFollows?: boolean;
  /**
   * The scenario as loaded, before --cpus, --kernel, --arch or --config changed it: the summary
   * names each override, so a description written for the original ("4 CPUs") is not taken for
   * what ran.
   */
  readonly asLoaded?: Scenario;
  /** The scenario's `expect` assertions that failed (scenario.expect has them all). */
  readonly expectFailures?: readonly ExpectFailure[];
  /** The planted bug the run's kernel has (`--mutant`), if any. */
  readonly mutant?: string;
  /** KCSAN's data races on module memory (src/kcsan); absent when the run has no C module. */
  readonly kcsan?: readonly KcsanReport[];
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => '  ' + r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
}

const END_TEXT: Record<string, string> = {
  done: 'every task finished',
  limit: 'the step limit was reached',
  task_limit: 'the task limit was reached (a fork took the live tasks past max_tasks)',
  deadlock: 'DEADLOCK: tasks remain but nothing can run (INV-progress)',
  bug: 'the kernel halted on a BUG',
};

/** ` arm64`, ` (ftrace, optprobes, no preemption)`: what the kernel is when not the plain x86_64 build. */
function buildText(scenario: Scenario): string {
  const c = scenario.config ?? {};
  const options = [c.ftrace && 'ftrace', c.ibt && 'ibt', c.optprobes && 'optprobes', c.preempt === false && 'no preemption'].filter((o) => typeof o === 'string');
  return `${scenario.arch !== undefined && scenario.arch !== 'x86_64' ? ` ${scenario.arch}` : ''}${options.length > 0 ? ` (${options.join(', ')})` : ''}`;
}

/** The STATE column: the probe's lifecycle, or `refused` when its latest registration failed. */
function stateText(reg: ProbeReg, c: ProbeStats): string {
  if (reg.gone) return 'gone';
  return reg.state === 'unregistered' && c.refused_last ? 'refused' : reg.state;
}

const REGISTER_FN = { kprobe: 'register_kprobe', kretprobe: 'register_kretprobe', jprobe: 'register_jprobe' } as const;

/**
 * Each registration the kernel refused, with the errno its caller got and why (§3: R21-R28), from
 * the fold's record of `kprobe.register.fail`: nothing in the kernel remembers a refusal, so
 * without this a refused probe would look merely unregistered.
 */
function refusals(scenario: Scenario, st: KernelState): string[] {
  const rows: string[][] = [];
  for (const p of scenario.probes) {
    for (const r of own(st.stats, p.name)?.refused ?? []) {
      const times = r.count > 1 ? ` (${r.count} times)` : '';
      rows.push([p.name, `${REGISTER_FN[p.kind ?? 'kprobe']} returned ${errnoText(r.errno)}${times}: ${r.reason}`]);
    }
  }
  if (rows.length === 0) return [];
  const width = Math.max(...rows.map(([name]) => name!.length));
  return ['registration failures:', ...rows.map(([name, what]) => `  ${name!.padEnd(width)}  ${what}`), ''];
}

/** What the command-line options changed in the scenario, as `--cpus 64 (the scenario's: 4)`. */
function overrides(loaded: Scenario, ran: Scenario): string[] {
  const kernel = (sc: Scenario) => sc.kernel ?? DEFAULT_KERNEL;
  const arch = (sc: Scenario) => sc.arch ?? 'x86_64';
  const options = (sc: Scenario) => buildText({ ...sc, arch: 'x86_64' }).replace(/^ \((.*)\)$/, '$1') || 'none';
  const out: string[] = [];
  if (ran.cpus !== loaded.cpus) out.push(`--cpus ${ran.cpus} (the scenario's: ${loaded.cpus})`);
  if (kernel(ran) !== kernel(loaded)) out.push(`--kernel ${kernel(ran)} (the scenario's: ${kernel(loaded)})`);
  if (arch(ran) !== arch(loaded)) out.push(`--arch ${arch(ran)} (the scenario's: ${arch(loaded)})`);
  if (options(ran) !== options(loaded)) out.push(`--config: ${options(ran)} (the scenario's: ${options(loaded)})`);
  return out;
}

export function renderSummary(s: SummaryInput): string {
  const st = s.state;
  const out: string[] = [];
  out.push(`scenario ${s.scenario.name}: ${s.scenario.description}`);
  const changed = s.asLoaded === undefined ? [] : overrides(s.asLoaded, s.scenario);
  if (changed.length > 0) out.push(`run with options that change it: ${changed.join(', ')}`);
  out.push(`seed ${s.seed}, ${count(st.cpus.length, 'CPU')}, kernel ${s.scenario.kernel ?? DEFAULT_KERNEL}${buildText(s.scenario)}, ${s.strategy} schedule`);
  if (s.mutant !== undefined) out.push(`MUTANT kernel: ${s.mutant} (a planted bug: kprobesim mutants says which)`);
  out.push(`ended: ${END_TEXT[s.endReason] ?? s.endReason} after ${count(st.sched.steps, 'step')}, ${count(s.events, 'event')} (t=${st.t})`);
  out.push('');
  if (s.scenario.probes.length > 0) {
    out.push('probes:');
    const rows = [['NAME', 'WHERE', 'HITS', 'NMISSED', 'PRE', 'POST', 'SKIPPED', 'STATE']];
    for (const p of s.scenario.probes) {
      const reg = own(st.kprobes.probes, p.name)!;
      const c = own(st.stats, p.name)!;
      const where = reg.addr ? (s.symbols.format(BigInt(reg.addr)) ?? reg.addr) : p.symbol ? `${p.symbol}+0x${(p.offset ?? 0).toString(16)}` : (p.addr ?? '?');
      rows.push([p.name, where, ...[c.hits, c.nmissed, c.pre_calls, c.post_calls, c.skipped].map(String), stateText(reg, c)]);
    }
    out.push(...table(rows), '');
    out.push(...refusals(s.scenario, st));
    const pools = s.scenario.probes.filter((p) => p.kind === 'kretprobe');
    if (pools.length > 0) {
      // R74: pool exhaustion is rp->nmissed, apart from the entry probe's reentrant misses.
      const prow = [['KRETPROBE', 'MAXACTIVE', 'FREE', 'RP_NMISSED', 'RETURNS']];
      for (const p of pools) {
        const pool = own(st.kretprobes, p.name);
        prow.push([p.name, ...[pool?.maxactive ?? 0, pool?.free ?? 0, pool?.nmissed ?? 0, own(st.stats, p.name)?.ret_calls ?? 0].map(String)]);
      }
      out.push(...table(prow), '');
    }
  }
  const byInv = new Map<string, Violation[]>();
  for (const v of s.violations) byInv.set(v.inv, [...(byInv.get(v.inv) ?? []), v]);
  out.push(
    `invariants: ${s.violations.length === 0 ? 'all hold' : count(s.violations.length, 'violation')}`,
    ...INVARIANTS.map((inv) => {
      const vs = byInv.get(inv);
      return vs === undefined ? `  ${inv}: ok` : `  ${inv}: VIOLATED at seq ${vs[0]!.seq}: ${vs[0]!.message}${vs.length > 1 ? ` (+${vs.length - 1} more)` : ''}`;
    }),
  );
  const expects = s.scenario.expect ?? [];
  if (expects.length > 0) {
    const failed = s.expectFailures ?? [];
    out.push(`expectations: ${failed.length === 0 ? `all ${expects.length} hold` : `${failed.length} of ${expects.length} FAILED`}`, ...failed.map((f) => `  ${f.message}`));
  }
  if (s.kcsan !== undefined) {
    const r = s.kcsan;
    out.push(`data races (KCSAN): ${r.length === 0 ? 'none' : r.length}`, ...r.slice(0, 5).map((x) => `  seq ${x.seq}: ${x.title} (${x.second.by} on cpu ${x.second.cpu}, ${x.first.by} on cpu ${x.first.cpu})`));
  }
  const bugs = s.dmesg.filter((l) => /\] (BUG: |Unrecoverable kprobe|Oops: )/.test(l));
  out.push(`kernel bugs reproduced: ${bugs.length === 0 ? 'none' : bugs.length}`, ...bugs.slice(0, 5).map((l) => `  ${l}`));
  out.push('');
  if (s.dmesgFollows) {
    out.push(`dmesg: ${count(s.dmesg.length, 'line')}, printed in full below`);
  } else {
    const shown = s.dmesg.slice(0, 12);
    out.push(`dmesg (${shown.length < s.dmesg.length ? `first ${shown.length} of ${count(s.dmesg.length, 'line')}` : count(s.dmesg.length, 'line')}):`);
    out.push(...shown.map((l) => `  ${l}`));
  }
  out.push('', `digest: ${s.digest}`);
  if (s.logNote !== null) out.push(`log: ${s.logNote}`);
  return out.join('\n') + '\n';
}
