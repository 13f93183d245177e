// head and tail: the same loop over files (`==> FILE <==` headers between several, as BusyBox
// prints them), each keeping its own part of the lines.

import type { CommandContext } from '../builtins.ts';
import { STATUS, strerror } from '../messages.ts';
import { type Applet, inputFiles, lines, output, perror, readError, readInput } from './applet.ts';
import { parseLinesArgs, type LinesArgs } from './head-tail-args.ts';

export function linesApplet(applet: 'head' | 'tail', usage: string, summary: string, keep: (all: string[], args: LinesArgs) => string[]): Applet {
  return {
    usage,
    summary,
    inputs(argv) {
      const p = parseLinesArgs(applet, argv);
      if (!p.ok) return null;
      return inputFiles(p.args.files);
    },
    run(ctx: CommandContext) {
      const p = parseLinesArgs(applet, ctx.argv);
      if (!p.ok) {
        ctx.write(2, p.message);
        return STATUS.FAILURE;
      }
      const files = inputFiles(p.args.files);
      const headers = p.args.headers === 'always' || (p.args.headers === 'auto' && files.length > 1);
      let status = 0;
      let first = true;
      for (const file of files) {
        const input = readInput(ctx, file);
        if (!input.ok) {
          if (input.opened) readError(ctx, applet, input.errno);
          else if (applet === 'tail') ctx.write(2, `tail: can't open '${file}': ${strerror(input.errno)}\n`);
          else perror(ctx, applet, file, input.errno);
          status = STATUS.FAILURE;
          continue;
        }
        const header = headers ? `${first ? '' : '\n'}==> ${file === '-' ? 'standard input' : file} <==\n` : '';
        first = false;
        const kept = keep(lines(input.data), p.args);
        if (!output(ctx, applet, header + kept.map((l) => `${l}\n`).join(''))) return STATUS.FAILURE;
      }
      return status;
    },
  };
}
