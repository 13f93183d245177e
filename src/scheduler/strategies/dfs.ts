import type { Choice } from '../choices.ts';
import type { Strategy, StrategyName } from './strategy.ts';

// The default schedule and schedules forced away from it. Systematic search (kprobesim explore
// --strategy dfs) and shrinking both describe a schedule as the few decisions where it leaves the
// default: "the CPU that stepped last steps again while it can, else the lowest CPU" — unless its
// step only spun on a spinlock (a yield, Strategy.yielded): then the next CPU after it in order
// (wrapping) takes its first choice, so a switch away from a spinner is free. A decision
// that differs from the default is a preemption (a delay, in delay-bounded scheduling's terms);
// the default schedule itself has none.

/**
 * Index in `choices` of the default decision: the step of `last` (the CPU of the previous
 * decision) when it can step, else the first choice of the lowest CPU (enabledChoices lists the
 * CPUs in order, each one's own step before its switches). When `last`'s step was a yield
 * (`lastYielded`), the first choice of the next CPU after `last` that has one, wrapping to the
 * lowest (which is `last` itself when no other CPU can do anything).
 */
export function defaultIndex(choices: readonly Choice[], last: number | null, lastYielded = false): number {
  if (last !== null && lastYielded) {
    const next = choices.findIndex((c) => c.cpu > last);
    return next === -1 ? 0 : next;
  }
  if (last !== null) {
    for (let i = 0; i < choices.length; i++) {
      const c = choices[i]!;
      if (c.cpu === last && c.switch_to === null) return i;
      if (c.cpu > last) break;
    }
  }
  return 0;
}

/**
 * Decision i is `forced(i)` when that is on the menu, else the default decision. A forced decision
 * that is no longer possible (an earlier one changed the run) is skipped, not an error: shrinking
 * replays leniently.
 */
export function forcedStrategy(name: StrategyName, forced: (i: number) => Choice | undefined): Strategy {
  let last: number | null = null;
  let yielded = false;
  let i = 0;
  return {
    name,
    choose(choices) {
      const want = forced(i++);
      let chosen: Choice | undefined;
      if (want !== undefined) chosen = choices.find((c) => c.cpu === want.cpu && c.switch_to === want.switch_to);
      chosen ??= choices[defaultIndex(choices, last, yielded)]!;
      last = chosen.cpu;
      yielded = false;
      return chosen;
    },
    follow(chosen) {
      i++;
      last = chosen.cpu;
      yielded = false;
    },
    yielded() {
      yielded = true;
    },
  };
}
