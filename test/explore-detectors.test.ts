import { describe, expect, it } from 'vitest';
import { Simulation } from '../src/actors/simulation.ts';
import { DeadlockDetector, describeWait } from '../src/explore/detectors.ts';
import { executeRun, livenessBound } from '../src/explore/execute.ts';
import { explore } from '../src/explore/explore.ts';
import type { KernelState } from '../src/model/state.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import type { Choice } from '../src/scheduler/choices.ts';
import { forcedStrategy, type Strategy } from '../src/scheduler/strategies.ts';
import { smallRace } from './explore-fixtures.ts';
import { scenario } from './helpers.ts';

// What counts as a failure: kernel BUG events, deadlocks (who waits for what), and the fair
// liveness phase at the end of a run's step budget.

/** Prefers `cpu` whenever it can step; else the lowest CPU's first choice. */
function prefer(cpu: number): Strategy {
  return { name: 'pct', choose: (choices: readonly Choice[]) => choices.find((c) => c.cpu === cpu && c.switch_to === null) ?? choices[0]! };
}

describe('failure detectors', () => {
  it('a kernel BUG the scenario reproduces fails every schedule, with no preemption needed (R61)', async () => {
    const r = await explore(BUILTIN_SCENARIOS.get('sleep-in-handler')!, { strategy: 'random', runs: 5, seed: 1, out: null });
    expect(r.runs).toBe(1);
    expect(r.failures).toHaveLength(1);
    const f = r.failures[0]!;
    expect([f.kind, f.check]).toEqual(['kernel-bug', 'bug.atomic_sleep']);
    expect(f.message).toMatch(/^BUG on cpu \d+ \(pid \d+\): scheduling while atomic \(preempt_count 1\)$/);
    expect(f.preemptions).toBe(0);
  });

  it('says who waits for what in a deadlock (here: a state where rmmod waits for CPU 1 in the handler, R55)', () => {
    // unregister-race under the default schedule, stopped where rmmod waits for the text-patch
    // sync that CPU 1 (in the slow handler, interrupts off) has not acknowledged.
    const s = BUILTIN_SCENARIOS.get('unregister-race')!;
    let waiting: KernelState | null = null;
    const sim = new Simulation(s, { seed: 1, strategy: prefer(0), projections: [{ observe: (_b, e, after) => { if (waiting === null && e.type === 'text.sync.start' && after.kprobes.sync?.waiting.length) waiting = after; } }] });
    while (waiting === null && sim.step());
    const w = waiting!;
    const rmmod = w.tasks.find((t) => t.comm === 'rmmod')!;
    expect(rmmod.wait?.on).toBe('sync');
    expect(describeWait(w, rmmod)).toBe(`pid ${rmmod.pid} (rmmod) waits for text-patch sync #${w.kprobes.sync!.gen} (not yet acknowledged by cpu 1)`);
    const d = new DeadlockDetector();
    d.end('deadlock', w);
    expect(d.found?.kind).toBe('deadlock');
    expect(d.found?.message).toContain(`deadlock: pid ${rmmod.pid} (rmmod) waits for text-patch sync`);
    const done = new DeadlockDetector();
    done.end('done', w);
    expect(done.found).toBeNull();
  });

  it('fails liveness when an unregister waits past the fair phase\'s bound for a handler that spins longer', () => {
    // max_steps 1000: the strategy has 500 decisions, then round-robin has 500 (half of
    // max_steps, under LIVENESS_BOUND). rmmod's unregister waits for the sync while CPU 1 spins
    // 3000 steps in the handler with interrupts off (R55): still pending when the bound is up.
    const s = scenario({
      cpus: 2,
      max_steps: 1000,
      probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 3000 }] }],
      tasks: [
        { comm: 'rmmod', cpu: 0, program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'sleep', ticks: 10 }, { op: 'unregister_kprobe', probe: 'kp' }] },
        { comm: 'reader', cpu: 1, program: [{ op: 'call', fn: 'vfs_read' }] },
      ],
    });
    expect(livenessBound(s)).toBe(500);
    // Preferring CPU 0, rmmod is in its unregister when the fair phase starts at decision 500.
    const r = executeRun({ scenario: s, seed: 1, strategy: prefer(0), stopAtFailure: true });
    expect(r.failure?.kind).toBe('liveness');
    expect(r.failure?.message).toMatch(/^liveness: after 500 decisions of a fair schedule, unregister_kprobe\(kp\) by pid \d+ has not returned \(phase sync; pid \d+ \(rmmod\) waits for text-patch sync #\d+ \(not yet acknowledged by cpu 1\)\)$/);
    expect(r.failureAt).toBe(1000);
    // The default schedule keeps CPU 1 spinning for the first 500 decisions: the unregister only
    // starts in the fair phase, and is caught pending when the run stops at its step limit.
    const late = executeRun({ scenario: s, seed: 1, strategy: forcedStrategy('dfs', () => undefined), stopAtFailure: true });
    expect(late.failure?.message).toMatch(/^liveness: at the run's step limit, under a fair schedule, unregister_kprobe\(kp\) by pid \d+ has not returned \(phase sync; /);
    // With a handler that ends within the bound, the same schedule passes.
    const short = scenario({ ...s, probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 100 }] }], tasks: [...s.tasks] });
    expect(executeRun({ scenario: short, seed: 1, strategy: forcedStrategy('dfs', () => undefined), stopAtFailure: true }).failure).toBeNull();
  });
});

describe("the scenario's expect assertions", () => {
  it('fail a run as kind expect: an at_end one at log.end, an always one at its first false state', async () => {
    const atEnd = { ...smallRace, expect: [{ at_end: 'probes.kp.hits == 0', name: 'never hit' }] };
    const r = await explore(atEnd, { strategy: 'random', runs: 3, seed: 1, out: null });
    expect(r.failures.map((f) => [f.kind, f.check, f.preemptions])).toEqual([['expect', 'expect[0]', 0]]);
    expect(r.failures[0]!.message).toMatch(/^expect\[0\] "never hit" \(at_end\) is false at the end \(seq \d+\): /);
    const always = { ...smallRace, expect: [{ always: 'true' }, { always: 'probes.kp.hits < 2' }] };
    const a = await explore(always, { strategy: 'pct', runs: 3, seed: 1, out: null });
    expect(a.failures.map((f) => f.check)).toEqual(['expect[1]']);
    expect(a.failures[0]!.message).toMatch(/^expect\[1\] probes\.kp\.hits < 2 \(always\) is false after seq \d+: /);
  });
});
