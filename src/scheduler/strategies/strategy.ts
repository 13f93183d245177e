import type { Choice } from '../choices.ts';

// Pluggable schedules. A strategy sees the menu of enabled choices (never the kernel state) and
// returns one of them; each strategy has its own file next to this one, and exploration
// strategies (PCT, exhaustive search) fit the same interface.

/**
 * The strategies a log header may name (log contract v1: src/log/header.ts checks against it).
 * Replay re-creates only `random` and `round-robin` from the header's seed to check a log's
 * decisions; every other name is taken at its log's word. `pct`, `dfs`, `swarm` and `portfolio`
 * are `kprobesim explore`'s (src/explore); `explore` names a schedule the explorer shrank, whose
 * decisions no strategy would make by itself.
 */
export const STRATEGY_NAMES = ['random', 'round-robin', 'replay', 'pct', 'dfs', 'swarm', 'portfolio', 'explore'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export interface Strategy {
  readonly name: StrategyName;
  choose(choices: readonly Choice[], t: number): Choice;
  /**
   * The run made decision `chosen` without asking (exploration's partial-order reduction takes
   * the default decision between branch points): a strategy that counts decisions or remembers
   * the last CPU keeps in step here. Strategies that only react to their own choices omit it.
   */
  follow?(chosen: Choice): void;
}
