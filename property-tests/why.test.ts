import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../src/actors/simulation.ts';
import type { LoggedEvent } from '../src/model/events.ts';
import { symbolsOf } from '../src/model/setup.ts';
import { scenarioArbitrary, seedArbitrary } from '../src/scenario/arbitrary.ts';
import { randomStrategy } from '../src/scheduler/strategies.ts';
import { WhyView } from '../src/views/why.ts';
import { RUNS } from './helpers.ts';

// `kprobesim why` explains *each* nmissed increment (issue 3, item 11): on random scenarios and
// schedules, whatever path counted it (breakpoint R50, ftrace R91, the optimized jump R86, the
// pre-5.14 fault path R58), the explained increments since the probe's last registration (R2
// resets nmissed) are exactly its final nmissed.

describe('why', () => {
  it('INV-nmissed/why: every nmissed increment of every probe is explained, and nothing else', () => {
    fc.assert(
      fc.property(scenarioArbitrary(), seedArbitrary, (scenario, seed) => {
        const symbols = symbolsOf(scenario);
        const views = scenario.probes.map((p) => new WhyView(p.name, symbols));
        const lastRegister = new Map<string, number>();
        const registrations = { observe: (_b: unknown, e: LoggedEvent) => void (e.type === 'kprobe.register' && lastRegister.set(e.probe, e.seq)) };
        const sim = new Simulation(scenario, { seed, strategy: randomStrategy(seed), projections: [...views, registrations] });
        sim.run();
        for (const view of views) {
          const since = lastRegister.get(view.probe) ?? 0;
          const explained = view
            .text(sim.world)
            .split('\n')
            .flatMap((l) => {
              const m = /^ {2}seq (\d+) \(t=\d+\): cpu \d+ .*; nmissed is now (\d+)$/.exec(l);
              return m === null ? [] : [{ seq: Number(m[1]), nmissed: Number(m[2]) }];
            })
            .filter((m) => m.seq > since);
          const nmissed = sim.world.stats[view.probe]!.nmissed;
          expect(explained.length).toBe(nmissed);
          // And in order: the n-th increment says "nmissed is now n".
          expect(explained.map((m) => m.nmissed)).toEqual(explained.map((_, i) => i + 1));
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
