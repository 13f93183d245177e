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
  /**
   * The step of `cpu` (the previous decision's) only spun: it waits for a spinlock another CPU
   * holds, and changed nothing. Told before the next decision. A spin loop is a yield, as
   * systematic concurrency testing treats it (CHESS, PCT, Coyote): a strategy that would let the
   * same CPU run on (PCT's highest priority, the default schedule's "go on while it can", swarm's
   * heavy weight) would spin until the step limit while the holder never runs; so PCT drops the
   * spinner to its lowest priority, swarm leaves it out of the next decision, and the default
   * schedule moves on to the next CPU (a free switch, not a preemption). Fair strategies omit it.
   */
  yielded?(cpu: number): void;
}
