import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../src/actors/simulation.ts';
import { InputError } from '../src/errors.ts';
import { MemoryLog } from '../src/log/writer.ts';
import { replayLog } from '../src/replay/replay.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { maxTasksOf, type Scenario, type TaskOp } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { randomStrategy } from '../src/scheduler/strategies.ts';
import { cliInProcess } from './cli-in-process.ts';

// Issue 9 §2: tasks that fork faster than their children exit grew a run to 1.7 GB. The live
// tasks are bounded by scenario.max_tasks (default 4096); a fork past it ends the run with its
// own reason, task_limit, and the summary says so. Without max_tasks, logs keep their bytes.

const dir = mkdtempSync(join(tmpdir(), 'kprobesim-tasks-'));

/** A chain of `n` forks: each child forks the next and then sleeps, so all of them stay alive. */
function chain(n: number, extra: Record<string, unknown> = {}): Scenario {
  let program: TaskOp[] = [{ op: 'sleep', ticks: 100_000 }];
  for (let i = 0; i < n; i++) program = [{ op: 'fork', comm: `c${i}`, program }, { op: 'sleep', ticks: 100_000 }];
  return validateScenario({ name: 'chain', cpus: 2, probes: [], tasks: [{ comm: 'sh', program }], ...extra });
}

/** Runs a scenario to its end; returns the most tasks alive at once and the events. */
function liveTasks(s: Scenario) {
  let most = 0;
  const sim = new Simulation(s, { seed: 3, strategy: randomStrategy(3), projections: [{ observe: (_b, _e, after) => void (most = Math.max(most, after.tasks.length)) }] });
  const events: { type: string }[] = [];
  sim.events$.subscribe((e) => events.push(e));
  return { reason: sim.run(), most, events };
}

describe('the task limit (scenario.max_tasks)', () => {
  it('a fork past max_tasks ends the run with run.task_limit and log.end reason task_limit; live tasks never exceed max_tasks + 1', () => {
    const r = liveTasks(chain(40, { max_tasks: 20 }));
    expect(r.reason).toBe('task_limit');
    expect(r.most).toBe(21);
    expect(r.events.slice(-2)).toMatchObject([
      { type: 'run.task_limit', src: 'sched', tasks: 21, max_tasks: 20 },
      { type: 'log.end', reason: 'task_limit' },
    ]);
  });

  it('under the limit nothing changes: the same chain without max_tasks runs to the end', () => {
    const r = liveTasks(chain(40));
    expect(r.reason).toBe('done');
    expect(r.most).toBe(41);
  });

  it('without max_tasks the bound is the default, 4096 (and the chain of 41 above ran under it)', () => {
    expect(maxTasksOf(chain(1))).toBe(4096);
    expect(maxTasksOf(chain(1, { max_tasks: 7 }))).toBe(7);
  });

  it('a log ended by the task limit replays as identical, and the summary says why it ended', async () => {
    const file = join(dir, 'chain.json');
    const log = join(dir, 'chain.jsonl');
    writeFileSync(file, JSON.stringify(chain(40, { max_tasks: 20 })));
    const r = await cliInProcess(['run', file, '--log', log]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ended: the task limit was reached \(a fork took the live tasks past max_tasks\) after \d+ steps/m);
    expect(await replayLog(log)).toMatchObject({ kind: 'identical', truncatedAt: null });
  });

  it('max_tasks is validated: 1 to 32768 (pid_max), and no fewer than the tasks the scenario starts with', () => {
    const place = (extra: Record<string, unknown>) => {
      try {
        chain(1, extra);
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as InputError).message;
      }
      return 'accepted';
    };
    expect(place({ max_tasks: 0 })).toMatch(/^scenario\.max_tasks: /);
    expect(place({ max_tasks: 32_769 })).toMatch(/^scenario\.max_tasks: /);
    expect(place({ max_tasks: 32_768 })).toBe('accepted');
    expect(place({ max_tasks: 'many' })).toMatch(/^scenario\.max_tasks: /);
    const two = { name: 'two', cpus: 1, probes: [], tasks: [{ comm: 'a', program: [] }, { comm: 'b', program: [] }] };
    expect(() => validateScenario({ ...two, max_tasks: 1 })).toThrow('scenario.max_tasks: 1 is fewer than the 2 tasks the scenario starts with');
  });

  it('a scenario without max_tasks logs no max_tasks: the built-ins keep their bytes', async () => {
    const log = new MemoryLog();
    await recordRun(BUILTIN_SCENARIOS.get('default')!, { seed: 42, strategy: 'random' }, log);
    expect(log.lines[0]).not.toContain('max_tasks');
  });
});
