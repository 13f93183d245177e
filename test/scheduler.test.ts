import { describe, expect, it } from 'vitest';
import { initialState } from '../src/model/initial.ts';
import type { KernelState } from '../src/model/state.ts';
import { enabledChoices } from '../src/scheduler/choices.ts';
import { seededIds } from '../src/scheduler/rng.ts';
import { randomStrategy, replayStrategy, roundRobinStrategy, ScheduleDivergence } from '../src/scheduler/strategies.ts';
import { ofType, scenario, trace } from './helpers.ts';

const s = scenario({
  cpus: 2,
  tasks: [
    { comm: 'a', pid: 10, program: [{ op: 'call', fn: 'vfs_read' }] },
    { comm: 'b', pid: 11, cpu: 1, program: [{ op: 'call', fn: 'vfs_read' }] },
  ],
});
const w0 = initialState(s);

describe('scheduler', () => {
  it('offers a switch of each waiting task onto each CPU it may run on (pinned tasks only on theirs)', () => {
    expect(enabledChoices(w0)).toEqual([
      { cpu: 0, switch_to: 10 },
      { cpu: 1, switch_to: 10 },
      { cpu: 1, switch_to: 11 },
    ]);
  });

  it('INV-preempt: offers no switch on a CPU with preemption disabled or inside a kprobe', () => {
    const busy: KernelState = { ...w0, cpus: [{ ...w0.cpus[0]!, preempt_count: 1, status: 'KPROBE_HIT_ACTIVE' }, w0.cpus[1]!] };
    expect(enabledChoices(busy).filter((c) => c.cpu === 0)).toEqual([{ cpu: 0, switch_to: null }]);
  });

  it('round-robin takes CPUs in turn', () => {
    const rr = roundRobinStrategy();
    const choices = [
      { cpu: 0, switch_to: null },
      { cpu: 1, switch_to: null },
      { cpu: 2, switch_to: null },
    ];
    expect([0, 1, 2, 3].map(() => rr.choose(choices, 0).cpu)).toEqual([0, 1, 2, 0]);
  });

  it('seeded random: the same seed gives the same decisions; another seed, others', () => {
    const choices = Array.from({ length: 4 }, (_, cpu) => ({ cpu, switch_to: null }));
    const pick = (seed: number) => {
      const r = randomStrategy(seed);
      return Array.from({ length: 40 }, () => r.choose(choices, 0).cpu);
    };
    expect(pick(7)).toEqual(pick(7));
    expect(pick(7)).not.toEqual(pick(8));
    expect(new Set(pick(7)).size).toBe(4);
  });

  it('replay refuses a logged decision that is not possible', () => {
    const r = replayStrategy(() => ({ cpu: 3, switch_to: null }));
    expect(() => r.choose([{ cpu: 0, switch_to: null }], 0)).toThrow(ScheduleDivergence);
  });

  it('nanoid ids come from the seed: same seed, same ids', () => {
    const a = seededIds(5, 'kprobes');
    const b = seededIds(5, 'kprobes');
    const c = seededIds(6, 'kprobes');
    const ids = [a(), a()];
    expect([b(), b()]).toEqual(ids);
    expect(c()).not.toBe(ids[0]);
    expect(ids[0]).toMatch(/^[0-9A-Za-z_-]{10}$/);
  });

  it('a migration is reported when a preempted task resumes on another CPU', () => {
    const run = trace(
      scenario({ cpus: 2, tasks: Array.from({ length: 3 }, (_, i) => ({ comm: `t${i}`, program: [{ op: 'call' as const, fn: 'kernel_clone', times: 6 }] })) }),
      { seed: 5 },
    );
    const switches = ofType(run.events, 'sched.switch');
    const migrated = switches.filter((e) => e.migrated);
    expect(migrated.length).toBeGreaterThan(0);
    for (const m of migrated) {
      const before = run.states[run.events.indexOf(m) - 1]!;
      const last = before.tasks.find((t) => t.pid === m.next)!.last_cpu;
      expect(last).not.toBeNull();
      expect(last).not.toBe(m.cpu);
    }
  });
});
