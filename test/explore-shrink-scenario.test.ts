import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvariantDetector } from '../src/explore/detectors.ts';
import { explore } from '../src/explore/explore.ts';
import { reportText } from '../src/explore/report.ts';
import { scenarioSize, shrinkScenario } from '../src/explore/shrink-scenario.ts';
import { foldLog } from '../src/replay/fold-log.ts';
import { replayLog } from '../src/replay/replay.ts';
import { unregisterSharedPointScenario } from '../src/scenario/builtin/unregister-shared-point.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { tempDir } from './explore-fixtures.ts';

// Scenario shrinking (issue 12, "Shrinking and explaining" step 3): the failure of the
// no-grace-period mutant on unregister-shared-point (INV-unregister, R67: unregister_kprobe returns
// while CPU 1 is in the handler, since the other probe keeps the point armed and only the grace
// period would wait) needs the two probes on vfs_read and the two pinned tasks, nothing else.
// Noise is added around it: a third probe on another function, a third task that registers it,
// prints and calls do_sys_open (its own probe's function, not vfs_read), and a last printk in
// the unregistering task. None of it is needed, so none of it may be left after shrinking. (An
// operation before the race is kept when cutting it moves the race's decisions off the schedule
// the shrinker replays: docs/explore.md.)

const base = unregisterSharedPointScenario;
const noisy: Scenario = validateScenario({
  ...base,
  probes: [...base.probes, { name: 'noise', symbol: 'do_sys_open', pre: [{ do: 'print', text: 'noise on cpu {cpu}' }, { do: 'spin', steps: 5 }] }],
  tasks: [
    { ...base.tasks[0]!, program: [...base.tasks[0]!.program, { op: 'printk', text: 'noise after' }] },
    base.tasks[1]!,
    { comm: 'noisy', program: [{ op: 'register_kprobe', probe: 'noise' }, { op: 'printk', text: 'hello' }, { op: 'call', fn: 'do_sys_open', times: 2 }] },
  ],
});
const MUTANT = 'no-grace-period' as const;
const OPTIONS = { strategy: 'portfolio', runs: 200, seed: 1, mutant: MUTANT } as const;

interface LogScenario {
  readonly scenario: Scenario;
}

describe('shrinking the failing scenario (INV-unregister, R67, under no-grace-period)', () => {
  it('drops the noise tasks, probe and operations, still fails the same way, and its log replays identically', async () => {
    const out = tempDir();
    const r = await explore(noisy, { ...OPTIONS, out });
    expect(r.failures).toHaveLength(1);
    const f = r.failures[0]!;
    expect(f.kind).toBe('invariant');
    expect(f.check).toBe('INV-unregister');
    // Sizes counted by hand from `noisy`: 3 tasks, 3 probes, 6 + 2 + 3 operations, 1 + 3 (slow: pre 2, post 1) + 2 handler steps.
    expect(f.scenario_before).toEqual({ cpus: 2, tasks: 3, probes: 3, operations: 11, handler_steps: 6 });
    expect(f.scenario_not_shrunk).toBeNull();
    const after = f.scenario_after!;
    // The race needs two CPUs, the two probes sharing vfs_read, and both tasks.
    expect(after.cpus).toBe(2);
    expect(after.tasks).toBe(2);
    expect(after.probes).toBe(2);
    expect(after.operations).toBeLessThan(11);

    // The log is an ordinary log of the smaller scenario: none of the noise is in it.
    const header = JSON.parse(readFileSync(f.log!, 'utf8').split('\n')[0]!) as LogScenario;
    expect(scenarioSize(header.scenario)).toEqual(after);
    expect(header.scenario.probes.map((p) => p.name).sort()).toEqual(['keeper', 'slow']);
    expect(header.scenario.tasks.map((t) => t.comm)).not.toContain('noisy');
    expect(JSON.stringify(header.scenario)).not.toContain('noise');
    // The kept probes are the ones the invariant names: unregistering `slow` while `keeper` stays armed.
    expect(f.message).toMatch(/unregister_kprobe\(slow\) returned while cpu 1 is still in it/);

    const replay = await replayLog(f.log!);
    expect(replay.kind).toBe('identical');
    const inv = new InvariantDetector();
    await foldLog(f.log!, [inv]);
    expect(inv.found?.check).toBe('INV-unregister');
    expect(inv.found?.message).toBe(f.message);
  });

  it('is deterministic: the same exploration gives the same report, byte for byte', async () => {
    const a = await explore(noisy, { ...OPTIONS, out: null });
    const b = await explore(noisy, { ...OPTIONS, out: null });
    expect(a.failures[0]!.scenario_after).not.toBeNull();
    expect(reportText(a)).toBe(reportText(b));
  });

  it('leaves a scenario with C modules alone and says so', () => {
    const withC: Scenario = { ...noisy, modules: [{ name: 'm', source: 'm.c', code: 'int x;\n', functions: [] }] };
    // No run is made: the failure passed in is never checked.
    const r = shrinkScenario({ scenario: withC, seed: 1 }, [], { kind: 'invariant', check: 'INV-unregister', message: '', seq: 0 } as never, 0);
    expect(r.shrunk).toBe(false);
    if (!r.shrunk) expect(r.reason).toMatch(/C modules/);
    expect(r.before).toEqual(scenarioSize(noisy));
  });
});
