import type { Strategy } from './strategy.ts';

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
