import type { Choice } from '../choices.ts';
import { seededRng } from '../rng.ts';
import type { Strategy } from './strategy.ts';

// PCT, probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS
// 2010). Every thread gets a random priority of at least d; the highest-priority enabled thread
// always runs; at d−1 change points, drawn uniformly over the run's k steps, the running thread
// drops to priority i (below every initial one). A bug of depth d (d orderings that must hold)
// is then found by each run with probability at least 1/(n·k^(d−1)) for n threads.
//
// Threads here are what the menu offers: a CPU's own step (what runs on it: its task, a handler,
// the breakpoint path) and a queued task waiting to be switched onto some CPU.
//
// A yield (a CPU's step that only spun on a spinlock another CPU holds: Strategy.yielded) drops
// that CPU to a priority below every other, each yield lower than the last, as the PCT paper
// handles yields: otherwise a spinner ranked above the holder would spin until the step limit.

export interface PctOptions {
  /** The bug depth d: d−1 priority change points (1: none, pure priority scheduling). */
  readonly depth: number;
  /** k, the estimated number of decisions in a run (the change points are drawn in 1..k). */
  readonly length: number;
}

function threadOf(c: Choice): string {
  return c.switch_to === null ? `cpu${c.cpu}` : `pid${c.switch_to}`;
}

export function pctStrategy(seed: number, opts: PctOptions): Strategy {
  const rng = seededRng(seed, 'pct');
  const depth = Math.max(1, opts.depth);
  const k = Math.max(1, opts.length);
  // Change point j (1-based) at decision changeAt[j-1]; a decision past k never is one.
  const changeAt = new Map<number, number>();
  for (let j = 1; j < depth; j++) {
    const at = rng.int(1, k);
    if (!changeAt.has(at)) changeAt.set(at, j);
  }
  const priority = new Map<string, number>();
  const prio = (thread: string): number => {
    let p = priority.get(thread);
    if (p === undefined) {
      // Initial priorities are at least `depth`, above every changed one; a draw over 2^30 makes
      // ties rare, and a tie goes to the choice listed first.
      p = depth + rng.int(0, 0x3fffffff);
      priority.set(thread, p);
    }
    return p;
  };
  const highest = (choices: readonly Choice[]): Choice => {
    let best = choices[0]!;
    let bestPrio = prio(threadOf(best));
    for (let i = 1; i < choices.length; i++) {
      const p = prio(threadOf(choices[i]!));
      if (p > bestPrio) {
        best = choices[i]!;
        bestPrio = p;
      }
    }
    return best;
  };
  // Yields go below the change points' 1..d−1: 0, then −1, …
  let yieldPrio = 0;
  let step = 0;
  return {
    name: 'pct',
    choose(choices) {
      step++;
      let chosen = highest(choices);
      const j = changeAt.get(step);
      if (j !== undefined) {
        priority.set(threadOf(chosen), j);
        chosen = highest(choices);
      }
      return chosen;
    },
    yielded(cpu) {
      priority.set(`cpu${cpu}`, yieldPrio--);
    },
  };
}

/** PCT's bound on the chance that one run finds a bug of depth d: 1/(n·k^(d−1)). */
export function pctGuarantee(n: number, k: number, d: number): number {
  return 1 / (Math.max(1, n) * Math.max(1, k) ** Math.max(0, d - 1));
}
