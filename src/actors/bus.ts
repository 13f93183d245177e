import { Subject, merge, map, share, type Observable } from 'rxjs';
import type { DomainEvent, LoggedEvent, Source } from '../model/events.ts';

// Each actor publishes its domain events on its own RxJS stream; the bus merges them into the
// one ordered stream the log writer, the fold, the views and the monitors subscribe to. The
// stamp (seq, t) is given here, at the merge point, so there is exactly one numbering. The
// clock is logical: it ticks once per scheduling decision (`sched.pick`), and jumps forward
// (`time.advance`) when every CPU is idle until a sleeping task's timer fires.

export interface Outbox {
  readonly src: Source;
  publish(events: readonly DomainEvent[]): void;
}

interface Unstamped {
  readonly src: Source;
  readonly event: DomainEvent;
}

export class EventBus {
  private readonly streams: Subject<Unstamped>[] = [];
  private seq = 0;
  private t = 0;
  private merged: Observable<LoggedEvent> | null = null;

  /** A stream for one actor. Call for every actor before subscribing to `events$`. */
  outbox(src: Source): Outbox {
    const subject = new Subject<Unstamped>();
    this.streams.push(subject);
    return {
      src,
      publish(events) {
        for (const event of events) subject.next({ src, event });
      },
    };
  }

  get events$(): Observable<LoggedEvent> {
    this.merged ??= merge(...this.streams).pipe(
      map(({ src, event }) => {
        if (event.type === 'sched.pick') this.t++;
        else if (event.type === 'time.advance') this.t = event.to;
        return { seq: ++this.seq, t: this.t, src, ...event } as LoggedEvent;
      }),
      share(),
    );
    return this.merged;
  }

  complete(): void {
    for (const s of this.streams) s.complete();
  }
}
