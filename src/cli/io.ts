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
