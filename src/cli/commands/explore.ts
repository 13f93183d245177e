import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { explore } from '../../explore/explore.ts';
import { checkReport, mergeReports } from '../../explore/merge.ts';
import { reportText, type ExploreReport, type ExploreStrategyName, type FailureReport } from '../../explore/report.ts';
import { InputError } from '../../errors.ts';
import type { Arch, KernelVersion } from '../../kernel/index.ts';
import type { MutantName } from '../../kprobes/mutants.ts';
import { loadScenario } from '../../scenario/load.ts';
import { describe } from '../../scheduler/strategies.ts';
import { EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK } from '../errors.ts';
import { moduleScenario, withModuleFlags } from '../module-flags.ts';
import { out, writeFileAtomically } from '../io.ts';
import { progressWriter, type ProgressMode } from '../progress-line.ts';
import { withOverrides } from './run.ts';

export interface ExploreFlags {
  strategy: ExploreStrategyName;
  runs: number;
  seed: number;
  depth?: number;
  preemptionBound?: number;
  workers: number;
  shard?: { index: number; count: number };
  out: string;
  report?: string;
  keepGoing: boolean;
  mutant?: MutantName;
  cpus?: number;
  kernel?: KernelVersion;
  arch?: Arch;
  config?: string;
  /** Kernel modules in C loaded around the workload, as on `run` (issue 12). */
  module?: string[];
  moduleParam?: string[];
  /** auto: a line redrawn on a terminal, nothing elsewhere; plain: a line now and then; off. */
  progress?: ProgressMode;
}

/** One failure, as the command prints it: what, where found, the shrunk schedule, and how to look at it. */
function failureLines(f: FailureReport, i: number): string[] {
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : w.endsWith('h') ? 'es' : 's'}`;
  const lines = [
    `failure ${i + 1}: run ${f.run} (${f.strategy}, seed ${f.seed}): ${f.message}`,
    `  shrunk to ${plural(f.preemptions, 'preemption')}, ${plural(f.context_switches, 'context switch')} in ${plural(f.decisions, 'decision')} (from ${plural(f.preemptions_before_shrinking, 'preemption')}, ${plural(f.context_switches_before_shrinking, 'context switch')} in ${plural(f.decisions_before_shrinking, 'decision')})`,
  ];
  for (const p of f.schedule) lines.push(`  preempt at decision ${p.at}: ${describe(p)}${p.label === undefined ? '' : ` (${p.label})`}`);
  // The story (./story.ts); bug depth: the orderings that must hold, one per kept preemption.
  if (f.story !== undefined) {
    lines.push(`  story (${plural(f.preemptions, 'preemption')}, bug depth ${f.preemptions}):`);
    for (const s of f.story) lines.push(`    ${s}`);
  }
  const b = f.scenario_before;
  const a = f.scenario_after;
  if (a === null) lines.push(`  scenario not shrunk: ${f.scenario_not_shrunk}`);
  else lines.push(`  scenario shrunk to ${a.tasks}/${b.tasks} tasks, ${a.probes}/${b.probes} probes, ${a.operations}/${b.operations} operations, ${a.handler_steps}/${b.handler_steps} handler steps, ${a.cpus}/${b.cpus} CPUs`);
  if (f.log !== null) lines.push(`  log: ${f.log}`, `  replay: kprobesim replay ${f.log}`, `  explain: kprobesim why ${f.log}`, `  view: kprobesim view ${f.log}`);
  return lines;
}

function verdict(r: ExploreReport): string {
  const what = `${r.runs} run${r.runs === 1 ? '' : 's'} (${r.strategy}, seed ${r.seed}, ${r.distinct_states} distinct states)`;
  if (r.failures.length === 0) return `OK: no failure in ${what}`;
  const checks = [...new Set(r.failures.map((f) => f.check))].join(', ');
  return `FAILED: ${r.failures.length} failure${r.failures.length === 1 ? '' : 's'} (${checks}) in ${what}`;
}

/** --out must be a directory (or not exist yet); --report a file in an existing directory. */
async function checkOutputs(flags: ExploreFlags): Promise<void> {
  const kind = (path: string) => stat(path).then((st) => (st.isDirectory() ? 'dir' : 'file'), () => null);
  if ((await kind(flags.out)) === 'file') throw new InputError('--out', `${flags.out} is not a directory`);
  if (flags.report !== undefined) {
    if ((await kind(flags.report)) === 'dir') throw new InputError('--report', `${flags.report} is a directory; give the report's file name`);
    if ((await kind(dirname(flags.report))) !== 'dir') throw new InputError('--report', `${dirname(flags.report)}: no such directory`);
  }
}

export async function exploreCommand(arg: string | undefined, flags: ExploreFlags): Promise<number> {
  const modules = flags.module ?? [];
  // As on `run`: with --module and no scenario, the workload is the modules' own.
  const loaded = modules.length > 0 && arg === undefined ? moduleScenario('explore', modules) : await loadScenario(arg ?? 'default');
  let scenario = withOverrides(loaded, flags);
  if (modules.length > 0) {
    const withModules = await withModuleFlags(scenario, modules, flags.moduleParam ?? []);
    if (withModules === null) return EXIT_BAD_INPUT;
    scenario = withModules;
  }
  if (flags.strategy === 'dfs' && flags.shard !== undefined) throw new InputError('--shard', 'dfs explores one tree, each run depending on the ones before it, and cannot be split into shards (use random, pct, swarm or portfolio)');
  if (flags.strategy !== 'dfs' && flags.preemptionBound !== undefined) throw new InputError('--preemption-bound', `bounds the dfs strategy only (--strategy is ${flags.strategy})`);
  if (flags.strategy === 'random' || flags.strategy === 'swarm') {
    if (flags.depth !== undefined) throw new InputError('--depth', `is PCT's bug depth or dfs's branching depth (--strategy is ${flags.strategy})`);
  }
  // Where the results go is checked before the runs, not after them.
  await checkOutputs(flags);
  // Wall-clock time for the progress line on stderr only; the report never sees it.
  const progress = progressWriter(flags.progress ?? 'auto', process.stderr, Date.now);
  let report: ExploreReport;
  try {
    report = await explore(scenario, {
      strategy: flags.strategy,
      runs: flags.runs,
      seed: flags.seed,
      ...(flags.depth !== undefined ? { depth: flags.depth } : {}),
      ...(flags.preemptionBound !== undefined ? { preemptionBound: flags.preemptionBound } : {}),
      workers: flags.workers,
      ...(flags.shard !== undefined ? { shard: flags.shard } : {}),
      keepGoing: flags.keepGoing,
      ...(flags.mutant !== undefined ? { mutant: flags.mutant } : {}),
      out: flags.out,
      onProgress: progress.update,
    });
  } finally {
    progress.done();
  }
  const lines = [
    `explore ${scenario.name}: ${flags.strategy}, ${flags.runs} runs${flags.shard === undefined ? '' : ` (shard ${flags.shard.index}/${flags.shard.count})`}, seed ${flags.seed}, ${scenario.cpus} CPUs${report.mutant === null ? '' : `, MUTANT kernel ${report.mutant}`}`,
  ];
  if (report.pct !== null) {
    const { d, k, n, guarantee } = report.pct;
    lines.push(`PCT: depth d=${d}, k=${k} branch points (the default schedule's decisions that may preempt), n=${n} threads (CPUs and tasks): a run finds a bug of depth ${d} with probability at least 1/(n·k^(d−1)) = ${guarantee.toPrecision(3)}`);
  }
  if (report.dfs !== null) {
    const { depth, preemption_bound, exhausted } = report.dfs;
    lines.push(`dfs: at most ${preemption_bound} preemptions, branching at ${depth === null ? 'every decision' : `the first ${depth} decisions`}: ${exhausted ? 'every schedule within these bounds was run' : 'stopped before every schedule within these bounds was run'}`);
  }
  report.failures.forEach((f, i) => lines.push(...failureLines(f, i)));
  if (flags.report !== undefined) {
    await writeFileAtomically(flags.report, reportText(report), true);
    lines.push(`report: ${flags.report}`);
  }
  lines.push(verdict(report));
  out(lines.join('\n') + '\n');
  return report.failures.length > 0 ? EXIT_CHECK_FAILED : EXIT_OK;
}

/** `kprobesim explore merge REPORT...`: the merged report as JSON on standard output. */
export async function exploreMergeCommand(files: readonly string[]): Promise<number> {
  const reports: ExploreReport[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new InputError(file, `not JSON: ${(e as Error).message}`);
    }
    reports.push(checkReport(value, file));
  }
  const merged = mergeReports(reports, files);
  out(reportText(merged));
  return merged.failures.length > 0 ? EXIT_CHECK_FAILED : EXIT_OK;
}
