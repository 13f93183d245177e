// Tab completion for the interactive shell, over the simulated tree only (nothing of the host is
// listed). The word before the cursor is completed as a command name where a command starts (the
// start of the line, or after `|`, `;`, `&&`, `||`) and as a path everywhere else, or when it has
// a `/` in it. As in ash: a directory completes with a `/`, and a sole match of a file or command
// with a space after it. The result is what readline's `completer` returns: the candidates and
// the text they replace.

import type { Vfs } from './vfs.ts';

export interface CompletionSource {
  readonly vfs: Vfs;
  readonly cwd: string;
  /** Every command name: builtins, programs, kernel commands. */
  readonly commands: readonly string[];
}

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function complete(line: string, source: CompletionSource): [string[], string] {
  // The word being typed: what follows the last blank or operator character.
  const m = /[^\s;|&<>]*$/.exec(line)!;
  const word = m[0];
  const before = line.slice(0, m.index).trimEnd();
  const commandPosition = before === '' || /(\||;|&&)$/.test(before);
  let candidates: { text: string; final: boolean }[];
  if (commandPosition && !word.includes('/')) {
    candidates = [...new Set(source.commands)].filter((c) => c.startsWith(word)).map((c) => ({ text: c, final: true }));
  } else {
    const slash = word.lastIndexOf('/');
    const dirPart = word.slice(0, slash + 1);
    const prefix = word.slice(slash + 1);
    const dir = source.vfs.resolve(source.cwd, dirPart === '' ? '.' : dirPart);
    if (!dir.ok || dir.node.type !== 'dir') return [[], word];
    const node = dir.node;
    candidates = node
      .entries()
      .filter((e) => e.startsWith(prefix))
      .map((e) => {
        const isDir = node.child(e)?.type === 'dir';
        return { text: `${dirPart}${e}${isDir ? '/' : ''}`, final: !isDir };
      });
  }
  candidates.sort((a, b) => byteOrder(a.text, b.text));
  const only = candidates.length === 1 ? candidates[0] : undefined;
  if (only !== undefined) return [[only.final ? `${only.text} ` : only.text], word];
  return [candidates.map((c) => c.text), word];
}
