import type { DomainEvent } from '../events.ts';
import type { SchedState } from '../state.ts';

// ── the scheduler slice (owned by sched) ───────────────────────────────────────────────────

export function evolveSched(s: SchedState, e: DomainEvent): SchedState {
  switch (e.type) {
    case 'sched.pick':
      return { curr: s.curr, steps: s.steps + 1 };
    case 'sched.switch': {
      const curr = s.curr.slice();
      curr[e.cpu] = e.next;
      return { curr, steps: s.steps };
    }
    default:
      return s;
  }
}
