import type { Choice } from '../choices.ts';

// Pluggable schedules. A strategy sees the menu of enabled choices (never the kernel state) and
// returns one of them; each strategy has its own file next to this one, and exploration
// strategies (PCT, exhaustive search) fit the same interface.

/** The strategies a log header may name (log contract v1: src/log/header.ts checks against it). */
export const STRATEGY_NAMES = ['random', 'round-robin', 'replay'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export interface Strategy {
  readonly name: StrategyName;
  choose(choices: readonly Choice[], t: number): Choice;
}
