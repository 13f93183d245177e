import type { Choice } from '../scheduler/choices.ts';
import { defaultIndex, type Strategy } from '../scheduler/strategies.ts';
import type { Preemption } from './shrink.ts';

// Lenient replay of a shrink candidate by labelled decisions (issue 12, "Shrinking and
// explaining": "delta-debug the decision sequence toward 'keep running the current CPU',
// replaying leniently by labelled decisions"). A candidate is the default schedule plus some of a
// failing run's preemptions; each preemption carries the label of the decision it forced in the
// run it came from (src/scheduler/label.ts: what the chosen CPU's step did, `cpu0: rmmod wakes`).
// Leaving out an earlier preemption, or moving one, shifts the decision indices after it: the
// step a later preemption made happen may become possible only a few decisions after its old
// index (its CPU still blocked there, on a sync, a mutex or a sleep), where replaying by index
// alone would skip it. So a preemption whose choice is on the menu at its index is applied there
// (whatever its step now does, as replaying by index does); one whose choice is not is applied at
// the first later decision, within LABEL_WINDOW, where the choice with its label is enabled, and
// skipped when there is none. Preemptions keep their order: none is applied before the previous
// one's applied position. Everything else is the default decision. The replay counts decisions,
// never time: it is as deterministic as the run.
//
// Why the index first: applying a preemption only where its label matches (also at its index)
// was measured on the five mutants (docs/explore.md, "Shrinking") and lost a candidate that
// replaying by index kept: a CPU brought in at the right moment, its step a different one than
// in the run the preemption came from, still opens the race, and the stricter replay spent more
// runs for the same result.

/** A preemption with the label of the decision it forced in the run it came from. */
export interface LabelledPreemption extends Preemption {
  readonly label: string;
}

/** How many decisions after its index a preemption may still be applied. */
export const LABEL_WINDOW = 8;

export interface LabelReplay {
  /** The candidate's schedule. */
  readonly strategy: Strategy;
  /** For executeRun's `labelChoices`: how the strategy labels the enabled choices. */
  readonly labelChoices: (labelOf: (choice: Choice) => string) => void;
  /** applied[k]: the decision preemption k was applied at, or null (skipped, or not reached yet). */
  readonly applied: readonly (number | null)[];
}

/** The default schedule plus `preemptions` (in decision order), each applied by its label. */
export function labelReplay(preemptions: readonly LabelledPreemption[], window = LABEL_WINDOW): LabelReplay {
  let labelOf: ((choice: Choice) => string) | null = null;
  const applied: (number | null)[] = preemptions.map(() => null);
  let next = 0; // preemptions before it were applied or skipped
  let i = 0;
  let last: number | null = null;
  let yielded = false; // the last decision's step only spun (Strategy.yielded)
  const take = (chosen: Choice): Choice => {
    last = chosen.cpu;
    yielded = false;
    i++;
    return chosen;
  };
  const label = (c: Choice): string => {
    if (labelOf === null) throw new Error('internal: a label replay run without its labelChoices (pass both to executeRun)');
    return labelOf(c);
  };
  const strategy: Strategy = {
    name: 'explore',
    choose(choices) {
      while (next < preemptions.length && i > preemptions[next]!.at + window) next++;
      // The pending preemptions whose index has come, in order; applying one skips those before it.
      for (let k = next; k < preemptions.length && preemptions[k]!.at <= i; k++) {
        const p = preemptions[k]!;
        // At its index, the choice itself; later, the choice with its label (a label names its
        // CPU, `cpu0: …`, so only that CPU's choices are labelled).
        const found =
          i === p.at
            ? choices.find((c) => c.cpu === p.choice.cpu && c.switch_to === p.choice.switch_to)
            : choices.find((c) => c.cpu === p.choice.cpu && label(c) === p.label);
        if (found !== undefined) {
          applied[k] = i;
          next = k + 1;
          return take(found);
        }
      }
      return take(choices[defaultIndex(choices, last, yielded)]!);
    },
    follow(chosen) {
      last = chosen.cpu;
      yielded = false;
      i++;
    },
    yielded() {
      yielded = true;
    },
  };
  return {
    strategy,
    labelChoices: (f) => {
      labelOf = f;
    },
    applied,
  };
}
