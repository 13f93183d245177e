import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';

// What every invariant checker shares: the ids of design.md's runtime invariants, the shape of a
// violation, and the interface one checker implements. Each invariant has its own file (inv-*.ts)
// so that a checker and the state it keeps can be read, and changed, alone; InvariantMonitor
// (invariants.ts) runs them all on every event.

export const INVARIANTS = [
  'INV-status',
  'INV-nmissed',
  'INV-preempt',
  'INV-unregister',
  'INV-removed-race',
  'INV-mutex',
  'INV-text',
  'INV-disabled',
  'INV-kretprobe',
  'INV-aggr-order',
] as const;
export type InvariantId = (typeof INVARIANTS)[number];

export interface Violation {
  readonly inv: InvariantId;
  readonly seq: number;
  readonly message: string;
}

/** Reports a violation of the checker's own invariant, seen at `seq`. */
export type Report = (seq: number, message: string) => void;

/** One invariant, checked on each event with the folded state before and after it. */
export interface InvariantChecker {
  readonly inv: InvariantId;
  observe(before: KernelState, e: LoggedEvent, after: KernelState, report: Report): void;
}

/** The CPU whose own step `e` is (an event a CPU actor emitted about itself), else undefined. */
export function steppingCpu(e: LoggedEvent): number | undefined {
  return 'cpu' in e && e.src.startsWith('cpu/') ? e.cpu : undefined;
}
