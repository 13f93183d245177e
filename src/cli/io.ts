import { rename, writeFile, stat } from 'node:fs/promises';
import { InputError } from '../errors.ts';

// Output helpers for commands that write files: never truncate what the user did not ask to
// replace, and never leave a half-written file under the final name.

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function writeFileAtomically(path: string, text: string, force: boolean): Promise<void> {
  if (!force && (await exists(path))) throw new InputError(path, 'exists; pass --force to replace it');
  const tmp = `${path}.partial`;
  await writeFile(tmp, text, { flag: 'wx' });
  await rename(tmp, path);
}

export function out(text: string): void {
  process.stdout.write(text);
}

/** Tells, on stderr, when a log stops short of log.end, so a view of it is not taken for a whole run. */
export function noteIfPartial(path: string, folded: { truncatedAt: number | null; ended: boolean; lastSeq: number }, atSeq?: number): void {
  // With --at the user asked for a prefix: nothing to warn about.
  if (atSeq !== undefined) return;
  if (folded.truncatedAt !== null) {
    process.stderr.write(`kprobesim: note: ${path}:${folded.truncatedAt} is cut short (an interrupted run); this shows it up to seq ${folded.lastSeq}\n`);
  } else if (!folded.ended) {
    process.stderr.write(`kprobesim: note: ${path} stops before log.end (an interrupted run); this shows it up to seq ${folded.lastSeq}\n`);
  }
}

/**
 * A log write failed (a full disk): stop writing, tell where the log so far is (the .partial,
 * readable up to its last complete event), and pass the error on for its message and status 2.
 */
export async function abandonLog(writer: { abort(): Promise<string | null> }, what: 'run' | 'session', e: unknown): Promise<never> {
  const partial = await writer.abort();
  if (partial !== null) process.stderr.write(`kprobesim: the ${what} stopped; its log so far is in ${partial}\n`);
  throw e;
}
