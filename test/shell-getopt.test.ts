// getopt (src/shell/utils/getopt.ts) against what glibc's getopt(3) does with GNU permutation,
// as BusyBox's getopt32 runs it. The expected values are getopt's documented behaviour: each
// option letter returned in turn, optarg the rest of the word or else the next word, `--` ends
// the options, `-` and non-dash words are operands moved after the options, '?' for an unknown
// letter and for a missing argument (BusyBox then prints usage and stops).

import { describe, expect, it } from 'vitest';
import { getopt } from '../src/shell/utils/getopt.ts';

const flags = (...letters: string[]) => letters.map((letter) => ({ letter }));

describe('getopt', () => {
  it('ignores argv[0]', () => {
    expect(getopt(['-n'], 'n')).toEqual({ options: [], operands: [] });
  });

  it('splits grouped flags, in order', () => {
    expect(getopt(['sort', '-nru'], 'nru')).toEqual({ options: flags('n', 'r', 'u'), operands: [] });
    expect(getopt(['sort', '-ur', '-n'], 'nru')).toEqual({ options: flags('u', 'r', 'n'), operands: [] });
  });

  it('takes a value attached to its letter or from the next word', () => {
    expect(getopt(['head', '-n5'], 'n:qv')).toEqual({ options: [{ letter: 'n', value: '5' }], operands: [] });
    expect(getopt(['head', '-n', '5', 'f'], 'n:qv')).toEqual({ options: [{ letter: 'n', value: '5' }], operands: ['f'] });
    expect(getopt(['tail', '-n', '+2'], 'n:qv')).toEqual({ options: [{ letter: 'n', value: '+2' }], operands: [] });
  });

  it('lets a value-taking letter end a group: flags before it, the rest of the word is its value', () => {
    expect(getopt(['head', '-qn5'], 'n:qv')).toEqual({ options: [...flags('q'), { letter: 'n', value: '5' }], operands: [] });
    expect(getopt(['head', '-qn', '7'], 'n:qv')).toEqual({ options: [...flags('q'), { letter: 'n', value: '7' }], operands: [] });
    // `-nq`: q is n's value, not the flag.
    expect(getopt(['head', '-nq', 'f'], 'n:qv')).toEqual({ options: [{ letter: 'n', value: 'q' }], operands: ['f'] });
  });

  it('takes the next word as the value whatever it looks like', () => {
    expect(getopt(['grep', '-e', '-v', 'f'], 'ive:')).toEqual({ options: [{ letter: 'e', value: '-v' }], operands: ['f'] });
    expect(getopt(['grep', '-e', '-', 'f'], 'ive:')).toEqual({ options: [{ letter: 'e', value: '-' }], operands: ['f'] });
    // A `--` that is a value does not end the options.
    expect(getopt(['grep', '-e', '--', '-v'], 'ive:')).toEqual({ options: [{ letter: 'e', value: '--' }, ...flags('v')], operands: [] });
    expect(getopt(['grep', '-e', ''], 'ive:')).toEqual({ options: [{ letter: 'e', value: '' }], operands: [] });
  });

  it('keeps every occurrence, so a later option can override an earlier one', () => {
    expect(getopt(['head', '-q', '-v', '-q'], 'n:qv').options).toEqual(flags('q', 'v', 'q'));
    expect(getopt(['grep', '-e', 'a', '-eb'], 'ive:').options).toEqual([
      { letter: 'e', value: 'a' },
      { letter: 'e', value: 'b' },
    ]);
  });

  it('ends the options at `--`: every word after it is an operand', () => {
    expect(getopt(['sort', '-r', '--', '-n', '-', '--'], 'nru')).toEqual({ options: flags('r'), operands: ['-n', '-', '--'] });
    expect(getopt(['sort', 'a', '--', 'b'], 'nru')).toEqual({ options: [], operands: ['a', 'b'] });
  });

  it('reads `-` and words without a dash as operands', () => {
    expect(getopt(['wc', '-', '-l', '+3', ''], 'lwc')).toEqual({ options: flags('l'), operands: ['-', '+3', ''] });
  });

  it('permutes: options after operands are still options, operands keep their order', () => {
    expect(getopt(['grep', 'pat', 'f1', '-i', 'f2', '-n'], 'inve:')).toEqual({ options: flags('i', 'n'), operands: ['pat', 'f1', 'f2'] });
  });

  it('reports an unknown letter, with the options before it', () => {
    expect(getopt(['sort', '-nz', '-q'], 'nru')).toEqual({ options: flags('n'), operands: [], error: { bad: 'z' } });
    // No long options: `--foo` is the letters `-`, `f`, … and `-` is not an option.
    expect(getopt(['sort', '--foo'], 'nru').error).toEqual({ bad: '-' });
    // `:` marks a value in the spec; it is never an option itself.
    expect(getopt(['grep', '-:'], 'ie:').error).toEqual({ bad: ':' });
    // A digit is an unknown letter too (head/tail rewrite their old `-N` before calling getopt).
    expect(getopt(['head', '-5'], 'n:qv').error).toEqual({ bad: '5' });
  });

  it('reports a value-taking letter at the end of argv as missing its value', () => {
    expect(getopt(['grep', '-ie'], 'ie:')).toEqual({ options: flags('i'), operands: [], error: { missing: 'e' } });
    expect(getopt(['head', 'f', '-n'], 'n:qv')).toEqual({ options: [], operands: ['f'], error: { missing: 'n' } });
  });

  it('stops at the first error', () => {
    expect(getopt(['head', '-x', '-n'], 'n:qv').error).toEqual({ bad: 'x' });
    expect(getopt(['head', '-v', '-n'], 'n:qv')).toEqual({ options: flags('v'), operands: [], error: { missing: 'n' } });
  });
});
