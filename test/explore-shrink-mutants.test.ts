import { describe, expect, it } from 'vitest';
import { explore } from '../src/explore/explore.ts';
import { MUTANT_INFO, MUTANTS, type MutantName } from '../src/kprobes/mutants.ts';
import { loadScenario } from '../src/scenario/load.ts';

// Issue 12, "Benchmarks": minimal failing logs for the mutants, with at most 2 preemptions where
// the bug needs no more, and decisions after shrinking at most 1/10 of before. Each mutant is
// explored on its own scenario (kprobesim mutants) by PCT, which finds each within a few runs.
// How many preemptions each one's minimum needs, from the rule it breaks
// (/work/shared/spec/kprobes-semantics.md):
// - arm-before-insert (R18, R27): the breakpoint is written before the probe is in the table;
//   INV-text sees an armed byte with no probe behind it at the registering CPU's own step. No
//   other CPU is involved: 0.
// - no-reenter-check (R50, R52): a hit on a CPU already running a kprobe runs the handlers again;
//   in printk-recursion the handler's own _printk is that hit, on the same CPU: 0.
// - no-grace-period (R65, R67): unregister_kprobe returns while a CPU is still in the handler.
//   The default schedule runs the reader on cpu1 to its end before rmmod on cpu0 runs again, so
//   no CPU is in a handler when it unregisters; one preemption (cpu0 while cpu1 is in slow's
//   pre-handler) is needed and enough: 1.
// - disarm-without-sync (R18, R55) and int3-sync-gap (R54-R56): cpu1 between its int3 and the
//   probe lookup while cpu0 disarms and unlinks (nothing waits for the trapped CPU). The default
//   schedule never puts cpu0 there; one preemption right after a trap does: 1.
const NEEDS: Record<MutantName, number> = {
  'arm-before-insert': 0,
  'no-reenter-check': 0,
  'no-grace-period': 1,
  'disarm-without-sync': 1,
  'int3-sync-gap': 1,
};

describe('each mutant shrinks to the preemptions its bug needs', () => {
  for (const mutant of MUTANTS) {
    it(`${mutant} on ${MUTANT_INFO[mutant].scenario}: ${NEEDS[mutant]} preemption${NEEDS[mutant] === 1 ? '' : 's'} (${MUTANT_INFO[mutant].caughtBy})`, async () => {
      const scenario = await loadScenario(MUTANT_INFO[mutant].scenario);
      const r = await explore(scenario, { strategy: 'pct', runs: 100, seed: 42, mutant, out: null });
      const f = r.failures[0]!;
      expect(f.check).toBe(MUTANT_INFO[mutant].caughtBy);
      expect(f.preemptions).toBe(NEEDS[mutant]);
      expect(f.preemptions).toBeLessThanOrEqual(2);
      expect(f.schedule).toHaveLength(f.preemptions);
      // Shrinking never makes a run busier: no more context switches or decisions than found.
      expect(f.context_switches).toBeLessThanOrEqual(f.context_switches_before_shrinking);
      expect(f.decisions).toBeLessThanOrEqual(f.decisions_before_shrinking);
      // The races open their window only after the workload's sleeps (hundreds of decisions);
      // the shrunk scenario's shorter sleeps and the advanced window bring it to a tenth.
      if (NEEDS[mutant] > 0) expect(f.decisions * 10).toBeLessThanOrEqual(f.decisions_before_shrinking);
    }, 60_000);
  }
});
