import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/model/digest.ts';
import { evolve } from '../src/model/evolve.ts';
import { initialState } from '../src/model/initial.ts';
import type { LoggedEvent } from '../src/model/events.ts';
import { scenarioArbitrary, seedArbitrary } from '../src/scenario/arbitrary.ts';
import { RUNS, runInMemory, simulation } from './helpers.ts';

describe('INV-fold: the fold of the log equals the actors\' state at every step', () => {
  it('INV-fold: after every step each actor\'s context equals its slice of the folded state', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxSteps: 1500 }), seedArbitrary, (scenario, seed) => {
        const sim = simulation(scenario, seed);
        let steps = 0;
        do {
          const w = sim.world;
          const views = sim.actorViews();
          views.cpus.forEach((v, i) => {
            const folded = w.cpus[i]!;
            expect(v.cpu).toEqual(folded);
            // The machine's state value is the kprobe_status (R43), or 'halted' after a BUG.
            expect(v.value).toBe(folded.halted ? 'halted' : folded.status);
          });
          expect(views.sched).toEqual(w.sched);
          expect(views.kprobes.kprobes).toEqual(w.kprobes);
          expect(views.kprobes.value).toBe(w.kprobes.mutex.owner === null ? 'unlocked' : 'locked');
          // Each task's call machine stands at the step of its call's folded phase (none: no call).
          for (const [pid, phase] of Object.entries(views.kprobes.calls)) expect(phase, `pid ${pid}`).toBe(w.kprobes.calls[Number(pid)]?.phase ?? null);
          for (const pid of Object.keys(w.kprobes.calls)) expect(views.kprobes.calls[pid], `pid ${pid}`).toBe(w.kprobes.calls[Number(pid)]!.phase);
          steps++;
        } while (sim.step());
        expect(steps).toBeGreaterThan(1);
      }),
      { numRuns: RUNS },
    );
  });

  it('INV-fold: folding the serialized log from the initial state gives the run\'s final state', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary(), seedArbitrary, async (scenario, seed) => {
        const { log, result } = await runInMemory(scenario, seed);
        let s = initialState(scenario);
        for (const line of log.lines.slice(1)) s = evolve(s, JSON.parse(line) as LoggedEvent);
        expect(canonicalJson(s)).toBe(canonicalJson(result.state));
      }),
      { numRuns: RUNS },
    );
  });
});
