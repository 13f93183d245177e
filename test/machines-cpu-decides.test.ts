import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { Grant } from '../src/actors/channels.ts';
import { cpuMachine } from '../src/machines/cpu.ts';
import { KPROBE_STATUS_STATES, KPROBE_STATUSES, type KernelStep, type StatusStateConfig } from '../src/machines/kprobe-status.ts';
import type { KernelState } from '../src/model/state.ts';
import { ofType, scenario, trace, type Traced } from './helpers.ts';

// The CPU machine decides what a step the scheduler grants does (issue 10): in each
// kprobe_status, its STEP transitions (the status's `step` list in the graph's config) run the
// kernel function the rules name. These tests take the worlds of a real run just before each of
// CPU 0's steps, put a fresh CPU machine in that CPU's status, grant it the step, and watch which
// kernel function the machine chose (XState's inspection API reports the transitions each
// microstep takes, with their actions).

const STATES: Readonly<Record<string, StatusStateConfig>> = KPROBE_STATUS_STATES;

describe('the step lists of the graph', () => {
  it('in every status a granted step runs something: each list ends in an unguarded choice', () => {
    for (const s of KPROBE_STATUSES) {
      const step = STATES[s]!.step ?? [];
      expect(step.length, s).toBeGreaterThan(0);
      expect(step.at(-1)!.guard, s).toBeUndefined();
      // And only the last is unguarded: a choice after it could never run.
      expect(step.slice(0, -1).every((c) => c.guard !== undefined), s).toBe(true);
    }
    expect(STATES.halted!.step).toBeUndefined();
  });

  it('R46, R50: in every status a pending breakpoint trap is handled before the status’s own work', () => {
    for (const s of KPROBE_STATUSES) {
      const step = STATES[s]!.step!;
      const trap = step.findIndex((c) => c.guard === 'trapped');
      expect(step[trap]?.run, s).toBe('kprobe_int3_handler');
      expect(trap, s).toBeLessThan(step.length - 1);
    }
  });
});

describe('the machine chooses the kernel function from its status (R46–R51)', () => {
  /** What the CPU machine runs when granted a step in `world`, started in CPU 0's folded status. */
  function chosen(run: Traced, world: KernelState): KernelStep | 'none' {
    const grants = new Subject<Grant>();
    const cpu = world.cpus[0]!;
    const runs: KernelStep[] = [];
    const snapshot = cpuMachine.resolveState({ value: cpu.status, context: { cpu, view: { world: () => world, setup: () => run.sim.setup }, outbox: { src: 'cpu/0', publish: () => {} }, grants, refused: [] } });
    const actor = createActor(cpuMachine, {
      snapshot,
      input: undefined as never,
      inspect: (ev) => {
        if (ev.type !== '@xstate.microstep' || ev.event.type !== 'STEP') return;
        const taken = (ev as unknown as { _transitions: { actions: { type: string; params?: { run: KernelStep } }[] }[] })._transitions;
        for (const t of taken) for (const a of t.actions) if (a.type === 'kernelStep') runs.push(a.params!.run);
      },
    });
    actor.start();
    // A machine started from a snapshot has no invoked children: the grant is sent to it directly
    // (the grant stream itself is what every run goes through).
    actor.send({ type: 'STEP' });
    actor.stop();
    expect(runs.length).toBeLessThanOrEqual(1);
    return runs[0] ?? 'none';
  }

  /** The kernel function the rules name for CPU 0 in `w` (reasoned from §6, not from the config). */
  function expected(w: KernelState): KernelStep {
    const c = w.cpus[0]!;
    if (c.trap !== null) return 'kprobe_int3_handler'; // R46/R50: the trap is taken first
    switch (c.status) {
      case 'idle':
        return 'run_task';
      case 'KPROBE_HIT_ACTIVE':
        return 'aggr_pre_handler'; // R46: the pre-handlers run in HIT_ACTIVE
      case 'KPROBE_HIT_SS':
      case 'KPROBE_REENTER':
        return c.stepped ? 'kprobe_post_process' : 'setup_singlestep'; // R47.3, R48
      case 'KPROBE_HIT_SSDONE':
        return 'aggr_post_handler'; // R49
    }
  }

  /** Checks every step CPU 0 took in `run`; returns the kernel functions the machine chose. */
  function walk(run: Traced): string[] {
    const seen = new Set<KernelStep>();
    run.events.forEach((e, i) => {
      // The world the CPU steps on: after the scheduler's decision (and any context switch).
      const next = run.events[i + 1];
      if (e.src !== 'sched' || next?.src === 'sched' || next === undefined || next.src !== 'cpu/0') return;
      const world = run.states[i]!;
      const got = chosen(run, world);
      expect(got, `seq ${e.seq}, status ${world.cpus[0]!.status}`).toBe(expected(world));
      seen.add(got as KernelStep);
    });
    return [...seen].sort();
  }

  it('at every step of CPU 0 in a hit with pre- and post-handlers', () => {
    const run = trace(
      scenario({
        probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'print', text: 'pre' }], post: [{ do: 'print', text: 'post' }] }],
        tasks: [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'vfs_read' }] }],
      }),
    );
    // The whole breakpoint path but setup_singlestep: after the last pre-handler, the loop of
    // aggr_pre_handler's step goes straight on to the single-step (R47.3), in HIT_ACTIVE.
    expect(walk(run)).toEqual(['aggr_post_handler', 'aggr_pre_handler', 'kprobe_int3_handler', 'kprobe_post_process', 'run_task']);
  });

  it('R50, R51: a hit inside a handler is stepped in KPROBE_REENTER by setup_singlestep', () => {
    const run = trace(
      scenario({
        probes: [
          { name: 'outer', symbol: 'vfs_read', pre: [{ do: 'call', fn: 'dput' }] },
          { name: 'inner', symbol: 'dput', pre: [{ do: 'print', text: 'never: a miss runs no handler' }] },
        ],
        tasks: [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: 'outer' }, { op: 'register_kprobe', probe: 'inner' }, { op: 'call', fn: 'vfs_read' }] }],
      }),
    );
    // dput, called from outer's pre-handler, traps while outer runs: a miss (R50).
    expect(ofType(run.events, 'kprobe.miss').map((e) => e.probes)).toEqual([['inner']]);
    expect(walk(run)).toContain('setup_singlestep');
  });
});
