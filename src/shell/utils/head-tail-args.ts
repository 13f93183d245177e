// The arguments of BusyBox head and tail: `-n N`, `-nN`, the old `-N`, tail's `-n +N` (from line
// N on), `-q` (no `==> FILE <==` headers) and `-v` (always headers), then the files.

import { msg } from '../messages.ts';
import { getopt } from './getopt.ts';

export interface LinesArgs {
  /** How many lines, or (tail `+N`) the first line number to print. */
  readonly count: number;
  readonly fromStart: boolean;
  readonly headers: 'auto' | 'never' | 'always';
  readonly files: readonly string[];
}

export type LinesParse = { readonly ok: true; readonly args: LinesArgs } | { readonly ok: false; readonly message: string };

/**
 * BusyBox head and tail still take the old `-N` for `-n N`, which getopt would read as option
 * letters `5`…; so those words become `-n N` first. Only words getopt would read as options are
 * rewritten: none after `--`, and not the value of a `-n` ending the word before (`head -n -5`
 * is the count `-5`, refused as an invalid number, not `-n -n 5`).
 */
function rewriteOldCount(argv: readonly string[]): string[] {
  const out = argv.slice(0, 1);
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (/^-[0-9]+$/.test(a)) {
      out.push('-n', a.slice(1));
      continue;
    }
    out.push(a);
    // `-n`, `-qn`: the first `n` takes the rest of its word, here nothing, so the next word.
    if (a.startsWith('-') && a.indexOf('n') === a.length - 1 && i + 1 < argv.length) out.push(argv[++i]!);
  }
  return out;
}

export function parseLinesArgs(applet: 'head' | 'tail', argv: readonly string[]): LinesParse {
  let count = 10;
  let fromStart = false;
  let headers: LinesArgs['headers'] = 'auto';
  const g = getopt(rewriteOldCount(argv), 'n:qv');
  // In argv order, so the last -q/-v wins, and a bad count before getopt's error is reported
  // first (as BusyBox head does: its getopt loop checks each count as getopt returns it).
  for (const o of g.options) {
    if (o.letter === 'q') headers = 'never';
    else if (o.letter === 'v') headers = 'always';
    else {
      const text = o.value!;
      const plus = applet === 'tail' && text.startsWith('+');
      const digits = plus ? text.slice(1) : text;
      if (!/^[0-9]{1,9}$/.test(digits)) return { ok: false, message: `${applet}: invalid number '${text}'\n` };
      count = Number(digits);
      fromStart = plus;
    }
  }
  if (g.error) {
    const message = 'bad' in g.error ? msg.invalidOption(applet, g.error.bad) : `${applet}: option requires an argument -- '${g.error.missing}'\n`;
    return { ok: false, message };
  }
  return { ok: true, args: { count, fromStart, headers, files: g.operands } };
}
