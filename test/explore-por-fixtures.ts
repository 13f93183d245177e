import { cModuleSpec, withCModules } from '../src/cexec/index.ts';
import { executeRun, type RunRecord } from '../src/explore/execute.ts';
import { stateHash } from '../src/explore/state-hash.ts';
import type { KernelState } from '../src/model/state.ts';
import type { Scenario, TaskOp } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import type { Choice } from '../src/scheduler/choices.ts';
import { forcedStrategy } from '../src/scheduler/strategies.ts';
import { countOpens } from './kcsan-fixtures.ts';

// Searches and scenarios of the partial-order reduction's tests on C modules
// (test/explore-por-modules.test.ts, property-tests/por.test.ts).
//
// Final states are compared by the state's fingerprint with the clock, the step count and seq
// zeroed, and how the run ended (the reduction runs a CPU's invisible steps together, which moves
// the logical clock, never the order of what others can see); a run halted by a BUG, without its
// CPUs' unfinished private work (finalDigest). Runs go to their end (no stop at the failure: a cut at a fixed event would be a
// prefix, where the two searches legitimately differ), and each run's first failure is kept.

export function finalDigest(r: RunRecord): string {
  const w = r.world;
  const timeless: KernelState = { ...w, t: 0, seq: 0, sched: { ...w.sched, steps: 0 } };
  if (r.endReason !== 'bug') return `${r.endReason}:${stateHash(timeless)}`;
  // A BUG halts the machine at one CPU's visible step: every other CPU stops wherever it is,
  // possibly inside an invisible stretch, which the reduction runs whole (before or after), never
  // cut. A halted state is compared without what such stretches write: the tasks' frames and
  // program positions, C frames' locals (stack objects), the handlers' step, spin and frames.
  // Everything another CPU could have read, and the failure itself, is compared as it is.
  const mem = Object.fromEntries(Object.entries(w.c?.mem ?? {}).filter(([, o]) => o.k !== 'stack'));
  const halted: KernelState = {
    ...timeless,
    tasks: w.tasks.map((t) => ({ ...t, frames: null, job: 0 })),
    cpus: w.cpus.map((c) => (c.handler === null ? c : { ...c, handler: { ...c.handler, step: 0, spin: 0, frames: null } })),
    ...(w.c !== undefined ? { c: { ...w.c, mem } } : {}),
  };
  return `bug:${r.failure?.kind}:${r.failure?.check}:${stateHash(halted)}`;
}

export interface Search {
  readonly finals: Set<string>;
  readonly failures: Set<string>;
  readonly runs: number;
}

/**
 * Every schedule with at most `bound` preemptions (decisions off the default schedule), fewest
 * first; a schedule's children preempt once more after its last preemption. A run stops expanding
 * at a decision whose (fingerprint, last CPU, yield, branch flag) was expanded with no more preemptions.
 */
export function bounded(scenario: Scenario, reduce: boolean, bound: number): Search {
  const finals = new Set<string>();
  const failures = new Set<string>();
  const levels: { at: number; choice: Choice }[][][] = Array.from({ length: bound + 1 }, () => []);
  levels[0]!.push([]);
  const expanded = new Map<string, number>();
  let runs = 0;
  for (let c = 0; c <= bound; c++) {
    for (let schedule = levels[c]!.pop(); schedule !== undefined; schedule = levels[c]!.pop()) {
      const forced = new Map(schedule.map((p) => [p.at, p.choice]));
      const r = executeRun({ scenario, seed: 42, strategy: forcedStrategy('dfs', (i) => forced.get(i)), menus: true, stopAtFailure: false, reduce });
      runs++;
      if (r.endReason === 'limit' || r.endReason === 'task_limit') throw new Error(`run ${runs} was cut at the step limit: raise max_steps`);
      finals.add(finalDigest(r));
      if (r.failure !== null) failures.add(`${r.failure.kind}: ${r.failure.check}`);
      if (c === bound) continue;
      const from = schedule.length === 0 ? 0 : schedule.at(-1)!.at + 1;
      let last = from === 0 ? null : r.decisions[from - 1]!.cpu;
      // Whether the step before only spun: the default schedule moves on from a yield.
      let yielded = from === 0 ? false : r.yields[from - 1]!;
      for (let i = from; i < r.decisions.length; i++) {
        const key = `${r.hashes[i]}:${last}:${yielded}:${r.branch[i]}`;
        const before = expanded.get(key);
        if (before !== undefined && before <= c) break;
        expanded.set(key, c);
        const chosen = r.decisions[i]!;
        last = chosen.cpu;
        yielded = r.yields[i]!;
        if (!r.branch[i]) continue;
        for (const alt of r.menus![i]!) if (alt.cpu !== chosen.cpu || alt.switch_to !== chosen.switch_to) levels[c + 1]!.push([...schedule, { at: i, choice: alt }]);
      }
    }
  }
  return { finals, failures, runs };
}

/**
 * A module whose kmalloc'd slot one task drops (kfree) while another reads it: depending on the
 * order, the reader gets the value, finds NULL (its WARN_ON fires), or reads freed memory (KASAN).
 * Every shared access is marked (READ_ONCE/WRITE_ONCE): the tasks are not ordered after the init,
 * and a data race would be the first failure of every run. `grab` sums a
 * small loop in locals first: instructions that touch only its frame (invisible steps).
 */
export const SLOT = `#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>

static int *buf;
static int seen;

noinline void drop(void)
{
	int *p = READ_ONCE(buf);

	WRITE_ONCE(buf, NULL);
	kfree(p);
}

noinline void grab(void)
{
	int i, sum = 0;
	int *p;

	for (i = 0; i < 3; i++)
		sum += i;
	p = READ_ONCE(buf);
	if (WARN_ON(!p))
		return;
	seen = READ_ONCE(*p) + sum;
}

static int __init slot_init(void)
{
	int *p = kmalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	WRITE_ONCE(*p, 7);
	WRITE_ONCE(buf, p);
	return 0;
}

module_init(slot_init);
MODULE_LICENSE("GPL");
`;

/**
 * insmod MODULE, then tasks a and b (started with it, asleep until it is likely loaded) call one
 * function each: small enough for a bound-2 search without the reduction.
 */
export function pair(file: string, code: string, a: string, b: string): Scenario {
  const module = cModuleSpec(file, code);
  const call = (fn: string): TaskOp[] => [{ op: 'sleep', ticks: 30 }, { op: 'call', fn: `${module.name}:${fn}` }];
  return validateScenario({
    name: 'pair',
    description: `${a} and ${b}`,
    cpus: 2,
    max_steps: 4000,
    probes: [],
    modules: [module],
    tasks: [{ comm: 'insmod', program: [{ op: 'insmod', module: module.name }] }, { comm: 'a', program: call(a) }, { comm: 'b', program: call(b) }],
  });
}

/** Two tasks each open a file once under count_opens.c's openat pre-handler (plain or locked counter), loaded and unloaded around them. */
export function opens(locked: boolean): Scenario {
  const open: TaskOp = { op: 'call', fn: '__x64_sys_openat', path: '/etc/passwd' };
  const base: Scenario = { name: 'opens', description: 'two opens under a counting pre-handler', cpus: 2, max_steps: 4000, probes: [], tasks: [{ comm: 'a', program: [open] }, { comm: 'b', program: [open] }] };
  return validateScenario(withCModules(base, [cModuleSpec('count_opens.c', countOpens('x86_64', locked))]));
}
