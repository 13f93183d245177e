// BusyBox rmmod: `rmmod [-wf] MODULE...`: each MODULE (a name, or a file name: its base name up
// to the first `.`, `-` read as `_`, as BusyBox's filename2modname() does) is unloaded in turn by
// a child `rmmod` calling delete_module(2); the first failure ends it:
// `rmmod: can't unload module 'NAME': <strerror>`, status 1.

import type { CommandContext } from '../builtins.ts';
import { E, STATUS, strerror } from '../messages.ts';
import { badOption, type Applet } from './applet.ts';

/** BusyBox's bb_basename() then filename2modname(). */
export function moduleNameOfArg(arg: string): string {
  const base = arg.slice(arg.lastIndexOf('/') + 1);
  const dot = base.indexOf('.');
  return (dot < 0 ? base : base.slice(0, dot)).replace(/-/g, '_').slice(0, 55);
}

export const rmmod: Applet = {
  usage: 'rmmod [-wf] MODULE...',
  summary: 'unload modules (module_exit runs); -w and -f are accepted and change nothing here',
  inputs: () => [],
  ownKernelWork: true,
  run(ctx: CommandContext) {
    const names: string[] = [];
    for (const a of ctx.argv.slice(1)) {
      if (a.startsWith('-') && a !== '-') {
        const bad = [...a.slice(1)].find((o) => o !== 'w' && o !== 'f');
        if (bad !== undefined) return badOption(ctx, 'rmmod', bad);
        continue;
      }
      names.push(a);
    }
    if (names.length === 0) {
      ctx.write(2, 'Usage: rmmod [-wf] MODULE...\n');
      return STATUS.FAILURE;
    }
    const unload = ctx.state.backend.unloadModule;
    for (const n of names) {
      const name = moduleNameOfArg(n);
      const ret = unload === undefined ? -E.ENOSYS : unload.call(ctx.state.backend, name);
      if (ret !== 0) {
        ctx.write(2, `rmmod: can't unload module '${name}': ${strerror(-ret)}\n`);
        return STATUS.FAILURE;
      }
    }
    return 0;
  },
};
