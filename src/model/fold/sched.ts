import type { DomainEvent } from '../events.ts';
import type { SchedState } from '../state.ts';

// ── the scheduler slice (owned by sched) ───────────────────────────────────────────────────

export function evolveSched(s: SchedState, e: DomainEvent): SchedState {
  switch (e.type) {
    case 'sched.pick':
      // Literal objects on the hot path; the rare `voluntary` flag is carried along.
      return s.voluntary ? { curr: s.curr, steps: s.steps + 1, voluntary: true } : { curr: s.curr, steps: s.steps + 1 };
    case 'sched.switch': {
      const curr = s.curr.slice();
      curr[e.cpu] = e.next;
      return s.voluntary ? { curr, steps: s.steps, voluntary: true } : { curr, steps: s.steps };
    }
    default:
      return s;
  }
}
