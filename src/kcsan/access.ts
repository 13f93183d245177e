// The accesses a step of module C code made (event c.step's `acc`, written by src/cexec's
// StepMemory.note): "[m]r|w:0xADDR:SIZE[:ORDER]". A marked read directly followed by a marked
// write of the same bytes is one read-modify-write (an atomic_*() op, a lock word), which KCSAN
// reports as "read-write (marked)".

export type AccessType = 'read' | 'write' | 'read-write';
export type Order = 'acquire' | 'release' | 'full';

export interface StepAccess {
  readonly type: AccessType;
  readonly marked: boolean;
  readonly addr: bigint;
  readonly size: number;
  readonly order: Order | null;
}

const FORM = /^(m?)([rw]):(0x[0-9a-f]+):(\d+)(?::(acquire|release|full))?$/;

function parse(s: string): StepAccess {
  const m = FORM.exec(s);
  if (m === null) throw new Error(`internal: an access "${s}" of no known form`);
  return { type: m[2] === 'r' ? 'read' : 'write', marked: m[1] === 'm', addr: BigInt(m[3]!), size: Number(m[4]), order: (m[5] as Order | undefined) ?? null };
}

/** A step's accesses in order, read-modify-writes joined. */
export function stepAccesses(acc: readonly string[]): StepAccess[] {
  const out: StepAccess[] = [];
  for (const s of acc) {
    const a = parse(s);
    const prev = out.at(-1);
    if (a.type === 'write' && prev !== undefined && prev.type === 'read' && prev.marked && a.marked && prev.addr === a.addr && prev.size === a.size && prev.order === null) {
      out[out.length - 1] = { ...a, type: 'read-write' };
    } else out.push(a);
  }
  return out;
}

/** KCSAN's words for an access (kernel/kcsan/report.c get_access_type). */
export function accessText(type: AccessType, marked: boolean): string {
  return marked ? `${type} (marked)` : type;
}
