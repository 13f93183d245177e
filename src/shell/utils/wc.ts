// BusyBox wc: lines, words and bytes (-l -w -c; all three by default, in that order). One count
// of one input prints bare (`wc -l` → `5`); otherwise each column is `%9lu` wide, with the file
// name after it and a `total` line for several files, as BusyBox's format strings have it.

import type { CommandContext } from '../builtins.ts';
import { STATUS } from '../messages.ts';
import { type Applet, badOption, inputFiles, output, perror, readError, readInput } from './applet.ts';
import { getopt } from './getopt.ts';

const COLUMNS = ['l', 'w', 'c'] as const;
type Column = (typeof COLUMNS)[number];

function parseArgs(argv: readonly string[]): { readonly columns: readonly Column[]; readonly files: readonly string[] } | { readonly bad: string } {
  const g = getopt(argv, 'lwc');
  // No option takes a value, so the only error is an unknown letter.
  if (g.error) return { bad: 'bad' in g.error ? g.error.bad : g.error.missing };
  const chosen = new Set(g.options.map((o) => o.letter));
  return { columns: chosen.size === 0 ? COLUMNS : COLUMNS.filter((c) => chosen.has(c)), files: g.operands };
}

function counts(data: string): Record<Column, number> {
  return {
    l: data.split('\n').length - 1,
    w: data.split(/[ \t\n\v\f\r]+/).filter((w) => w !== '').length,
    c: Buffer.byteLength(data, 'utf8'),
  };
}

export const wc: Applet = {
  usage: 'wc [-lwc] [FILE]...',
  summary: 'count lines, words and bytes',
  inputs(argv) {
    const a = parseArgs(argv);
    if ('bad' in a) return null;
    return inputFiles(a.files);
  },
  run(ctx: CommandContext) {
    const a = parseArgs(ctx.argv);
    if ('bad' in a) return badOption(ctx, 'wc', a.bad);
    const files = inputFiles(a.files);
    const bare = files.length === 1 && a.columns.length === 1;
    const row = (n: Record<Column, number>, name: string | null): string =>
      a.columns.map((c, i) => (bare ? String(n[c]) : `${i === 0 ? '' : ' '}${String(n[c]).padStart(9, ' ')}`)).join('') + (name === null ? '\n' : ` ${name}\n`);
    const total: Record<Column, number> = { l: 0, w: 0, c: 0 };
    let status = 0;
    let out = '';
    for (const file of files) {
      const input = readInput(ctx, file);
      if (!input.ok) {
        if (input.opened) readError(ctx, 'wc', input.errno);
        else perror(ctx, 'wc', file, input.errno);
        status = STATUS.FAILURE;
        continue;
      }
      const n = counts(input.data);
      for (const c of COLUMNS) total[c] += n[c];
      out += row(n, file === '-' ? null : file);
    }
    if (files.length > 1) out += row(total, 'total');
    return output(ctx, 'wc', out) ? status : STATUS.FAILURE;
  },
};
