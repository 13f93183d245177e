// BusyBox cat: each file (or standard input) in turn. trace_pipe is consumed; reading never
// blocks.

import type { CommandContext } from '../builtins.ts';
import { msg, STATUS } from '../messages.ts';
import { readInput, type Applet } from './applet.ts';

export const cat: Applet = {
  usage: 'cat [FILE]...',
  summary: 'print files (trace_pipe is consumed; reading never blocks)',
  inputs: (argv) => (argv.length > 1 ? argv.slice(1) : ['-']),
  run(ctx: CommandContext) {
    const files = ctx.argv.length > 1 ? ctx.argv.slice(1) : ['-'];
    let status = 0;
    for (const f of files) {
      const input = readInput(ctx, f);
      if (!input.ok) {
        ctx.write(2, input.opened ? msg.catRead(input.errno) : msg.catOpen(f, input.errno));
        status = STATUS.FAILURE;
        continue;
      }
      if (input.data === '') continue;
      const errno = ctx.write(1, input.data);
      if (errno !== 0) {
        ctx.write(2, msg.appletWriteError('cat', errno));
        return STATUS.FAILURE;
      }
    }
    return status;
  },
};
