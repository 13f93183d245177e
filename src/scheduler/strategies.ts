import { randomStrategy } from './strategies/random.ts';
import { roundRobinStrategy } from './strategies/round-robin.ts';
import type { Strategy } from './strategies/strategy.ts';

// The catalogue of scheduling strategies: each lives in its own file under strategies/ behind the
// Strategy interface (strategies/strategy.ts); this module lists them for the rest of the program
// and picks one by the name a run or a log header gives. A new strategy (PCT, exhaustive search)
// is a new file there and a line here.

export { STRATEGY_NAMES, type Strategy, type StrategyName } from './strategies/strategy.ts';
export { randomStrategy } from './strategies/random.ts';
export { roundRobinStrategy } from './strategies/round-robin.ts';
export { describe, replayStrategy, ScheduleDivergence } from './strategies/replay.ts';
export { defaultIndex, forcedStrategy } from './strategies/dfs.ts';
export { pctStrategy, pctGuarantee, type PctOptions } from './strategies/pct.ts';
export { swarmStrategy } from './strategies/swarm.ts';
export { PORTFOLIO, portfolioMember, portfolioStrategy, type PortfolioMember } from './strategies/portfolio.ts';

/** The strategy a run (or a log header) names; replay is built from a log, not by name. */
export function strategyByName(name: 'random' | 'round-robin', seed: number): Strategy {
  return name === 'random' ? randomStrategy(seed) : roundRobinStrategy();
}
