import type { EndReason } from '../actors/simulation.ts';
import type { LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import { describeWait, type Failure, type FailureDetector } from './detectors.ts';

// The liveness phase (as TigerBeetle's VOPR follows its safety phase with one): after the
// exploring strategy has had its say, a fair schedule (round-robin over the CPUs) runs, and every
// register/unregister call and every grace period pending when it starts must complete within
// `bound` decisions. A call still pending when the run stops at its step limit under the fair
// schedule fails too: nothing would ever finish it.

/** Decisions the fair phase gives pending work to complete, at most (half of max_steps when smaller). */
export const LIVENESS_BOUND = 10_000;

/** What must complete: each API call by its task, each batch, each grace period by generation. */
function obligations(w: KernelState): Map<string, string> {
  const out = new Map<string, string>();
  for (const [pid, call] of Object.entries(w.kprobes.calls)) {
    const task = w.tasks.find((t) => t.pid === Number(pid));
    const waiting = task === undefined ? '' : `; ${describeWait(w, task)}`;
    out.set(`call:${pid}:${call.fn}:${call.probe}`, `${call.fn}(${call.probe}) by pid ${pid} has not returned (phase ${call.phase}${waiting})`);
  }
  for (const [pid, batch] of Object.entries(w.kprobes.batches)) out.set(`batch:${pid}:${batch.fn}`, `${batch.fn}(${batch.probes.join(', ')}) by pid ${pid} has not returned`);
  for (const [gen, cpus] of Object.entries(w.kprobes.gps)) out.set(`gp:${gen}`, `grace period #${gen} has not ended (no quiescent state from cpus ${cpus.join(', ')})`);
  return out;
}

export class LivenessDetector implements FailureDetector {
  found: Failure | null = null;
  private pending: Map<string, string> | null = null;
  private fairDecisions = 0;
  private lastSeq = 0;

  constructor(private readonly bound: number) {}

  /** The fair phase starts now, on this state. */
  startFairPhase(w: KernelState): void {
    this.pending = obligations(w);
  }

  observe(_before: KernelState, e: LoggedEvent, after: KernelState): void {
    this.lastSeq = e.seq;
    if (this.pending === null || this.found !== null || e.type !== 'sched.pick') return;
    if (++this.fairDecisions < this.bound) return;
    this.check(after, this.pending, `after ${this.bound} decisions of a fair schedule`);
    this.pending = new Map();
  }

  end(reason: EndReason, w: KernelState): void {
    if (this.pending === null || this.found !== null || reason !== 'limit') return;
    this.check(w, obligations(w), `at the run's step limit, under a fair schedule`);
  }

  private check(w: KernelState, expected: ReadonlyMap<string, string>, when: string): void {
    const now = obligations(w);
    const stuck = [...expected.keys()].filter((k) => now.has(k)).map((k) => now.get(k)!);
    if (stuck.length > 0) this.found = { kind: 'liveness', check: 'liveness', message: `liveness: ${when}, ${stuck.join('; ')}`, seq: this.lastSeq };
  }
}
