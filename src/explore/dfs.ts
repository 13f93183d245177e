import type { MutantName } from '../kprobes/mutants.ts';
import type { Scenario } from '../scenario/types.ts';
import { forcedStrategy } from '../scheduler/strategies.ts';
import { executeRun } from './execute.ts';
import type { Found, Preemption } from './shrink.ts';

// Systematic search (stateless, by re-execution, as CHESS does) over the decision tree, with
// iterative preemption bounding: every schedule with no preemption first (the default schedule),
// then every one with one, and so on up to the bound. A schedule is its list of preemptions; its
// children preempt once more, at a decision after its last preemption, in each other way the
// menu allowed there. A state cache prunes the tree: when a schedule's default continuation
// reaches a state (and last CPU) that an earlier one expanded with no more preemptions spent,
// everything below was already queued and its expansion stops there. The cache keys on the
// folded state's fingerprint; the monitors' own memory of the run so far is not part of it.
// With partial-order reduction (the default) a schedule preempts only at branch points: the
// decisions after a visible step of the running CPU (./visibility.ts, docs/explore.md).

export interface DfsOptions {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly mutant?: MutantName;
  /** At most this many runs. */
  readonly runs: number;
  /** Branch only at decisions below this index (null: at any). */
  readonly depth: number | null;
  readonly preemptionBound: number;
  /**
   * Partial-order reduction (./visibility.ts): preempt only at branch points, decisions that
   * follow a visible step of the running CPU (or where it cannot go on). Default: on.
   */
  readonly reduce?: boolean;
  /** Called every few runs with the number made so far. */
  readonly onRuns?: (runs: number) => void;
}

export interface DfsResult {
  readonly runs: number;
  /** Every schedule within the bounds was run. */
  readonly exhausted: boolean;
}

/**
 * Runs the search; `onFailure` is told of each failing run and says whether to go on. `states`
 * collects the fingerprints of the states visited.
 */
export async function exploreDfs(opts: DfsOptions, states: Set<number>, onFailure: (f: Found) => Promise<boolean>): Promise<DfsResult> {
  const bound = Math.max(0, opts.preemptionBound);
  const depth = opts.depth ?? Number.POSITIVE_INFINITY;
  // levels[c]: schedules with c preemptions still to run (a stack: the last queued runs first).
  const levels: Preemption[][][] = Array.from({ length: bound + 1 }, () => []);
  levels[0]!.push([]);
  const expanded = new Map<string, number>();
  const reduce = opts.reduce ?? true;
  let runs = 0;
  for (let c = 0; c <= bound; c++) {
    const stack = levels[c]!;
    while (stack.length > 0) {
      if (runs >= opts.runs) return { runs, exhausted: false };
      const schedule = stack.pop()!;
      const forced = new Map(schedule.map((p) => [p.at, p.choice]));
      const spec = { scenario: opts.scenario, seed: opts.seed, strategy: forcedStrategy('dfs', (i) => forced.get(i)), menus: true, stopAtFailure: true, reduce };
      const r = executeRun(opts.mutant === undefined ? spec : { ...spec, mutant: opts.mutant });
      runs++;
      for (const h of r.hashes) states.add(h);
      if (runs % 16 === 0) opts.onRuns?.(runs);
      if (r.failure !== null) {
        const goOn = await onFailure({ run: runs - 1, seed: opts.seed, strategy: 'dfs', failure: r.failure, failureAt: r.failureAt, decisions: r.decisions.slice(0, r.failureAt) });
        if (!goOn) return { runs, exhausted: false };
      }
      if (c === bound) continue;
      const from = schedule.length === 0 ? 0 : schedule.at(-1)!.at + 1;
      let last = from === 0 ? null : r.decisions[from - 1]!.cpu;
      // Whether that decision's step only spun: the default after it moves on (a free switch).
      let yielded = from === 0 ? false : r.yields[from - 1]!;
      const end = Math.min(r.decisions.length, depth);
      for (let i = from; i < end; i++) {
        const chosen = r.decisions[i]!;
        // What lies below a decision depends on whether it is a branch point too (the reduction
        // keys it on the step before, which the state does not hold).
        const free = r.branch[i]!;
        const key = `${r.hashes[i]}:${last}:${yielded ? 1 : 0}:${free ? 1 : 0}`;
        const before = expanded.get(key);
        if (before !== undefined && before <= c) break;
        expanded.set(key, c);
        last = chosen.cpu;
        yielded = r.yields[i]!;
        if (!free) continue;
        for (const alt of r.menus![i]!) {
          if (alt.cpu !== chosen.cpu || alt.switch_to !== chosen.switch_to) levels[c + 1]!.push([...schedule, { at: i, choice: alt }]);
        }
      }
    }
  }
  return { runs, exhausted: true };
}
