import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// docs/fidelity.md claims which spec rules are checked; this keeps the claim honest: a rule is
// "tested" in the document exactly when some test names it.

function citedRules(): Set<number> {
  const out = new Set<number>();
  for (const dir of ['test', 'property-tests']) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.test.ts') && n !== 'fidelity-doc.test.ts')) {
      for (const m of readFileSync(`${dir}/${f}`, 'utf8').matchAll(/\bR(\d{1,3})\b/g)) out.add(Number(m[1]));
    }
  }
  return out;
}

describe('docs/fidelity.md', () => {
  it('lists R1-R101 once each, marking as tested exactly the rules some test cites', () => {
    const rows = [...readFileSync('docs/fidelity.md', 'utf8').matchAll(/^\| R(\d+) \|.*\| (tested|no test)/gm)];
    expect(rows.map((r) => Number(r[1]))).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
    const cited = citedRules();
    for (const [, n, status] of rows) expect(`R${n} ${status}`).toBe(`R${n} ${cited.has(Number(n)) ? 'tested' : 'no test'}`);
  });
});
