import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { customRandom } from 'nanoid';

// Seeded randomness, the only kind a model run may use. Each consumer gets its own stream,
// derived from the run's seed and a fixed label, so adding draws in one place never shifts
// another's (ids stay stable when the schedule changes, and vice versa).

export interface Rng {
  /** A uniform integer in [from, to]. */
  int(from: number, to: number): number;
}

function labelHash(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function seededRng(seed: number, label: string): Rng {
  const g = xoroshiro128plus((seed ^ labelHash(label)) | 0);
  return { int: (from, to) => uniformInt(g, from, to) };
}

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-';

/** nanoid ids drawn from the seeded stream `label` (never from crypto randomness). */
export function seededIds(seed: number, label: string, size = 10): () => string {
  const rng = seededRng(seed, label);
  return customRandom(ID_ALPHABET, size, (bytes) => {
    const out = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i++) out[i] = rng.int(0, 255);
    return out;
  });
}
