import type { Choice } from './choices.ts';
import { seededRng } from './rng.ts';

// Pluggable schedules. A strategy sees the menu of enabled choices (never the kernel state) and
// returns one of them; exploration strategies (PCT, exhaustive search) fit the same interface.

export interface Strategy {
  readonly name: StrategyName;
  choose(choices: readonly Choice[], t: number): Choice;
}

export type StrategyName = 'random' | 'round-robin' | 'replay';
export const STRATEGY_NAMES: readonly StrategyName[] = ['random', 'round-robin', 'replay'];

/**
 * Seeded random: a CPU uniformly among those with something to do, then its step, or now and
 * then (1 in 16) a context switch; an idle CPU always switches.
 */
export function randomStrategy(seed: number): Strategy {
  const rng = seededRng(seed, 'sched');
  return {
    name: 'random',
    choose(choices) {
      // Choices come grouped by CPU (enabledChoices builds them so): count the CPUs, pick one.
      let cpus = 0;
      for (let i = 0; i < choices.length; i++) if (i === 0 || choices[i]!.cpu !== choices[i - 1]!.cpu) cpus++;
      let k = rng.int(0, cpus - 1);
      let from = 0;
      while (k > 0) if (choices[++from]!.cpu !== choices[from - 1]!.cpu) k--;
      let to = from;
      while (to + 1 < choices.length && choices[to + 1]!.cpu === choices[from]!.cpu) to++;
      // Within one CPU the step (if any) comes first, then its possible switches.
      const first = choices[from]!;
      const switches = first.switch_to === null ? to - from : to - from + 1;
      if (first.switch_to === null && (switches === 0 || rng.int(0, 15) !== 0)) return first;
      return choices[to - rng.int(0, switches - 1)]!;
    },
  };
}

/** Round-robin over CPUs; each CPU steps if it can, else takes the first waiting task. */
export function roundRobinStrategy(): Strategy {
  let last = -1;
  return {
    name: 'round-robin',
    choose(choices) {
      const cpus = [...new Set(choices.map((c) => c.cpu))].sort((a, b) => a - b);
      const cpu = cpus.find((c) => c > last) ?? cpus[0]!;
      last = cpu;
      const mine = choices.filter((c) => c.cpu === cpu);
      return mine.find((c) => c.switch_to === null) ?? mine[0]!;
    },
  };
}

/** A logged decision that the replay strategy could not follow. */
export class ScheduleDivergence extends Error {
  constructor(
    readonly wanted: Choice,
    readonly enabled: readonly Choice[],
  ) {
    super(
      `the logged decision ${describe(wanted)} is not possible here (enabled: ${enabled.map(describe).join(', ') || 'none'})`,
    );
  }
}

export function describe(c: Choice): string {
  return c.switch_to === null ? `cpu ${c.cpu} steps` : `cpu ${c.cpu} switches to pid ${c.switch_to}`;
}

/** Takes each decision from `next()` (a log being replayed); refuses decisions not on the menu. */
export function replayStrategy(next: () => Choice): Strategy {
  return {
    name: 'replay',
    choose(choices) {
      const wanted = next();
      const found = choices.find((c) => c.cpu === wanted.cpu && c.switch_to === wanted.switch_to);
      if (found === undefined) throw new ScheduleDivergence(wanted, choices);
      return found;
    },
  };
}

export function strategyByName(name: 'random' | 'round-robin', seed: number): Strategy {
  return name === 'random' ? randomStrategy(seed) : roundRobinStrategy();
}
