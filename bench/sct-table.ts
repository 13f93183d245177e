// Issue 12's strategy table, as SCTBench lays its tables out: for each planted-bug kernel
// (src/kprobes/mutants.ts, on its built-in scenario) and each racy module of
// examples/modules/races/, the runs each strategy needs to its first failure, the median over
// exploration seeds 1..10 (budget 10,000 runs), and how many seeds found it; dfs, deterministic,
// gives one number. The correct kernel and the locked module are rows too, which must find
// nothing. Runs go through the per-run machinery (runBatch, exploreDfs) and stop at the first
// failure: this measures finding, not shrinking. Every count is seeded, so the table is the same
// on every machine; only `seconds` varies. `npx tsx bench/sct-table.ts` prints it.

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cModuleSpec, withCModules } from '../src/cexec/index.ts';
import { moduleScenario } from '../src/cli/module-flags.ts';
import { runBatch, type IndependentStrategy } from '../src/explore/batch.ts';
import { exploreDfs } from '../src/explore/dfs.ts';
import { executeRun } from '../src/explore/execute.ts';
import { DEFAULT_PCT_DEPTH, DEFAULT_PREEMPTION_BOUND } from '../src/explore/explore.ts';
import { MUTANT_INFO, MUTANTS, type MutantName } from '../src/kprobes/mutants.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { forcedStrategy } from '../src/scheduler/strategies.ts';
import Tinypool from 'tinypool';

export const SCT_STRATEGIES = ['random', 'pct', 'swarm', 'portfolio'] as const satisfies readonly IndependentStrategy[];
export type SctStrategy = (typeof SCT_STRATEGIES)[number];

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
/** The racy modules, relative to the repository (as a user passes them to --module). */
export const RACES_DIR = 'examples/modules/races';

/**
 * One row: a scenario, on a mutant kernel or not. `expect: 'failure'` rows are bugs to find;
 * `expect: 'none'` rows are correct code, where any failure is a false positive.
 */
export interface SctCase {
  readonly name: string;
  /** A planted-bug kernel on a built-in scenario, or a C module of examples/modules/races/. */
  readonly kind: 'kernel' | 'module';
  readonly scenario: Scenario;
  readonly mutant?: MutantName;
  readonly expect: 'failure' | 'none';
}

/** A seed's first failing run (index + 1), or how far it was run without one. */
export type SeedOutcome =
  | { readonly seed: number; readonly found: true; readonly first: number; readonly check: string }
  /** `ranTo` runs without a failure: the whole budget, or a cap past which it cannot matter (`censored`). */
  | { readonly seed: number; readonly found: false; readonly ranTo: number; readonly censored: boolean };

export interface SctCell {
  readonly strategy: SctStrategy;
  /** The seeds run, in order; seeds left out once the median was decided are not listed. */
  readonly outcomes: readonly SeedOutcome[];
  /** The median over all the seeds of the first failing run; null: not found (over the budget). */
  readonly median: number | null;
  /** Seeds that found it within the budget. */
  readonly found: number;
  /** Whether `found` is exact (false: some seeds were stopped early, so it is a lower bound). */
  readonly foundExact: boolean;
  readonly runs: number;
}

export interface DfsCell {
  /** Executions up to and including the first failing one; null: none within the budget. */
  readonly first: number | null;
  readonly runs: number;
  /** dfs ran every schedule within its preemption bound. */
  readonly exhausted: boolean;
}

export interface SctRow {
  readonly case: SctCase;
  /** Runs per seed (and dfs's executions) on this row. */
  readonly budget: number;
  readonly cells: readonly SctCell[];
  readonly dfs: DfsCell;
  /** The failure checks seen (the detector's `check`), sorted. */
  readonly checks: readonly string[];
}

export interface SctTableOptions {
  /** Runs per seed (and dfs's executions) on the mutant rows. Default 10,000. */
  readonly budget?: number;
  /** The same on the module rows (a module's run is slower: every step is visible). Default SCT_MODULE_BUDGET. */
  readonly moduleBudget?: number;
  /** Exploration seeds (each strategy runs each). Default 1..10. */
  readonly seeds?: readonly number[];
  /** Exploration seeds of the rows that must find nothing. Default 1..3. */
  readonly cleanSeeds?: readonly number[];
  /** Worker threads running columns side by side (1: this thread). Default 2. */
  readonly workers?: number;
  /** The rows with bugs. Default: every mutant and the racy modules (sctCases()). */
  readonly cases?: readonly SctCase[];
  /** Rows that must find nothing. Default: the correct kernel on the mutants' scenarios, the locked module. */
  readonly clean?: readonly SctCase[];
  /** Runs per seed on the clean rows. Default 10. */
  readonly cleanBudget?: number;
  /** The simulation seed of dfs (it has no exploration seeds). Default 1. */
  readonly dfsSeed?: number;
  /** Called as each cell is done (progress). */
  readonly onCell?: (row: string, column: string, seconds: number) => void;
}

export interface SctTable {
  readonly budget: number;
  readonly moduleBudget: number;
  readonly seeds: readonly number[];
  readonly cleanSeeds: readonly number[];
  readonly rows: readonly SctRow[];
  readonly clean: readonly SctRow[];
  readonly cleanBudget: number;
  readonly dfsSeed: number;
  /** Failures on rows that must have none (false positives: a bug of the checkers or the model). */
  readonly falsePositives: readonly string[];
  /** Whether pct or portfolio found every mutant row (median within the budget). */
  readonly pctFindsEveryMutant: boolean;
  readonly seconds: number;
}

/**
 * The median of the seeds' first failing runs, a seed that found nothing counting as +∞: the
 * middle value, or the mean of the two middle ones for an even count. null when it is +∞.
 */
export function medianOfFirsts(firsts: readonly (number | null)[]): number | null {
  if (firsts.length === 0) throw new Error('no seeds');
  const sorted = firsts.map((v) => v ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b);
  const hi = Math.floor(sorted.length / 2);
  const m = sorted.length % 2 === 1 ? sorted[hi]! : (sorted[hi - 1]! + sorted[hi]!) / 2;
  return Number.isFinite(m) ? m : null;
}

/**
 * How far the next seed must be run for the median of `n` seeds to come out exact, given the
 * outcomes so far (null: stop, the median is decided). The median reads the order statistics up
 * to the upper middle one, x(h) with h = ⌊n/2⌋ (0-based). Once n − h seeds found nothing within
 * the budget, x(h) is +∞ whatever the rest do. Once h + 1 seeds found it, their (h+1)-th smallest
 * first run c bounds the final x(h) from above, so a seed that has not failed by run c cannot be
 * among the order statistics the median reads: it is run to c at most (and is `censored`).
 */
export function nextCap(outcomes: readonly SeedOutcome[], n: number, budget: number): number | null {
  const hi = Math.floor(n / 2);
  const notFound = outcomes.filter((o) => !o.found && !o.censored).length;
  if (notFound >= n - hi || outcomes.length >= n) return null;
  const firsts = outcomes.flatMap((o) => (o.found ? [o.first] : [])).sort((a, b) => a - b);
  return firsts.length > hi ? Math.min(budget, firsts[hi]!) : budget;
}

/** The median over all n seeds from outcomes that nextCap drove (censored and left-out seeds are above it). */
export function cellMedian(outcomes: readonly SeedOutcome[], n: number): number | null {
  const firsts: (number | null)[] = outcomes.map((o) => (o.found ? o.first : null));
  while (firsts.length < n) firsts.push(null);
  return medianOfFirsts(firsts);
}

/** PCT's k for a seed: the default schedule's branch points (as explore() computes it). */
function pctLength(c: SctCase, seed: number): number {
  const spec = { scenario: c.scenario, seed, strategy: forcedStrategy('dfs', () => undefined), stopAtFailure: true, reduce: true };
  return executeRun(c.mutant === undefined ? spec : { ...spec, mutant: c.mutant }).branch.filter((b) => b).length;
}

/** One seed: runs 0, 1, … in order up to `cap`, stopping at the first failure. */
function runSeed(c: SctCase, strategy: SctStrategy, seed: number, cap: number, budget: number): SeedOutcome {
  const pct = { depth: DEFAULT_PCT_DEPTH, length: strategy === 'pct' || strategy === 'portfolio' ? pctLength(c, seed) : 0 };
  for (let i = 0; i < cap; i++) {
    const task = { scenario: c.scenario, seed, strategy, pct, indices: [i] };
    const [r] = runBatch(c.mutant === undefined ? task : { ...task, mutant: c.mutant });
    if (r!.failure !== null) return { seed, found: true, first: i + 1, check: r!.failure.check ?? r!.failure.kind };
  }
  return { seed, found: false, ranTo: cap, censored: cap < budget };
}

function cell(c: SctCase, strategy: SctStrategy, seeds: readonly number[], budget: number, checks: Set<string>): SctCell {
  const outcomes: SeedOutcome[] = [];
  for (const seed of seeds) {
    // A row that must find nothing runs every seed's whole budget: there is no median to decide.
    const cap = c.expect === 'none' ? budget : nextCap(outcomes, seeds.length, budget);
    if (cap === null) break;
    const o = runSeed(c, strategy, seed, cap, budget);
    if (o.found) checks.add(o.check);
    outcomes.push(o);
  }
  const found = outcomes.filter((o) => o.found).length;
  return {
    strategy,
    outcomes,
    median: cellMedian(outcomes, seeds.length),
    found,
    foundExact: outcomes.length === seeds.length && outcomes.every((o) => o.found || !o.censored),
    runs: outcomes.reduce((s, o) => s + (o.found ? o.first : o.ranTo), 0),
  };
}

async function dfsCell(c: SctCase, seed: number, budget: number, checks: Set<string>): Promise<DfsCell> {
  let first: number | null = null;
  const opts = { scenario: c.scenario, seed, runs: budget, depth: null, preemptionBound: DEFAULT_PREEMPTION_BOUND, reduce: true };
  const r = await exploreDfs(c.mutant === undefined ? opts : { ...opts, mutant: c.mutant }, new Set(), async (f) => {
    first = f.run + 1;
    checks.add(f.failure.check ?? f.failure.kind);
    return false;
  });
  return { first, runs: r.runs, exhausted: r.exhausted };
}

/** One column of one row: a strategy over the seeds, or dfs (what a worker thread runs). */
export interface ColumnJob {
  readonly case: SctCase;
  readonly column: SctStrategy | 'dfs';
  readonly seeds: readonly number[];
  readonly budget: number;
  readonly dfsSeed: number;
}

export type ColumnResult = { readonly cell: SctCell; readonly checks: readonly string[] } | { readonly dfs: DfsCell; readonly checks: readonly string[] };

export async function runColumn(job: ColumnJob): Promise<ColumnResult> {
  const checks = new Set<string>();
  if (job.column === 'dfs') {
    const dfs = await dfsCell(job.case, job.dfsSeed, job.budget, checks);
    return { dfs, checks: [...checks] };
  }
  const c = cell(job.case, job.column, job.seeds, job.budget, checks);
  return { cell: c, checks: [...checks] };
}

/** The worker's module; from the sources, through tsx's loader (as src/explore/pool.ts does). */
function workerModule(): string {
  const tsx = import.meta.resolve('tsx/esm/api');
  const worker = new URL('./sct-worker.ts', import.meta.url).href;
  const source = `const { register } = await import(${JSON.stringify(tsx)}); register(); const m = await import(${JSON.stringify(worker)}); export default m.default;`;
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

/** A row to run: its case, seeds and budget. */
interface RowPlan {
  readonly case: SctCase;
  readonly seeds: readonly number[];
  readonly budget: number;
}

/**
 * Every column of every row, on `workers` threads (1: this thread). Columns are independent
 * and each runs its seeds in order, so the results do not depend on how many threads ran them
 * or in which order. The module rows go first: their columns are the longest, and a long one
 * started last would leave the other thread idle at the end.
 */
async function runRows(plans: readonly RowPlan[], dfsSeed: number, workers: number, onCell: SctTableOptions['onCell']): Promise<SctRow[]> {
  const columns = [...SCT_STRATEGIES, 'dfs'] as const;
  const jobs: ColumnJob[] = plans.flatMap((p) => columns.map((column): ColumnJob => ({ case: p.case, column, seeds: p.seeds, budget: p.budget, dfsSeed })));
  const heavy = (j: ColumnJob) => (j.case.kind === 'module' && j.case.expect === 'failure' ? 0 : 1);
  const order = jobs.map((_, i) => i).sort((a, b) => heavy(jobs[a]!) - heavy(jobs[b]!) || a - b);
  const pool = workers > 1 ? new Tinypool({ filename: workerModule(), minThreads: workers, maxThreads: workers }) : null;
  try {
    const timed = async (job: ColumnJob): Promise<ColumnResult> => {
      const t0 = performance.now();
      const r = pool === null ? await runColumn(job) : ((await pool.run(job)) as ColumnResult);
      onCell?.(job.case.name, job.column, (performance.now() - t0) / 1000);
      return r;
    };
    const results: ColumnResult[] = new Array(jobs.length);
    if (pool === null) for (const i of order) results[i] = await timed(jobs[i]!);
    else await Promise.all(order.map(async (i) => (results[i] = await timed(jobs[i]!))));
    return plans.map((p, i) => {
      const mine = results.slice(i * columns.length, (i + 1) * columns.length);
      const cells = mine.flatMap((r) => ('cell' in r ? [r.cell] : []));
      const dfs = mine.flatMap((r) => ('dfs' in r ? [r.dfs] : []))[0]!;
      return { case: p.case, budget: p.budget, cells, dfs, checks: [...new Set(mine.flatMap((r) => r.checks))].sort() };
    });
  } finally {
    await pool?.destroy();
  }
}

/**
 * A module of examples/modules/races/ as `kprobesim explore --module FILE` runs it: loaded around
 * the default workload. `maxSteps` bounds a run that never fails (see SCT_MODULE_MAX_STEPS).
 */
export function moduleCase(file: string, expect: SctCase['expect'], maxSteps = SCT_MODULE_MAX_STEPS): SctCase {
  const rel = `${RACES_DIR}/${file}`;
  const code = readFileSync(path.join(repoRoot, rel), 'utf8');
  const base = moduleScenario('explore', [rel]);
  const scenario = validateScenario(withCModules({ ...base, max_steps: maxSteps }, [cModuleSpec(rel, code)]));
  return { name: file, kind: 'module', scenario, expect };
}

/**
 * The module rows' step limit, where `explore --module` has 1,000,000: a guard, no longer a
 * workaround. Before spin loops were yields (docs/explore.md), a PCT run that ranked the CPU
 * spinning on the locked counter's spinlock above the holder's spun to the fair liveness phase
 * (990,000 decisions); now every module run here fails or ends in ~900 decisions, and a
 * regression would cost ~35 normal runs per livelocked one instead of minutes.
 */
export const SCT_MODULE_MAX_STEPS = 30_000;

/**
 * The module rows' budget: a module's run takes ~850 decisions, every one visible (so ~10× a
 * mutant row's), and a strategy that never finds a race costs 5 seeds × the budget before its
 * median is decided; 10,000 would take hours, and the table must fit in bench/run.ts's minutes.
 */
export const SCT_MODULE_BUDGET = 200;

function builtin(name: string): Scenario {
  const s = BUILTIN_SCENARIOS.get(name);
  if (s === undefined) throw new Error(`no built-in scenario ${name}`);
  return s;
}

/** The rows with a bug: each mutant on its own scenario, then the racy modules. */
export function sctCases(): SctCase[] {
  return [
    ...MUTANTS.map((m): SctCase => ({ name: `${m} (${MUTANT_INFO[m].scenario})`, kind: 'kernel', scenario: builtin(MUTANT_INFO[m].scenario), mutant: m, expect: 'failure' })),
    moduleCase('counter_unlocked.c', 'failure'),
    moduleCase('free_while_in_use.c', 'failure'),
    moduleCase('check_then_set.c', 'failure'),
  ];
}

/** The rows that must find nothing: the correct kernel on each mutant's scenario, and the locked counter. */
export function sctCleanCases(): SctCase[] {
  const scenarios = [...new Set(MUTANTS.map((m) => MUTANT_INFO[m].scenario))];
  return [...scenarios.map((s): SctCase => ({ name: `correct kernel (${s})`, kind: 'kernel', scenario: builtin(s), expect: 'none' })), moduleCase('counter_spinlock.c', 'none')];
}

export async function sctTable(opts: SctTableOptions = {}): Promise<SctTable> {
  const t0 = performance.now();
  const budget = opts.budget ?? 10_000;
  const moduleBudget = opts.moduleBudget ?? SCT_MODULE_BUDGET;
  const seeds = opts.seeds ?? Array.from({ length: 10 }, (_, i) => i + 1);
  const cleanSeeds = opts.cleanSeeds ?? [1, 2, 3];
  const cleanBudget = opts.cleanBudget ?? 10;
  const dfsSeed = opts.dfsSeed ?? 1;
  const workers = Math.max(1, opts.workers ?? 2);
  const cases = opts.cases ?? sctCases();
  const plans: RowPlan[] = [
    ...cases.map((c) => ({ case: c, seeds, budget: c.kind === 'module' ? moduleBudget : budget })),
    // The rows that must find nothing: every seed runs its whole (smaller) budget.
    ...(opts.clean ?? sctCleanCases()).map((c) => ({ case: c, seeds: cleanSeeds, budget: cleanBudget })),
  ];
  const all = await runRows(plans, dfsSeed, workers, opts.onCell);
  const rows = all.slice(0, cases.length);
  const clean = all.slice(cases.length);
  const falsePositives = [...rows, ...clean].flatMap((r) => (r.case.expect === 'none' && r.checks.length > 0 ? [`${r.case.name}: ${r.checks.join(', ')}`] : []));
  const pctOrPortfolio = (r: SctRow) => r.cells.some((c) => (c.strategy === 'pct' || c.strategy === 'portfolio') && c.median !== null);
  const pctFindsEveryMutant = rows.filter((r) => r.case.mutant !== undefined && r.case.expect === 'failure').every(pctOrPortfolio);
  return { budget, moduleBudget, seeds, cleanSeeds, rows, clean, cleanBudget, dfsSeed, falsePositives, pctFindsEveryMutant, seconds: (performance.now() - t0) / 1000 };
}

const fmtInt = (n: number): string => n.toLocaleString('en-US');

function fmtMedian(m: number | null, budget: number): string {
  if (m === null) return `>${fmtInt(budget)}`;
  return Number.isInteger(m) ? fmtInt(m) : m.toFixed(1);
}

/** A cell: the median, then how many seeds found it (≥ when seeds were stopped early). */
export function fmtCell(c: SctCell, seeds: number, budget: number): string {
  return `${fmtMedian(c.median, budget)} (${c.foundExact ? '' : '≥'}${c.found}/${seeds})`;
}

function fmtDfs(d: DfsCell, budget: number): string {
  if (d.first !== null) return fmtInt(d.first);
  return d.exhausted ? `none (all ${fmtInt(d.runs)})` : `>${fmtInt(budget)}`;
}

/** A clean row's cell: the failures in its runs (0 is the only right answer). */
function fmtClean(c: SctCell): string {
  return `${c.found === 0 ? 'none' : `**${c.found} FAILED**`} in ${fmtInt(c.runs)}`;
}

export function sctMarkdown(t: SctTable): string {
  const n = t.seeds.length;
  const head = `| case | ${SCT_STRATEGIES.join(' | ')} | dfs | failure found |`;
  const rule = `|---|${SCT_STRATEGIES.map(() => '---:').join('|')}|---:|---|`;
  const rows = t.rows.map((r) => `| ${r.case.name} | ${r.cells.map((c) => fmtCell(c, n, r.budget)).join(' | ')} | ${fmtDfs(r.dfs, r.budget)} | ${r.checks.join(', ') || '—'} |`);
  const clean = t.clean.map((r) => `| ${r.case.name} | ${r.cells.map(fmtClean).join(' | ')} | ${r.dfs.first === null ? 'none' : `**FAILED at ${r.dfs.first}**`} in ${fmtInt(r.dfs.runs)} | ${r.checks.join(', ') || '—'} |`);
  return [
    head,
    rule,
    ...rows,
    ...clean,
    '',
    `Cells: the median over exploration seeds ${t.seeds[0]}..${t.seeds.at(-1)} of the first failing run (1 = the first run), and how many seeds found it ` +
      `(≥: seeds stopped once they could no longer change the median); budget ${fmtInt(t.budget)} runs per seed on the mutant rows, ${fmtInt(t.moduleBudget)} on the module rows. ` +
      `dfs: executions to the first failure (preemption bound ${DEFAULT_PREEMPTION_BOUND}, simulation seed ${t.dfsSeed}), same budgets. ` +
      `Rows that must find nothing: failures in all their runs (seeds ${t.cleanSeeds.join(', ')}, ${fmtInt(t.cleanBudget)} runs each; dfs ${fmtInt(t.cleanBudget)} executions).`,
  ].join('\n');
}

async function main(): Promise<void> {
  const arg = (name: string): number | undefined => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : undefined);
  const verbose = process.argv.includes('--verbose');
  const t = await sctTable({
    budget: arg('--budget') ?? 10_000,
    moduleBudget: arg('--module-budget') ?? SCT_MODULE_BUDGET,
    workers: arg('--workers') ?? 2,
    onCell: verbose ? (r, c, s) => process.stderr.write(`# ${r} / ${c}: ${s.toFixed(1)} s\n`) : undefined,
  });
  process.stdout.write(`${sctMarkdown(t)}\n\n`);
  process.stdout.write(`pct_finds_every_mutant: ${t.pctFindsEveryMutant ? 'yes' : 'NO'}\n`);
  process.stdout.write(`sct_false_positives: ${t.falsePositives.length}${t.falsePositives.length > 0 ? ` (BUG: ${t.falsePositives.join('; ')})` : ''}\n`);
  process.stdout.write(`# sct table: ${t.seconds.toFixed(1)} s\n`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
