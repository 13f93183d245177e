import { open } from 'node:fs/promises';
import { InputError } from '../errors.ts';

// A module's C source as a command reads it from the host: a regular file of at most
// MAX_MODULE_SOURCE bytes, as UTF-8 (a module is a few kilobytes; a bigger file is a mistake, and
// reading it whole could exhaust memory).

export const MAX_MODULE_SOURCE = 1024 * 1024;

export async function readModuleSource(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new InputError(path, 'is not a regular file (expected a module\'s C source)');
    if (st.size > MAX_MODULE_SOURCE) throw new InputError(path, `is ${st.size} bytes; a module's source may be at most ${MAX_MODULE_SOURCE} bytes`);
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await fh.read(buf, 0, st.size, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}
