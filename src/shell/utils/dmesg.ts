// BusyBox dmesg: the kernel log (`[    0.000066] text`, the timestamps of the simulated clock);
// -c clears it after printing (klogctl's SYSLOG_ACTION_READ_CLEAR), as BusyBox's does.

import type { CommandContext } from '../builtins.ts';
import { STATUS } from '../messages.ts';
import { badOption, output, type Applet } from './applet.ts';

function parseArgs(argv: readonly string[]): { readonly clear: boolean } | { readonly bad: string } {
  let clear = false;
  for (const a of argv.slice(1)) {
    if (!a.startsWith('-') || a === '-') return { bad: a };
    for (const o of a.slice(1)) {
      if (o !== 'c') return { bad: o };
      clear = true;
    }
  }
  return { clear };
}

export const dmesg: Applet = {
  usage: 'dmesg [-c]',
  summary: 'print the kernel log (-c: and clear it)',
  inputs: () => [],
  run(ctx: CommandContext) {
    const a = parseArgs(ctx.argv);
    if ('bad' in a) {
      if (a.bad.length !== 1) {
        ctx.write(2, 'Usage: dmesg [-c]\n');
        return STATUS.FAILURE;
      }
      return badOption(ctx, 'dmesg', a.bad);
    }
    const log = ctx.state.backend.kernelLog;
    if (log === undefined) {
      // A kernel without a log buffer to read: klogctl fails as it would without CONFIG_PRINTK.
      ctx.write(2, 'dmesg: klogctl: Function not implemented\n');
      return STATUS.FAILURE;
    }
    const lines = log.call(ctx.state.backend, a.clear);
    return output(ctx, 'dmesg', lines.map((l) => `${l}\n`).join('')) ? 0 : STATUS.FAILURE;
  },
};
