import { seededRng } from '../rng.ts';
import type { Strategy } from './strategy.ts';

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
