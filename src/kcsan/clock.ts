// Vector clocks over the run's threads, as happens-before race detectors keep them (Lamport;
// FastTrack and ThreadSanitizer): component i is how far thread i's own history is known.
// A thread's clock grows by joins (acquire) and by ticking its own component after each release,
// so its later accesses are not covered by what it released.

export class VectorClock {
  private readonly c: number[];

  constructor(c: readonly number[] = []) {
    this.c = c.slice();
  }

  get(i: number): number {
    return this.c[i] ?? 0;
  }

  tick(i: number): void {
    this.c[i] = this.get(i) + 1;
  }

  /** This clock becomes the least clock above itself and `o` (an acquire of what `o` released). */
  join(o: VectorClock): void {
    for (let i = 0; i < o.c.length; i++) if ((o.c[i] ?? 0) > this.get(i)) this.c[i] = o.c[i]!;
  }

  copy(): VectorClock {
    return new VectorClock(this.c);
  }
}
