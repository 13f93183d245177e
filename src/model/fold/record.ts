import { own } from '../own.ts';

// The fold's keyed records (probes, stats, the probe table, kretprobe pools) with keyed updates.
//
// A record is what the state's type says, a plain object from key to value, and reads as one:
// `rec[key]`, `Object.hasOwn`, `Object.keys` (in a plain object's order), spreads, JSON and
// canonical JSON, deep equality. Small records are plain objects, copied on each update as before.
// A record past SMALL keys is a persistent hash trie (a HAMT) behind a read-only Proxy: an
// update copies one path of the trie (O(log32 n)) instead of every key, and earlier states keep
// theirs. Either way the observable record, and so the digest, is the same.

/** Records with more keys than this become persistent tries (plain objects below: cheaper to copy). */
export const SMALL = 64;

type Rec<V> = Readonly<Record<string, V>>;

// ── the trie ───────────────────────────────────────────────────────────────────────────────

interface Leaf<V> {
  readonly key: string;
  readonly hash: number;
  readonly value: V;
  /** Insertion ordinal: a plain object lists its (non-index) keys in insertion order. */
  readonly ord: number;
}
/** Bitmap-indexed node: one child (leaf, node or collision list) per set bit, in bit order. */
interface Branch<V> {
  readonly bitmap: number;
  readonly kids: readonly Kid<V>[];
}
/** Keys whose 32-bit hashes are all equal. */
interface Collision<V> {
  readonly hash: number;
  readonly leaves: readonly Leaf<V>[];
}
type Kid<V> = Leaf<V> | Branch<V> | Collision<V>;

const isLeaf = <V>(k: Kid<V>): k is Leaf<V> => 'key' in k;
const isBranch = <V>(k: Kid<V>): k is Branch<V> => 'bitmap' in k;

function hashOf(key: string): number {
  // FNV-1a over UTF-16 code units, then a final avalanche (murmur3's fmix32).
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const popcount = (x: number): number => {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
};

function find<V>(node: Branch<V>, key: string, hash: number): Leaf<V> | undefined {
  let n: Kid<V> = node;
  for (let shift = 0; ; shift += 5) {
    if (isBranch(n)) {
      const bit = 1 << ((hash >>> shift) & 31);
      if ((n.bitmap & bit) === 0) return undefined;
      n = n.kids[popcount(n.bitmap & (bit - 1))]!;
    } else if (isLeaf(n)) {
      return n.key === key ? n : undefined;
    } else {
      return n.hash === hash ? n.leaves.find((l) => l.key === key) : undefined;
    }
  }
}

/** Two leaves with different keys, merged under one node at `shift`. */
function merge<V>(a: Leaf<V>, b: Leaf<V>, shift: number): Kid<V> {
  if (shift >= 35 || a.hash === b.hash) return { hash: a.hash, leaves: [a, b] };
  const ia = (a.hash >>> shift) & 31;
  const ib = (b.hash >>> shift) & 31;
  if (ia === ib) return { bitmap: 1 << ia, kids: [merge(a, b, shift + 5)] };
  return { bitmap: (1 << ia) | (1 << ib), kids: ia < ib ? [a, b] : [b, a] };
}

/** The node with `leaf` set (replacing a leaf of the same key); `grew` tells whether it was new. */
function insert<V>(n: Kid<V>, leaf: Leaf<V>, shift: number, out: { grew: boolean }): Kid<V> {
  if (isBranch(n)) {
    const bit = 1 << ((leaf.hash >>> shift) & 31);
    const i = popcount(n.bitmap & (bit - 1));
    if ((n.bitmap & bit) === 0) {
      out.grew = true;
      const kids = n.kids.slice();
      kids.splice(i, 0, leaf);
      return { bitmap: n.bitmap | bit, kids };
    }
    const kids = n.kids.slice();
    kids[i] = insert(n.kids[i]!, leaf, shift + 5, out);
    return { bitmap: n.bitmap, kids };
  }
  if (isLeaf(n)) {
    if (n.key === leaf.key) return leaf;
    out.grew = true;
    return merge(n, leaf, shift);
  }
  if (n.hash === leaf.hash) {
    const i = n.leaves.findIndex((l) => l.key === leaf.key);
    if (i < 0) {
      out.grew = true;
      return { hash: n.hash, leaves: [...n.leaves, leaf] };
    }
    return { hash: n.hash, leaves: n.leaves.map((l, j) => (j === i ? leaf : l)) };
  }
  // A collision list met a key of another hash: push it one level down.
  out.grew = true;
  const bn: Branch<V> = { bitmap: 1 << ((n.hash >>> shift) & 31), kids: [n] };
  return insert(bn, leaf, shift, out);
}

/** The node without `key` (undefined when it empties; the same node when the key is absent). */
function remove<V>(n: Kid<V>, key: string, hash: number, shift: number): Kid<V> | undefined {
  if (isBranch(n)) {
    const bit = 1 << ((hash >>> shift) & 31);
    if ((n.bitmap & bit) === 0) return n;
    const i = popcount(n.bitmap & (bit - 1));
    const kid = n.kids[i]!;
    const next = remove(kid, key, hash, shift + 5);
    if (next === kid) return n;
    if (next === undefined) {
      if (n.bitmap === bit) return undefined;
      const kids = n.kids.slice();
      kids.splice(i, 1);
      const rest: Branch<V> = { bitmap: n.bitmap & ~bit, kids };
      // A branch left with one leaf (below the root) collapses into it.
      return shift > 0 && kids.length === 1 && !isBranch(kids[0]!) ? kids[0]! : rest;
    }
    const kids = n.kids.slice();
    kids[i] = next;
    return shift > 0 && kids.length === 1 && !isBranch(next) ? next : { bitmap: n.bitmap, kids };
  }
  if (isLeaf(n)) return n.key === key ? undefined : n;
  if (n.hash !== hash) return n;
  const leaves = n.leaves.filter((l) => l.key !== key);
  if (leaves.length === n.leaves.length) return n;
  return leaves.length === 1 ? leaves[0]! : { hash: n.hash, leaves };
}

function collect<V>(n: Kid<V>, out: Leaf<V>[]): void {
  if (isBranch(n)) for (const k of n.kids) collect(k, out);
  else if (isLeaf(n)) out.push(n);
  else out.push(...n.leaves);
}

const EMPTY_BRANCH: Branch<never> = { bitmap: 0, kids: [] };

/** An array index ("0" … "4294967294"): a plain object lists those keys first, ascending. */
function arrayIndex(key: string): number | undefined {
  if (key.length === 0 || key.length > 10 || (key.length > 1 && key.charCodeAt(0) === 48)) return undefined;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  const n = Number(key);
  return n < 4294967295 ? n : undefined;
}

/** One version of a persistent record. Immutable, but for the key list it computes once. */
class Trie<V> {
  private keyList: readonly string[] | undefined;
  constructor(
    readonly root: Branch<V>,
    readonly size: number,
    /** The next insertion ordinal. */
    readonly next: number,
  ) {}

  get(key: string): V | undefined {
    return find(this.root, key, hashOf(key))?.value;
  }

  leaf(key: string): Leaf<V> | undefined {
    return find(this.root, key, hashOf(key));
  }

  set(key: string, value: V): Trie<V> {
    const hash = hashOf(key);
    const old = find(this.root, key, hash);
    if (old !== undefined && old.value === value) return this;
    const out = { grew: false };
    const root = insert(this.root, { key, hash, value, ord: old?.ord ?? this.next }, 0, out) as Branch<V>;
    return new Trie(root, this.size + (out.grew ? 1 : 0), old === undefined ? this.next + 1 : this.next);
  }

  delete(key: string): Trie<V> {
    const root = remove(this.root, key, hashOf(key), 0) as Branch<V> | undefined;
    if (root === this.root) return this;
    return new Trie(root ?? (EMPTY_BRANCH as Branch<V>), this.size - 1, this.next);
  }

  /** The leaves in a plain object's key order: array indices ascending, then insertion order. */
  leaves(): Leaf<V>[] {
    const all: Leaf<V>[] = [];
    collect(this.root, all);
    const idx = new Map<Leaf<V>, number>();
    for (const l of all) {
      const i = arrayIndex(l.key);
      if (i !== undefined) idx.set(l, i);
    }
    return all.sort((a, b) => {
      const ia = idx.get(a);
      const ib = idx.get(b);
      if (ia !== undefined || ib !== undefined) return ia === undefined ? 1 : ib === undefined ? -1 : ia - ib;
      return a.ord - b.ord;
    });
  }

  keys(): readonly string[] {
    return (this.keyList ??= this.leaves().map((l) => l.key));
  }
}

// ── the record a trie is seen as ───────────────────────────────────────────────────────────

const TRIE = Symbol('kprobesim.record');
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

interface Target {
  readonly [TRIE]: Trie<unknown>;
}

function readOnly(): never {
  throw new TypeError('a record of a folded kernel state is read-only');
}

const handler: ProxyHandler<Target> = {
  get(t, key, receiver) {
    if (typeof key === 'string') {
      const leaf = t[TRIE].leaf(key);
      if (leaf !== undefined) return leaf.value;
    }
    // Object.prototype's members (and __proto__), as a plain object finds them.
    return Reflect.get(t, key, receiver);
  },
  has(t, key) {
    return (typeof key === 'string' && t[TRIE].leaf(key) !== undefined) || (typeof key !== 'symbol' && Reflect.has(t, key));
  },
  getOwnPropertyDescriptor(t, key) {
    if (typeof key !== 'string') return undefined;
    const leaf = t[TRIE].leaf(key);
    return leaf === undefined ? undefined : { value: leaf.value, writable: true, enumerable: true, configurable: true };
  },
  ownKeys(t) {
    return t[TRIE].keys() as string[];
  },
  set: readOnly,
  defineProperty: readOnly,
  deleteProperty: readOnly,
  setPrototypeOf: readOnly,
  preventExtensions: readOnly,
};

/** util.inspect shows a Proxy's target, and calls this on it with the Proxy: the record instead. */
function inspectRecord(this: Rec<unknown>): Record<string, unknown> {
  return Object.fromEntries(recEntries(this));
}

function asRecord<V>(trie: Trie<V>): Rec<V> {
  const target = { [TRIE]: trie, [INSPECT]: inspectRecord } as Target;
  return new Proxy(target, handler) as unknown as Rec<V>;
}

function trieOf<V>(rec: Rec<V>): Trie<V> | undefined {
  return (rec as unknown as Partial<Target>)[TRIE] as Trie<V> | undefined;
}

function fromPlain<V>(rec: Rec<V>): Trie<V> {
  let t = new Trie<V>(EMPTY_BRANCH as Branch<V>, 0, 0);
  for (const key of Object.keys(rec)) t = t.set(key, rec[key]!);
  return t;
}

// ── what the fold uses ─────────────────────────────────────────────────────────────────────

/** `rec[key]` if `key` is a key of the record (never Object.prototype's), else undefined. */
export function recGet<V>(rec: Rec<V>, key: string): V | undefined {
  const t = trieOf(rec);
  return t === undefined ? own(rec, key) : t.get(key);
}

/** The record with `key` set to `value` (a key already there keeps its place). */
export function recSet<V>(rec: Rec<V>, key: string, value: V): Rec<V> {
  const t = trieOf(rec);
  if (t !== undefined) {
    const next = t.set(key, value);
    return next === t ? rec : asRecord(next);
  }
  // Built without `rec[key] = …`: an assignment to "__proto__" would set the prototype.
  const copy = { ...rec, [key]: value };
  return Object.keys(copy).length > SMALL ? asRecord(fromPlain(copy)) : copy;
}

/** The record without `key`. */
export function recDelete<V>(rec: Rec<V>, key: string): Rec<V> {
  const t = trieOf(rec);
  if (t !== undefined) {
    const next = t.delete(key);
    return next === t ? rec : asRecord(next);
  }
  if (!Object.hasOwn(rec, key)) return rec;
  const copy = { ...rec };
  delete (copy as Record<string, V>)[key];
  return copy;
}

/** The record's entries in its key order (what Object.entries gives, without the Proxy's traps). */
export function recEntries<V>(rec: Rec<V>): [string, V][] {
  const t = trieOf(rec);
  return t === undefined ? Object.entries(rec) : t.leaves().map((l) => [l.key, l.value]);
}
