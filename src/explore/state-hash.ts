import type { KernelState } from '../model/state.ts';

// A 52-bit fingerprint of a folded kernel state, for counting distinct states and for the
// systematic search's cache. It hashes what canonicalJson serializes (keys sorted, undefined
// left out), so equal states hash equal whatever order the fold built their keys in. The fold
// shares every slice a step did not touch, so each object's hash is memoized by identity: a
// step costs the hashing of what it changed, not of the whole state. Two independent 32-bit
// lanes run side by side at every level (FNV-1a and a Murmur-style multiply), so a sub-object's
// hash carries 52 bits too: with a million states, a collision has odds of about 1 in 10,000.
//
// `seq` (the number of events so far) is left out: two interleavings of the same steps reach
// the same kernel, and commuting steps need not emit their events in one order.

const memo = new WeakMap<object, number>();
const TWO32 = 0x1_0000_0000;

class Lanes {
  a: number;
  b: number;
  constructor(tag: number) {
    this.a = Math.imul(0x811c9dc5 ^ tag, 0x01000193);
    this.b = Math.imul(0x9e3779b9 ^ tag, 0x5bd1e995);
  }
  feed(x: number): void {
    this.a = Math.imul(this.a ^ x, 0x01000193);
    const b = Math.imul(this.b ^ x, 0x5bd1e995);
    this.b = b ^ (b >>> 15);
  }
  feedString(s: string): void {
    this.feed(s.length);
    for (let i = 0; i < s.length; i++) this.feed(s.charCodeAt(i));
  }
  feedHash(h: number): void {
    this.feed(h % TWO32);
    this.feed(Math.floor(h / TWO32));
  }
  get value(): number {
    return (((this.a >>> 0) & 0xfffff) * TWO32) + (this.b >>> 0);
  }
}

function hashValue(v: unknown): number {
  if (typeof v === 'object' && v !== null) return hashObject(v);
  const l = new Lanes(typeof v === 'string' ? 1 : typeof v === 'number' ? 2 : typeof v === 'boolean' ? 3 : typeof v === 'bigint' ? 4 : 5);
  if (v !== null && v !== undefined) l.feedString(String(v));
  return l.value;
}

function hashObject(o: object): number {
  const known = memo.get(o);
  if (known !== undefined) return known;
  let l: Lanes;
  if (Array.isArray(o)) {
    l = new Lanes(6);
    l.feed(o.length);
    for (const x of o) l.feedHash(hashValue(x));
  } else {
    l = new Lanes(7);
    const rec = o as Record<string, unknown>;
    for (const k of Object.keys(rec).sort()) {
      const x = rec[k];
      if (x === undefined) continue;
      l.feedString(k);
      l.feedHash(hashValue(x));
    }
  }
  const h = l.value;
  memo.set(o, h);
  return h;
}

/** The state's fingerprint (everything but `seq`), an integer below 2^52. */
export function stateHash(w: KernelState): number {
  const l = new Lanes(8);
  const rec = w as unknown as Record<string, unknown>;
  for (const k of Object.keys(rec).sort()) {
    const x = rec[k];
    if (k === 'seq' || x === undefined) continue;
    l.feedString(k);
    l.feedHash(hashValue(x));
  }
  return l.value;
}
