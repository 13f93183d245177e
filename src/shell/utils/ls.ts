// BusyBox ls as it prints when standard output is not a terminal: one name per line, sorted
// bytewise; several operands: files first, then `DIR:` blocks separated by blank lines.

import type { CommandContext } from '../builtins.ts';
import { msg, STATUS } from '../messages.ts';
import { type Applet } from './applet.ts';

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function operandsOf(argv: readonly string[]): { readonly all: boolean; readonly operands: readonly string[] } | { readonly bad: string } {
  const operands: string[] = [];
  let all = false;
  let options = true;
  for (const a of argv.slice(1)) {
    if (options && a === '--') {
      options = false;
    } else if (options && a.startsWith('-') && a !== '-') {
      for (const o of a.slice(1)) {
        if (o === 'a') all = true;
        else if (o !== '1' && o !== 'A') return { bad: o };
      }
    } else {
      operands.push(a);
    }
  }
  return { all, operands: operands.length === 0 ? ['.'] : operands };
}

export const ls: Applet = {
  usage: 'ls [-1aA] [PATH]...',
  summary: 'list directories, one name per line, sorted',
  // ls opens each directory it lists (opendir); it reads no file.
  inputs: () => [],
  extraWork(argv) {
    const p = operandsOf(argv);
    return 'bad' in p ? [] : p.operands.map(() => ({ kind: 'open' as const }));
  },
  run(ctx: CommandContext) {
    const p = operandsOf(ctx.argv);
    if ('bad' in p) {
      ctx.write(2, msg.invalidOption('ls', p.bad));
      return STATUS.FAILURE;
    }
    let status = 0;
    const files: string[] = [];
    const dirs: [string, string[]][] = [];
    for (const path of p.operands) {
      const r = ctx.state.vfs.resolve(ctx.state.cwd, path);
      if (!r.ok) {
        ctx.write(2, msg.ls(path, r.errno));
        status = STATUS.FAILURE;
        continue;
      }
      if (r.node.type === 'dir') dirs.push([path, [...(p.all ? ['.', '..'] : []), ...r.node.entries()].sort(byteOrder)]);
      else files.push(path);
    }
    const blocks: string[] = [];
    if (files.length > 0) blocks.push(files.sort(byteOrder).map((f) => `${f}\n`).join(''));
    dirs.sort((a, b) => byteOrder(a[0], b[0]));
    for (const [name, entries] of dirs) {
      const header = p.operands.length > 1 ? `${name}:\n` : '';
      blocks.push(header + entries.map((e) => `${e}\n`).join(''));
    }
    const out = blocks.join('\n');
    if (out !== '') {
      const errno = ctx.write(1, out);
      if (errno !== 0) {
        ctx.write(2, msg.appletWriteError('ls', errno));
        return STATUS.FAILURE;
      }
    }
    return status;
  },
};
