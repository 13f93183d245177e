// BusyBox sort: the lines of all inputs, bytewise (the C locale); -n by the number each line
// starts with (strtod: leading blanks, sign, decimals; no number is 0), ties broken bytewise;
// -r reverses; -u keeps the first of each run of equal keys. A file that cannot be opened ends
// sort at once (xfopen: `sort: can't open 'F': …`, status 1, nothing printed).

import type { CommandContext } from '../builtins.ts';
import { STATUS, strerror } from '../messages.ts';
import { type Applet, badOption, inputFiles, lines, output, readError, readInput } from './applet.ts';
import { getopt } from './getopt.ts';

function parseArgs(argv: readonly string[]): { readonly flags: ReadonlySet<string>; readonly files: readonly string[] } | { readonly bad: string } {
  const g = getopt(argv, 'nru');
  // No option takes a value, so the only error is an unknown letter.
  if (g.error) return { bad: 'bad' in g.error ? g.error.bad : g.error.missing };
  return { flags: new Set(g.options.map((o) => o.letter)), files: g.operands };
}

const bytewise = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The leading number of a line as strtod reads it (decimal only), or 0. */
function leadingNumber(line: string): number {
  const m = /^[ \t]*([-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?)/.exec(line);
  return m ? Number(m[1]) : 0;
}

export const sort: Applet = {
  usage: 'sort [-nru] [FILE]...',
  summary: 'sort lines (-n numerically, -r reversed, -u without duplicates)',
  inputs(argv) {
    const a = parseArgs(argv);
    if ('bad' in a) return null;
    return inputFiles(a.files);
  },
  run(ctx: CommandContext) {
    const a = parseArgs(ctx.argv);
    if ('bad' in a) return badOption(ctx, 'sort', a.bad);
    const all: string[] = [];
    for (const file of inputFiles(a.files)) {
      const input = readInput(ctx, file);
      if (!input.ok) {
        if (input.opened) readError(ctx, 'sort', input.errno);
        else ctx.write(2, `sort: can't open '${file}': ${strerror(input.errno)}\n`);
        return STATUS.FAILURE;
      }
      all.push(...lines(input.data));
    }
    const numeric = a.flags.has('n');
    const key = (x: string, y: string): number => (numeric ? Math.sign(leadingNumber(x) - leadingNumber(y)) : bytewise(x, y));
    const sign = a.flags.has('r') ? -1 : 1;
    // The whole-line fallback applies only without -u: with -u, lines with equal keys are equal.
    const order = (x: string, y: string): number => sign * (key(x, y) || (a.flags.has('u') ? 0 : bytewise(x, y)));
    let sorted = [...all].sort(order);
    if (a.flags.has('u')) sorted = sorted.filter((l, i) => i === 0 || order(sorted[i - 1]!, l) !== 0);
    return output(ctx, 'sort', sorted.map((l) => `${l}\n`).join('')) ? 0 : STATUS.FAILURE;
  },
};
