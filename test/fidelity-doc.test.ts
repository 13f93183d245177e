import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIDELITY_LAST_RULE, fidelityMarkdown, rulesMarkdown } from '../scripts/docs.ts';
import { RULES, SECTIONS } from '../scripts/rules-text.ts';

// docs/rules.md explains every rule number the project cites; docs/fidelity.md claims which
// rules are checked. Both are generated (scripts/fidelity.ts); this keeps them honest: a rule is
// "tested" exactly when some test names it, and every R-number or §-section cited anywhere in the
// code, the tests and the README is explained in docs/rules.md.

function citedRules(): Set<number> {
  const out = new Set<number>();
  for (const dir of ['test', 'property-tests']) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.test.ts') && n !== 'fidelity-doc.test.ts')) {
      for (const m of readFileSync(`${dir}/${f}`, 'utf8').matchAll(/\bR(\d{1,3})\b/g)) out.add(Number(m[1]));
    }
  }
  return out;
}

/** Every .ts file under a directory. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : n.endsWith('.ts') ? [p] : [];
  });
}

describe('docs/fidelity.md', () => {
  it(`lists R1-R${FIDELITY_LAST_RULE} once each, marking as tested exactly the rules some test cites`, () => {
    const rows = [...readFileSync('docs/fidelity.md', 'utf8').matchAll(/^\| \[R(\d+)\]\(rules\.md#r\d+\) \|.*\| (tested|no test)/gm)];
    expect(rows.map((r) => Number(r[1]))).toEqual(Array.from({ length: FIDELITY_LAST_RULE }, (_, i) => i + 1));
    const cited = citedRules();
    for (const [, n, status] of rows) expect(`R${n} ${status}`).toBe(`R${n} ${cited.has(Number(n)) ? 'tested' : 'no test'}`);
  });

  it('is what scripts/fidelity.ts generates (regenerate with `npx tsx scripts/fidelity.ts`)', () => {
    expect(readFileSync('docs/fidelity.md', 'utf8')).toBe(fidelityMarkdown());
  });
});

describe('docs/rules.md', () => {
  const doc = readFileSync('docs/rules.md', 'utf8');

  it('is what scripts/fidelity.ts generates from scripts/rules-text.ts and the tests', () => {
    expect(doc).toBe(rulesMarkdown());
  });

  it('has every rule from R1 on, once, in a known section, each with a summary, a kernel source and its tests', () => {
    expect(RULES.map((r) => r.n)).toEqual(Array.from({ length: RULES.length }, (_, i) => i + 1));
    const ids = SECTIONS.map((s) => s.id);
    for (const r of RULES) {
      expect(ids, `R${r.n}`).toContain(r.section);
      expect(r.summary.length, `R${r.n}`).toBeGreaterThan(20);
      expect(r.source, `R${r.n}`).toMatch(/\.(c|h|rst)\b|^model/);
    }
    const entries = [...doc.matchAll(/^- <a id="r(\d+)"><\/a>\*\*R\d+\.\*\* .+\n(?: {2}- \*\*R\d+\.\d+\*\* .+\n)* {2}- kernel: `.+`\n {2}- tests: .+$/gm)];
    expect(entries.map((m) => Number(m[1]))).toEqual(RULES.map((r) => r.n));
    // The tests a rule lists are the test files that name it.
    const r50 = /\*\*R50\.\*\*[^]*?- tests: (.*)/.exec(doc)![1]!;
    expect(r50).toContain('`property-tests/invariants.test.ts`');
  });

  it('explains every rule number cited in src/, scripts/, test/, property-tests/, the README and docs/events.md, and every section cited outside docs/events.md', () => {
    const files = [...sources('src'), ...sources('test'), ...sources('property-tests'), ...sources('scripts'), 'README.md', 'docs/events.md'];
    const missing = new Set<string>();
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/\bR(\d{1,3})(?:\.(\d+))?\b/g)) {
        const shown = m[2] === undefined ? `**R${m[1]}.**` : `**R${m[1]}.${m[2]}**`;
        if (!doc.includes(shown)) missing.add(`${m[0]} (${f})`);
      }
      // §N sections of the rules; "seed 003 §2.2" is a section of a seed document and docs/events.md
      // numbers its own sections.
      if (f === 'docs/events.md') continue;
      for (const m of text.matchAll(/(seed \d+ )?§(\d+(?:\.\d+)?)/gi)) {
        if (m[1] === undefined && !new RegExp(`^#{2,3} §${m[2]!.replace('.', '\\.')} `, 'm').test(doc)) missing.add(`§${m[2]} (${f})`);
      }
    }
    expect([...missing]).toEqual([]);
  });
});
