import type { Choice } from '../choices.ts';
import type { Strategy } from './strategy.ts';

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
