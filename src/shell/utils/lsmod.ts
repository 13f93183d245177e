// BusyBox lsmod with its "pretty" 2.6 output (FEATURE_LSMOD_PRETTY_2_6_OUTPUT) and taint check
// (FEATURE_CHECK_TAINTED_MODULE), both on in BusyBox's default configuration: the header
// `Module                  Size  Used by` followed on the same line by `    Not tainted` or
// `    Tainted: PFS` (proprietary, forced, unsafe-SMP flags; G and blanks otherwise), then one
// `%-19s %8s %2s %s` line per line of /proc/modules: name, size, use count, the modules using it
// (/proc/modules' `a,b,` without its last comma; `-` is none).

import type { CommandContext } from '../builtins.ts';
import { STATUS, strerror } from '../messages.ts';
import { lines, output, readInput, type Applet } from './applet.ts';

const PROC_MODULES = '/proc/modules';
const TAINTED = '/proc/sys/kernel/tainted';

function taintLine(ctx: CommandContext): string {
  const t = readInput(ctx, TAINTED);
  const n = t.ok ? Number.parseInt(t.data, 10) || 0 : 0;
  if (n === 0) return '    Not tainted\n';
  return `    Tainted: ${n & 1 ? 'P' : 'G'}${n & 2 ? 'F' : ' '}${n & 4 ? 'S' : ' '}\n`;
}

export const lsmod: Applet = {
  usage: 'lsmod',
  summary: 'list the loaded modules (/proc/modules)',
  inputs: () => [PROC_MODULES, TAINTED],
  run(ctx: CommandContext) {
    const mods = readInput(ctx, PROC_MODULES);
    if (!mods.ok) {
      ctx.write(2, `lsmod: can't open '${PROC_MODULES}': ${strerror(mods.errno)}\n`);
      return STATUS.FAILURE;
    }
    let text = `${'Module'.padEnd(24)}Size  Used by${taintLine(ctx)}`;
    for (const line of lines(mods.data)) {
      const [name = '', size = '', refs = '', users = ''] = line.split(/[ \t]+/);
      const usedBy = users === '' ? '' : users.slice(0, -1);
      text += `${name.padEnd(19)} ${size.padStart(8)} ${refs.padStart(2)} ${usedBy}\n`;
    }
    return output(ctx, 'lsmod', text) ? 0 : STATUS.FAILURE;
  },
};
