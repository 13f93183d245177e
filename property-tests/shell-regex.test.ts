// The shell grep's matcher (src/shell/utils/regex.ts, a Thompson NFA) agrees with a backtracking
// engine on the patterns both read the same way: random extended regular expressions over a
// small alphabet (literals, ., brackets, groups, |, *, +, ?, {m,n}, anchors), random short lines.
// JavaScript's RegExp is that engine here; on lines this short it cannot take long.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileRegex } from '../src/shell/utils/regex.ts';

const atom: fc.Arbitrary<string> = fc.constantFrom('a', 'b', '.', '[ab]', '[^a]', '[a-c]', 'c');

/** An ERE that JavaScript's RegExp reads with the same meaning (no quantifier on an anchor). */
const ere: fc.Arbitrary<string> = fc.letrec<{ re: string; piece: string; seq: string }>((tie) => ({
  piece: fc.oneof(
    { weight: 4, arbitrary: atom },
    { weight: 1, arbitrary: tie('re').map((r) => `(${r})`) },
  ).chain((p) => fc.constantFrom('', '', '*', '+', '?', '{2}', '{0,2}', '{1,}').map((q) => `${p}${q}`)),
  seq: fc.array(tie('piece'), { minLength: 1, maxLength: 4 }).map((ps) => ps.join('')),
  re: fc
    .tuple(fc.constantFrom('', '', '^'), fc.array(tie('seq'), { minLength: 1, maxLength: 3 }), fc.constantFrom('', '', '$'))
    .map(([start, alts, end]) => `${start}${alts.join('|')}${end}`),
})).re;

const line = fc.stringMatching(/^[abc]{0,10}$/);

describe('grep’s regular expressions', () => {
  it('match exactly the lines a backtracking engine matches (ERE, and -i)', () => {
    fc.assert(
      fc.property(ere, line, fc.boolean(), (pattern, text, ignoreCase) => {
        const mine = compileRegex([pattern], { flavor: 'extended', ignoreCase, wholeWord: false, fixed: false });
        expect(mine.ok).toBe(true);
        if (!mine.ok) return;
        const subject = ignoreCase ? text.toUpperCase() : text;
        expect(mine.test(subject)).toBe(new RegExp(pattern, ignoreCase ? 'i' : '').test(subject));
      }),
      { numRuns: 2000 },
    );
  });

  it('-w matches a whole word: no word character right before or after the match', () => {
    fc.assert(
      fc.property(ere, fc.stringMatching(/^[ab _]{0,10}$/), (pattern, text) => {
        const mine = compileRegex([pattern], { flavor: 'extended', ignoreCase: false, wholeWord: true, fixed: false });
        if (!mine.ok) return;
        expect(mine.test(text)).toBe(new RegExp(`(?<![A-Za-z0-9_])(?:${pattern})(?![A-Za-z0-9_])`).test(text));
      }),
      { numRuns: 1000 },
    );
  });
});
