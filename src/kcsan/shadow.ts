import type { AccessType } from './access.ts';
import type { VectorClock } from './clock.ts';

// Shadow memory, byte by byte, as FastTrack keeps it: the last write of each byte and the reads
// of it since (one per thread), each stamped with its thread and that thread's epoch. An access
// by thread t races with a recorded one by another thread u when u's epoch is not in t's clock
// (t has not acquired anything u released after it), one of the two writes, and one of the two
// is plain (KCSAN: "at least one of them is a plain access").

export interface Stamp<I> {
  readonly thread: number;
  readonly epoch: number;
  readonly marked: boolean;
  readonly write: boolean;
  /** What the report says of the access (shared by every byte it covered). */
  readonly info: I;
  /** Order of the access in the run (the earliest conflicting one is reported). */
  readonly order: number;
}

interface Cell<I> {
  write: Stamp<I> | null;
  reads: Stamp<I>[];
}

export class Shadow<I> {
  private readonly cells = new Map<bigint, Cell<I>>();

  /**
   * Checks an access against what each byte holds and records it. Returns the earliest recorded
   * access it races with, or null.
   */
  access(addr: bigint, size: number, type: AccessType, stamp: Stamp<I>, clock: VectorClock): Stamp<I> | null {
    const writes = type !== 'read';
    const reads = type !== 'write';
    let race: Stamp<I> | null = null;
    const conflicts = (p: Stamp<I>): boolean => p.thread !== stamp.thread && p.epoch > clock.get(p.thread) && (!p.marked || !stamp.marked);
    const note = (p: Stamp<I>) => {
      if (conflicts(p) && (race === null || p.order < race.order)) race = p;
    };
    for (let i = 0n; i < BigInt(size); i++) {
      const at = addr + i;
      let cell = this.cells.get(at);
      if (cell === undefined) this.cells.set(at, (cell = { write: null, reads: [] }));
      if (cell.write !== null) note(cell.write);
      if (writes) {
        for (const r of cell.reads) note(r);
        cell.write = stamp;
        // Reads this write is ordered after are covered by it; a concurrent one (marked, with a
        // marked write) stays, for a later plain write of a third thread.
        cell.reads = cell.reads.length === 0 ? cell.reads : cell.reads.filter((r) => r.thread !== stamp.thread && r.epoch > clock.get(r.thread));
      } else if (reads) {
        cell.reads = [...cell.reads.filter((r) => r.thread !== stamp.thread), stamp];
      }
    }
    return race;
  }

  /** The bytes are a new object (or gone): what was recorded of them no longer counts. */
  forget(addr: bigint, size: number): void {
    if (this.cells.size === 0) return;
    for (let i = 0n; i < BigInt(size); i++) this.cells.delete(addr + i);
  }
}
