import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// src/timeline is bundled for the browser by the HTML viewer: nothing it imports, directly or
// through the fold, the checkers and the scenario validation, may be a node: module (or a bare
// Node built-in). Walks the import graph from the timeline's files.

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const BUILTINS = new Set(['fs', 'path', 'os', 'url', 'util', 'stream', 'crypto', 'child_process', 'worker_threads', 'readline', 'events', 'buffer', 'zlib', 'tty', 'process']);

function walk(entry: string, seen = new Map<string, string[]>()): Map<string, string[]> {
  if (seen.has(entry)) return seen;
  const text = readFileSync(entry, 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(IMPORT)) specs.push((m[1] ?? m[2])!);
  seen.set(entry, specs);
  for (const s of specs) if (s.startsWith('.')) walk(resolve(dirname(entry), s), seen);
  return seen;
}

describe('src/timeline in the browser', () => {
  it('imports no node: module, directly or indirectly', () => {
    const graph = walk(resolve('src/timeline/index.ts'));
    walk(resolve('src/timeline/perfetto.ts'), graph);
    expect(graph.size).toBeGreaterThan(10);
    const offending = [...graph].flatMap(([file, specs]) => specs.filter((s) => s.startsWith('node:') || BUILTINS.has(s)).map((s) => `${file.replace(resolve('.') + '/', '')} imports ${s}`));
    expect(offending).toEqual([]);
    expect(graph.has(join(resolve('src/model'), 'evolve.ts'))).toBe(true);
  });
});
