import { pctStrategy, type PctOptions } from './pct.ts';
import { randomStrategy } from './random.ts';
import type { Strategy } from './strategy.ts';
import { swarmStrategy } from './swarm.ts';

// A portfolio (as Coyote's default): run i of an exploration takes its schedule from the member
// i mod 3, so one budget covers PCT's deep orderings, the random walk's breadth and swarm's
// starvation. Only strategies whose runs are independent of each other belong here: systematic
// search (dfs) walks one tree, each run depending on those before it, and a portfolio run must be
// a function of its seed and index alone (workers and shards run any subset of them).

export const PORTFOLIO = ['pct', 'random', 'swarm'] as const;
export type PortfolioMember = (typeof PORTFOLIO)[number];

export function portfolioMember(index: number): PortfolioMember {
  return PORTFOLIO[index % PORTFOLIO.length]!;
}

/** The strategy of run `index` of a portfolio exploration (seeded with that run's seed). */
export function portfolioStrategy(index: number, seed: number, pct: PctOptions): Strategy {
  const member = portfolioMember(index);
  return member === 'pct' ? pctStrategy(seed, pct) : member === 'random' ? randomStrategy(seed) : swarmStrategy(seed);
}
