import type { Choice } from '../choices.ts';
import { seededRng } from '../rng.ts';
import type { Strategy } from './strategy.ts';

// Swarm testing (Groce, Zhang, Eide, Chen, Regehr, ISSTA 2012) applied to schedules: each run
// draws its own configuration, leaving some CPUs and tasks out (weight 0: chosen only when
// nothing else is enabled) and favouring others, and its own rate of context switches. A race
// that needs one CPU to sit still while another runs ahead is rare under a uniform walk and
// common in the runs whose configuration starves that CPU.
//
// After a yield (a step that only spun on a spinlock: Strategy.yielded) the next decision leaves
// the spinning CPU out when anything else can run: otherwise a run that gives the lock holder's
// CPU weight 0 would spin until the step limit.

const WEIGHTS = [0, 1, 4, 16] as const;
/** A switch happens with odds 1 in N when the CPU could also step (0: only when it must). */
const SWITCH_ODDS = [0, 64, 16, 4] as const;

export function swarmStrategy(seed: number): Strategy {
  const rng = seededRng(seed, 'swarm');
  const switchOdds = SWITCH_ODDS[rng.int(0, SWITCH_ODDS.length - 1)]!;
  const cpuWeight = new Map<number, number>();
  const taskWeight = new Map<number, number>();
  const weightOf = (map: Map<number, number>, key: number): number => {
    let w = map.get(key);
    if (w === undefined) {
      w = WEIGHTS[rng.int(0, WEIGHTS.length - 1)]!;
      map.set(key, w);
    }
    return w;
  };
  /** Index of one of `items` drawn by weight (uniformly when every weight is 0). */
  const draw = (weights: readonly number[]): number => {
    const total = weights.reduce((a, b) => a + b, 0);
    if (total === 0) return rng.int(0, weights.length - 1);
    let r = rng.int(0, total - 1);
    let i = 0;
    while (r >= weights[i]!) r -= weights[i++]!;
    return i;
  };
  let spinner: number | null = null;
  return {
    name: 'swarm',
    choose(menu) {
      const others = spinner === null ? menu : menu.filter((c) => c.cpu !== spinner);
      const choices = others.length > 0 ? others : menu;
      spinner = null;
      const cpus: number[] = [];
      for (const c of choices) if (cpus.at(-1) !== c.cpu) cpus.push(c.cpu);
      const cpu = cpus[draw(cpus.map((c) => weightOf(cpuWeight, c)))]!;
      const mine = choices.filter((c) => c.cpu === cpu);
      const stepChoice = mine[0]!.switch_to === null ? mine[0]! : undefined;
      const switches: Choice[] = stepChoice === undefined ? mine : mine.slice(1);
      if (switches.length === 0) return stepChoice!;
      if (stepChoice !== undefined && (switchOdds === 0 || rng.int(1, switchOdds) !== 1)) return stepChoice;
      return switches[draw(switches.map((c) => weightOf(taskWeight, c.switch_to!)))]!;
    },
    yielded(cpu) {
      spinner = cpu;
    },
  };
}
