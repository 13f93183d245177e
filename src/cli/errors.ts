import { InputError } from '../errors.ts';
import { LogError, OutputExistsError } from '../log/errors.ts';

// Maps anything thrown out of a command to the contract's exit status and one message line:
// 2 for bad input or usage, never a stack trace for something the user can fix.

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
};

export function userMessage(e: unknown): string | null {
  if (e instanceof InputError || e instanceof LogError || e instanceof OutputExistsError) return e.message;
  if (typeof e === 'object' && e !== null && 'code' in e && 'path' in e) {
    const code = String((e as { code: unknown }).code);
    if (code in ERRNO_TEXT) return `${String((e as { path: unknown }).path)}: ${ERRNO_TEXT[code]}`;
  }
  return null;
}
