import type { LoggedEvent } from '../model/events.ts';
import { evolve } from '../model/evolve.ts';
import type { KernelState } from '../model/state.ts';

// Views and monitors see each event together with the state before and after it, so the fold
// runs once however many of them watch.

export interface Projection {
  observe(before: KernelState, e: LoggedEvent, after: KernelState): void;
}

export class Folder {
  constructor(
    public state: KernelState,
    private readonly projections: readonly Projection[] = [],
  ) {}

  apply(e: LoggedEvent): KernelState {
    const before = this.state;
    const after = evolve(before, e);
    this.state = after;
    for (const p of this.projections) p.observe(before, e, after);
    return after;
  }
}
