import { InputError } from '../errors.ts';
import type { ExploreReport, FailureReport } from './report.ts';

// `kprobesim explore merge REPORT...`: the shard reports of one exploration (`--shard I/N`, the
// same command otherwise) combined into the report the unsharded command gives: the runs add up,
// the failures are listed by run index and, unless the exploration went on after failures
// (--keep-going), only the first is kept, with the runs the single process would have made up
// to it. Runs are a function of their index alone, so this is exact for everything but
// distinct_states: a state two shards both visited is counted by each, so the merged figure is
// their sum, an upper bound.

/** The fields every shard must agree on: they say which exploration it is a part of. */
const SAME = ['strategy', 'scenario', 'seed', 'budget', 'keep_going', 'mutant', 'liveness_bound'] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A parsed report file, checked for what merging reads. */
export function checkReport(value: unknown, place: string): ExploreReport {
  const bad = (field: string, what: string) => new InputError(place, `${field}: ${what} (is this a kprobesim explore report?)`);
  if (!isRecord(value)) throw new InputError(place, 'not a kprobesim explore report (expected a JSON object)');
  for (const f of ['runs', 'distinct_states', 'seed', 'budget', 'liveness_bound'] as const) {
    if (!Number.isSafeInteger(value[f]) || (value[f] as number) < 0) throw bad(f, 'expected a non-negative integer');
  }
  if (typeof value.strategy !== 'string') throw bad('strategy', 'expected a strategy name');
  if (typeof value.scenario !== 'string') throw bad('scenario', 'expected a scenario name');
  if (typeof value.keep_going !== 'boolean') throw bad('keep_going', 'expected true or false');
  if (!Array.isArray(value.failures)) throw bad('failures', 'expected an array');
  value.failures.forEach((f: unknown, i) => {
    if (!isRecord(f) || !Number.isSafeInteger(f.run)) throw bad(`failures[${i}].run`, 'expected a run index');
  });
  const shard = value.shard;
  if (shard !== null && (!isRecord(shard) || !Number.isSafeInteger(shard.index) || !Number.isSafeInteger(shard.count))) {
    throw bad('shard', 'expected null or {"index": I, "count": N}');
  }
  return value as unknown as ExploreReport;
}

/** Merges the reports of shards 0…N−1 of one exploration; `names` say where each came from. */
export function mergeReports(reports: readonly ExploreReport[], names: readonly string[]): ExploreReport {
  if (reports.length === 0) throw new InputError('explore merge', 'no reports to merge');
  const first = reports[0]!;
  const count = first.shard?.count ?? 1;
  const seen = new Map<number, string>();
  reports.forEach((r, i) => {
    for (const f of SAME) {
      if (JSON.stringify(r[f]) !== JSON.stringify(first[f])) {
        throw new InputError(names[i]!, `${f} is ${JSON.stringify(r[f])}, but ${names[0]} has ${JSON.stringify(first[f])}: not shards of one exploration`);
      }
    }
    const shard = r.shard ?? { index: 0, count: 1 };
    if (shard.count !== count) throw new InputError(names[i]!, `is shard ${shard.index}/${shard.count}, but ${names[0]} is one of ${count} shards`);
    const other = seen.get(shard.index);
    if (other !== undefined) throw new InputError(names[i]!, `is shard ${shard.index}/${count} again (so is ${other})`);
    seen.set(shard.index, names[i]!);
  });
  const missing = [...Array(count).keys()].filter((i) => !seen.has(i));
  if (missing.length > 0) throw new InputError('explore merge', `shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')} missing`);

  let failures: FailureReport[] = reports.flatMap((r) => r.failures).sort((a, b) => a.run - b.run);
  let runs = reports.reduce((n, r) => n + r.runs, 0);
  if (!first.keep_going && failures.length > 0) {
    failures = failures.slice(0, 1);
    runs = failures[0]!.run + 1;
  }
  const { pct, dfs } = first;
  return {
    runs,
    strategy: first.strategy,
    distinct_states: reports.reduce((n, r) => n + r.distinct_states, 0),
    failures,
    scenario: first.scenario,
    seed: first.seed,
    budget: first.budget,
    keep_going: first.keep_going,
    mutant: first.mutant,
    shard: null,
    pct,
    dfs,
    liveness_bound: first.liveness_bound,
  };
}
