import { describe, expect, it } from 'vitest';
import { runSeed } from '../src/explore/batch.ts';
import { explore } from '../src/explore/explore.ts';
import { stateHash } from '../src/explore/state-hash.ts';
import { initialState } from '../src/model/initial.ts';
import type { KernelState } from '../src/model/state.ts';
import type { Choice } from '../src/scheduler/choices.ts';
import { defaultIndex, forcedStrategy, pctGuarantee, pctStrategy, portfolioMember, swarmStrategy } from '../src/scheduler/strategies.ts';
import { smallRace } from './explore-fixtures.ts';
import { scenario } from './helpers.ts';

// The exploration strategies behind the Strategy interface, each a function of its seed.

const step = (cpu: number): Choice => ({ cpu, switch_to: null });
const menu: Choice[] = [step(0), { cpu: 0, switch_to: 7 }, step(1), step(2)];

describe('the default schedule and forced schedules', () => {
  it('runs the CPU that stepped last while it can, else the lowest CPU', () => {
    expect(defaultIndex(menu, null)).toBe(0);
    expect(defaultIndex(menu, 2)).toBe(3);
    expect(defaultIndex([step(0), { cpu: 1, switch_to: 7 }], 1)).toBe(0);
  });

  it('takes a forced decision when it is on the menu, else the default (lenient replay)', () => {
    const s = forcedStrategy('explore', (i) => [step(2), step(5)][i]);
    expect(s.choose(menu, 0)).toEqual(step(2));
    // Decision 1 wants cpu 5, which is not on the menu: the default continues cpu 2.
    expect(s.choose(menu, 1)).toEqual(step(2));
  });
});

describe('PCT', () => {
  it('with depth 1 always runs the same highest-priority thread', () => {
    const s = pctStrategy(9, { depth: 1, length: 50 });
    const first = s.choose(menu, 0);
    for (let i = 1; i < 50; i++) expect(s.choose(menu, i)).toEqual(first);
  });

  it('changes the running thread at most d−1 times on a constant menu', () => {
    for (let seed = 0; seed < 40; seed++) {
      const s = pctStrategy(seed, { depth: 3, length: 100 });
      const picks = Array.from({ length: 100 }, (_, t) => s.choose([step(0), step(1)], t).cpu);
      const changes = picks.filter((c, i) => i > 0 && c !== picks[i - 1]).length;
      expect(changes).toBeLessThanOrEqual(2);
    }
  });

  it('is a function of its seed, and its bound is 1/(n·k^(d−1))', () => {
    const run = (seed: number) => {
      const s = pctStrategy(seed, { depth: 3, length: 30 });
      return Array.from({ length: 30 }, (_, t) => s.choose(menu, t));
    };
    expect(run(5)).toEqual(run(5));
    expect(pctGuarantee(4, 10, 3)).toBe(1 / 400);
    expect(pctGuarantee(2, 10, 1)).toBe(1 / 2);
  });
});

describe('swarm and portfolio', () => {
  it('swarm picks from the menu, the same way for the same seed, differently across seeds', () => {
    const run = (seed: number) => {
      const s = swarmStrategy(seed);
      return Array.from({ length: 40 }, (_, t) => s.choose(menu, t));
    };
    for (const c of run(1)) expect(menu).toContainEqual(c);
    expect(run(1)).toEqual(run(1));
    const distinct = new Set(Array.from({ length: 10 }, (_, seed) => JSON.stringify(run(seed))));
    expect(distinct.size).toBeGreaterThan(1);
  });

  it('portfolio takes run i from pct, random, swarm in turn', () => {
    expect([0, 1, 2, 3, 4].map(portfolioMember)).toEqual(['pct', 'random', 'swarm', 'pct', 'random']);
  });

  it("gives each run its own schedule seed, from the exploration's seed and the run's index", () => {
    const seeds = new Set(Array.from({ length: 1000 }, (_, i) => runSeed(42, i)));
    expect(seeds.size).toBe(1000);
    expect(runSeed(42, 3)).toBe(runSeed(42, 3));
    expect(runSeed(43, 3)).not.toBe(runSeed(42, 3));
  });
});

describe('state fingerprints', () => {
  const w = initialState(smallRace);
  it('do not depend on key order or on seq, and do on anything else', () => {
    const reordered = Object.fromEntries(Object.entries(w).reverse()) as unknown as KernelState;
    expect(stateHash(reordered)).toBe(stateHash(w));
    expect(stateHash({ ...w, seq: w.seq + 5 })).toBe(stateHash(w));
    expect(stateHash({ ...w, t: w.t + 1 })).not.toBe(stateHash(w));
    expect(stateHash({ ...w, cpus: w.cpus.map((c, i) => (i === 1 ? { ...c, preempt_count: 1 } : c)) })).not.toBe(stateHash(w));
    expect(stateHash(w)).toBeLessThan(2 ** 52);
  });
});

describe('dfs', () => {
  // Two CPUs, one short task each, nothing shared.
  const tiny = scenario({
    cpus: 2,
    tasks: [
      { comm: 'a', cpu: 0, program: [{ op: 'call', fn: 'vfs_read' }] },
      { comm: 'b', cpu: 1, program: [{ op: 'call', fn: 'vfs_read' }] },
    ],
  });

  it('with no preemption allowed runs the default schedule once, and is done', async () => {
    const r = await explore(tiny, { strategy: 'dfs', runs: 100, seed: 1, preemptionBound: 0, out: null });
    expect(r.runs).toBe(1);
    expect(r.dfs).toEqual({ depth: null, preemption_bound: 0, exhausted: true });
  });

  it('runs every schedule within its bounds on a small tree, more for a larger bound', async () => {
    const one = await explore(tiny, { strategy: 'dfs', runs: 100_000, seed: 1, preemptionBound: 1, out: null });
    const two = await explore(tiny, { strategy: 'dfs', runs: 100_000, seed: 1, preemptionBound: 2, out: null });
    expect(one.dfs?.exhausted).toBe(true);
    expect(two.dfs?.exhausted).toBe(true);
    expect(one.runs).toBeGreaterThan(1);
    expect(two.runs).toBeGreaterThan(one.runs);
    // --depth limits where it branches: branching only at decision 0 leaves one alternative.
    const shallow = await explore(tiny, { strategy: 'dfs', runs: 100_000, seed: 1, preemptionBound: 2, depth: 1, out: null });
    expect(shallow.runs).toBe(2);
  });
});
