// How deeply arrays and objects nest in a parsed JSON value, measured without recursion.
// JSON.parse builds a value nested a million levels deep without complaint, but everything that
// then walks it recursively (zod, JSON.stringify, our own canonical JSON) overflows the call
// stack. Untrusted JSON is measured here first, with an explicit stack.

export type JsonPath = (string | number)[];

interface Frame {
  readonly value: object;
  readonly depth: number;
  readonly parent: Frame | null;
  readonly key: string | number;
}

/**
 * The path to the first array or object found nested more than `limit` levels deep (the value
 * itself is level 1), or null when none is. Stops at the first one: the cost is bounded by the
 * size of the value, never by its depth.
 */
export function tooDeep(value: unknown, limit: number): JsonPath | null {
  if (typeof value !== 'object' || value === null) return null;
  const stack: Frame[] = [{ value, depth: 1, parent: null, key: '' }];
  for (let f = stack.pop(); f !== undefined; f = stack.pop()) {
    if (f.depth > limit) return pathOf(f);
    const entries: [string | number, unknown][] = Array.isArray(f.value) ? f.value.map((v, i) => [i, v]) : Object.entries(f.value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: f.depth + 1, parent: f, key });
    }
  }
  return null;
}

function pathOf(f: Frame): JsonPath {
  const path: JsonPath = [];
  for (let g: Frame | null = f; g !== null && g.parent !== null; g = g.parent) path.push(g.key);
  return path.reverse();
}

/** A long path shortened for a message: its first and last steps, with how many were left out. */
export function abbreviatePath(path: JsonPath, keep = 12): { head: JsonPath; omitted: number; tail: JsonPath } {
  if (path.length <= keep) return { head: path, omitted: 0, tail: [] };
  const head = path.slice(0, keep - 4);
  const tail = path.slice(path.length - 4);
  return { head, omitted: path.length - head.length - tail.length, tail };
}
