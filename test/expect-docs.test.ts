import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileExpr } from '../src/expect/compile.ts';
import { CPU, KPROBES, POOL, PROBE, ROOTS, TASK, typeText, type RecordDef } from '../src/expect/env.ts';
import { validateScenario } from '../src/scenario/validate.ts';

// docs/expect.md documents the expect language: its tables of names are those of src/expect/env.ts
// (in order, with their types), and every example in it compiles.

const doc = readFileSync('docs/expect.md', 'utf8');
const names = doc.slice(doc.indexOf('## Names'), doc.indexOf('## Operators'));

/** The rows of each table of the Names section: [name, type] per row. */
const tables: [string, string][][] = names
  .split(/\n\n/)
  .map((block) => [...block.matchAll(/^\| `([a-z_]+)` \| ([^|]+) \|/gm)].map((m): [string, string] => [m[1]!, m[2]!.trim()]))
  .filter((rows) => rows.length > 0);

describe('docs/expect.md', () => {
  it('lists every name of the state, and each record\'s fields with their types, in the order of src/expect/env.ts', () => {
    expect(tables.map((t) => t.length)).toHaveLength(6);
    expect(tables[0]!.map(([n]) => n)).toEqual(Object.keys(ROOTS));
    const records: RecordDef[] = [CPU, TASK, PROBE, POOL, KPROBES];
    records.forEach((rec, i) => {
      expect(tables[i + 1], rec.what).toEqual(Object.entries(rec.fields).map(([n, f]) => [n, typeText(f.type)]));
    });
  });

  it('every example compiles against a scenario with the probes it names', () => {
    const scenario = validateScenario({
      name: 'doc',
      probes: [{ name: 'kp', symbol: 'vfs_read' }, { name: 'rp', symbol: 'kernel_clone', kind: 'kretprobe' }],
      tasks: [{ comm: 'sh', program: [] }],
    });
    const block = doc.slice(doc.indexOf('## Examples'));
    const examples = block.slice(block.indexOf('```') + 4, block.indexOf('```', block.indexOf('```') + 3)).split('\n');
    // A line is an example up to its comment column; a line that starts with spaces continues the last.
    const conditions = examples.filter((l) => l.trim() !== '' && !l.startsWith(' ')).map((l) => l.split(/\s{3,}/)[0]!);
    expect(conditions.length).toBeGreaterThanOrEqual(8);
    for (const c of conditions) expect(() => compileExpr(c, scenario), c).not.toThrow();
    // And the ones in the JSON at the top.
    for (const m of doc.matchAll(/"(?:always|at_end)": "((?:[^"\\]|\\.)*)"/g)) {
      const text = JSON.parse(`"${m[1]}"`) as string;
      expect(() => compileExpr(text, scenario), text).not.toThrow();
    }
  });
});
