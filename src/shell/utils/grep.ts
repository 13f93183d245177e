// BusyBox grep: `grep [-icnqvwEF] [-e PATTERN]... [PATTERN] [FILE]...`. Basic regular
// expressions by default, -E extended, -F fixed strings (regex.ts: linear time, no
// back-references). Exit status 0 when a line was selected, 1 when none, 2 when a file could not
// be read or the pattern is bad (BusyBox: "0 = success, 1 = failed, 2 = error").

import type { CommandContext } from '../builtins.ts';
import { compileRegex } from './regex.ts';
import { type Applet, badOption, inputFiles, lines, output, perror, readError, readInput } from './applet.ts';
import { getopt, type GetoptError } from './getopt.ts';

const FLAGS = 'icnqvwEFhH';
const USAGE = 'Usage: grep [-icnqvwEFhH] [-e PATTERN]... PATTERN [FILE]...\n';

interface GrepArgs {
  readonly flags: ReadonlySet<string>;
  readonly patterns: readonly string[];
  readonly files: readonly string[];
}

function parseArgs(argv: readonly string[]): GrepArgs | GetoptError | { readonly usage: true } {
  // Options may follow operands (GNU getopt's permutation, as BusyBox builds it).
  const g = getopt(argv, `${FLAGS}e:`);
  if (g.error) return g.error;
  const patterns = g.options.filter((o) => o.letter === 'e').map((o) => o.value!);
  const operands = [...g.operands];
  // Without -e the first operand is the pattern.
  if (patterns.length === 0) {
    const p = operands.shift();
    if (p === undefined) return { usage: true };
    patterns.push(p);
  }
  const flags = new Set(g.options.filter((o) => o.letter !== 'e').map((o) => o.letter));
  // A pattern with newlines is several patterns, one per line.
  return { flags, patterns: patterns.flatMap((p) => p.split('\n')), files: operands };
}

export const grep: Applet = {
  usage: 'grep [-icnqvwEF] [-e PATTERN]... PATTERN [FILE]...',
  summary: 'print the lines that match (-i any case, -v the others, -c count, -n numbers, -w words, -E/-F)',
  inputs(argv) {
    const a = parseArgs(argv);
    if (!('flags' in a)) return null;
    return inputFiles(a.files);
  },
  run(ctx: CommandContext) {
    const a = parseArgs(ctx.argv);
    if ('bad' in a) {
      badOption(ctx, 'grep', a.bad);
      ctx.write(2, USAGE);
      return 2;
    }
    if ('missing' in a) {
      ctx.write(2, `grep: option requires an argument -- '${a.missing}'\n${USAGE}`);
      return 2;
    }
    if ('usage' in a) {
      ctx.write(2, USAGE);
      return 2;
    }
    const f = a.flags;
    const re = compileRegex(a.patterns, { flavor: f.has('E') ? 'extended' : 'basic', ignoreCase: f.has('i'), wholeWord: f.has('w'), fixed: f.has('F') });
    if (!re.ok) {
      ctx.write(2, `grep: bad regex '${a.patterns.join('\n')}': ${re.error}\n`);
      return 2;
    }
    const files = inputFiles(a.files);
    const prefixName = f.has('H') || (files.length > 1 && !f.has('h'));
    let matched = false;
    let openErrors = false;
    for (const file of files) {
      const input = readInput(ctx, file);
      if (!input.ok) {
        if (input.opened) readError(ctx, 'grep', input.errno);
        else perror(ctx, 'grep', file, input.errno);
        openErrors = true;
        continue;
      }
      const name = file === '-' ? '(standard input)' : file;
      let out = '';
      let n = 0;
      lines(input.data).forEach((line, i) => {
        if (re.test(line) === f.has('v')) return;
        n++;
        if (f.has('c') || f.has('q')) return;
        out += `${prefixName ? `${name}:` : ''}${f.has('n') ? `${i + 1}:` : ''}${line}\n`;
      });
      if (n > 0) matched = true;
      // -q: the first selected line settles it; nothing is printed.
      if (f.has('q') && matched) return 0;
      if (f.has('c')) out = `${prefixName ? `${name}:` : ''}${n}\n`;
      if (!output(ctx, 'grep', out)) return 2;
    }
    if (openErrors) return 2;
    return matched ? 0 : 1;
  },
};
