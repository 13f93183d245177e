// gcc's "did you mean 'x'?" (gcc/spellcheck.cc): an optimal-string-alignment edit distance in
// which a change of case alone costs half an edit, and a cutoff of about a third of the longer
// name's length.

const BASE = 2;

function distance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j * BASE : j === 0 ? i * BASE : 0)));
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const ca = a[i - 1]!;
      const cb = b[j - 1]!;
      const sub = ca === cb ? 0 : ca.toLowerCase() === cb.toLowerCase() ? 1 : BASE;
      let v = Math.min(d[i - 1]![j]! + BASE, d[i]![j - 1]! + BASE, d[i - 1]![j - 1]! + sub);
      if (i > 1 && j > 1 && ca === b[j - 2] && a[i - 2] === cb) v = Math.min(v, d[i - 2]![j - 2]! + BASE);
      d[i]![j] = v;
    }
  }
  return d[m]![n]!;
}

function cutoff(goal: number, candidate: number): number {
  const max = Math.max(goal, candidate);
  const min = Math.min(goal, candidate);
  if (max <= 1) return 0;
  if (max - min <= 1) return Math.max(Math.floor(max / 3), 1);
  return Math.floor((max + 2) / 3);
}

/** The candidate gcc would suggest for `goal`, if any (the first of the closest). */
export function suggest(goal: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    if (c === goal) continue;
    const d = distance(goal, c);
    if (d > cutoff(goal.length, c.length) * BASE) continue;
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  // gcc does not offer a suggestion that would need every character replaced.
  if (best !== undefined && bestD >= Math.max(goal.length, best.length) * BASE) return undefined;
  return best;
}
