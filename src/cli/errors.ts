import { InputError, InputErrors } from '../errors.ts';
import { LogError, OutputExistsError } from '../log/errors.ts';

// Maps anything thrown out of a command to the contract's exit status and one message line:
// 2 for bad input or usage, never a stack trace for something the user can fix.

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

// Not the kernel's errno table (src/errno.ts, the simulated kernel's values and texts): these
// are the host's file errors, keyed by the code Node puts on a failed fs call (`err.code`), when
// the CLI itself cannot read a scenario or write a log. Several (EROFS, ELOOP, EMFILE, …) never
// occur in the simulated kernel, and no number is involved, so nothing here derives from it.
const ERRNO_TEXT: ReadonlyMap<string, string> = new Map([
  ['ENOENT', 'No such file or directory'],
  ['EACCES', 'Permission denied'],
  ['EISDIR', 'Is a directory'],
  ['ENOTDIR', 'Not a directory'],
  ['ENOSPC', 'No space left on device'],
  ['EROFS', 'Read-only file system'],
  ['EIO', 'Input/output error'],
  ['ELOOP', 'Too many levels of symbolic links'],
  ['ENAMETOOLONG', 'File name too long'],
  ['EMFILE', 'Too many open files'],
  ['EFBIG', 'File too large'],
  ['EDQUOT', 'Disk quota exceeded'],
  ['ENXIO', 'No such device or address'],
  ['EPERM', 'Operation not permitted'],
]);

export function userMessage(e: unknown): string | null {
  // Several errors (a scenario's every invalid field): one `kprobesim: ` line each.
  if (e instanceof InputErrors) return e.errors.map((x) => x.message).join('\nkprobesim: ');
  if (e instanceof InputError || e instanceof LogError || e instanceof OutputExistsError) return e.message;
  if (typeof e === 'object' && e !== null && 'code' in e && 'path' in e) {
    const code = String((e as { code: unknown }).code);
    const text = ERRNO_TEXT.get(code);
    if (text !== undefined) return `${String((e as { path: unknown }).path)}: ${text}`;
  }
  return null;
}
