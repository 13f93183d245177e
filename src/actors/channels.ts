import { Subject, fromEventPattern, merge, type Observable, type Observer } from 'rxjs';
import { fromEventObservable, type AnyActorRef } from 'xstate';
import type { Setup } from '../model/setup.ts';
import type { KernelState } from '../model/state.ts';

// The streams between the actors of one run, besides the merged event stream everyone observes:
//
//   scheduler ──grant──▶ cpu/N        one stream per CPU: "take your next step"
//   cpu/N ──kprobes call──▶ manager   a task's register/unregister/… step is the manager's to do
//
// Delivery is synchronous and in emission order (plain Subjects and XState's emitted events, no
// RxJS scheduler): a grant runs the CPU's whole step, and any call it hands to the manager, before
// the scheduler's TICK returns. A CPU hands a call over by emitting it (XState's `emit`, delivered
// once the CPU's own step is complete); the calls stream is the merge of what the CPUs emit.
// The manager sends no reply on a stream of its own: what a call did is its domain events on the
// merged stream, which the fold turns into the state every actor decides on next.
//
// Actors decide on the folded state as it is when their turn comes (`world()`): an immutable
// snapshot, read, never written. Each receiving machine subscribes through an invoked
// fromEventObservable actor, XState v5's own bridge from RxJS: every value becomes an event.

/** A step the scheduler granted one CPU. */
export interface Grant {
  readonly type: 'STEP';
}

/** A kprobes API call step a CPU's task asks the manager to take. */
export interface KprobesCall {
  readonly type: 'API';
  readonly cpu: number;
  readonly pid: number;
}

export class Channels {
  private readonly grantSubjects: Subject<Grant>[];

  constructor(cpus: number) {
    this.grantSubjects = Array.from({ length: cpus }, () => new Subject<Grant>());
  }

  /** What the scheduler writes to: one observer per CPU. */
  get grantObservers(): readonly Observer<Grant>[] {
    return this.grantSubjects;
  }

  grantsTo(cpu: number): Observable<Grant> {
    return this.grantSubjects[cpu]!;
  }

  complete(): void {
    for (const s of this.grantSubjects) s.complete();
  }
}

/** The events of one type that actors emit (XState's `emit`), as one stream. */
export function emitted<T extends { type: string }>(actors: readonly AnyActorRef[], type: T['type']): Observable<T> {
  return merge(...actors.map((a) => fromEventPattern<T>((handler) => a.on(type, handler), (_handler, subscription: { unsubscribe(): void }) => subscription.unsubscribe())));
}

/** An invoked actor that turns a stream's values into events of the machine that invokes it. */
export const streamEvents = <T extends { type: string }>() => fromEventObservable(({ input }: { input: Observable<T> }) => input);

/**
 * What every actor reads when its turn comes: the folded kernel state after every event published
 * so far, and the run's setup (which a session's input replaces by a new one, never mutates).
 */
export interface RunView {
  readonly world: () => KernelState;
  readonly setup: () => Setup;
}
