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
  // Every log line passes through here, so no allocation unless a child is itself nested.
  const stack: Frame[] = [];
  for (let f: Frame | undefined = { value, depth: 1, parent: null, key: '' }; f !== undefined; f = stack.pop()) {
    if (f.depth > limit) return pathOf(f);
    const v = f.value as Record<string, unknown> | unknown[];
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        const child = v[i];
        if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: f.depth + 1, parent: f, key: i });
      }
    } else {
      // JSON.parse makes plain objects: for…in sees exactly their own keys.
      for (const key in v) {
        const child = v[key];
        if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: f.depth + 1, parent: f, key });
      }
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
