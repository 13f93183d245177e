import { describe, expect, it } from 'vitest';
import type { Scenario } from '../src/scenario/types.ts';
import { indexOf, ofType, scenario, trace } from './helpers.ts';

// The removal race before and after v6.3 (spec §6.4, R54-R56, INV-removed-race).

function race(kernel: Scenario['kernel']): Scenario {
  const s = scenario({
    cpus: 3,
    probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 1 }] }],
    tasks: [
      { comm: 'rmmod', cpu: 0, program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'sleep', ticks: 100 }, { op: 'unregister_kprobe', probe: 'kp' }] },
      { comm: 'a', cpu: 1, program: [{ op: 'call', fn: 'vfs_read', times: 60 }] },
      { comm: 'b', cpu: 2, program: [{ op: 'call', fn: 'vfs_read', times: 60 }] },
    ],
  });
  return { ...s, kernel };
}

// Seed 13 makes a CPU trap on the breakpoint just before the unregistering CPU disarms and
// unlinks it, and look the probe up only afterwards.
const SEED = 13;

describe('a trap whose probe was removed meanwhile', () => {
  it('R54/R56 (before v6.3): the trap is recovered: the original instruction runs again, no handler, no miss', () => {
    const run = trace(race('5.10'), { seed: SEED });
    const rec = ofType(run.events, 'kprobe.recovered');
    expect(rec).toHaveLength(1);
    const i = run.events.indexOf(rec[0]!);
    const cpu = rec[0]!.cpu;
    // The probe was unlinked between this CPU's trap and its lookup.
    const trap = run.events.slice(0, i).reverse().find((e) => e.type === 'kprobe.trap' && e.cpu === cpu)!;
    const unlink = ofType(run.events, 'kprobe.unlink')[0]!;
    expect(unlink.seq).toBeGreaterThan(trap.seq);
    expect(unlink.seq).toBeLessThan(rec[0]!.seq);
    // No handler, no nmissed: the counts are those of the hits that found the probe.
    const kp = run.final.stats.kp!;
    expect(kp.hits).toBe(kp.handled + kp.nmissed + kp.skipped);
    expect(run.states[i]!.stats.kp).toEqual(run.states[i - 1]!.stats.kp);
    // The CPU's next instruction is the original one at the probe address.
    const next = indexOf(run.events, (e) => e.type === 'insn.exec' && e.cpu === cpu, i);
    expect(run.events[next]).toMatchObject({ ip: rec[0]!.addr, ctx: 'task' });
    expect(run.states[i]!.cpus[cpu]).toMatchObject({ trap: null, preempt_count: 0, irqs_off: false });
    expect(run.violations).toEqual([]);
  });

  it('R55 (v6.3+): the sync waits for a trapped CPU, so every kprobe trap finds its probe', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const run = trace(race('6.17'), { seed });
      expect(ofType(run.events, 'kprobe.recovered')).toHaveLength(0);
      expect(ofType(run.events, 'kernel.oops')).toHaveLength(0);
      expect(run.violations).toEqual([]);
    }
  });
});
