// Linux errno values (x86-64 and arm64 numbering, spec §0) and glibc's strerror() texts, in one
// place. Kernel functions return them negated (-EINVAL); a failed write(2) reports the positive
// value.

export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EIO: 5,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EFBIG: 27,
  ENOSPC: 28,
  EROFS: 30,
  ERANGE: 34,
  ENOSYS: 38,
  EILSEQ: 84,
  EOPNOTSUPP: 95,
  EADDRNOTAVAIL: 99,
  ECANCELED: 125,
} as const;

const STRERROR: Readonly<Record<number, string>> = {
  1: 'Operation not permitted',
  2: 'No such file or directory',
  3: 'No such process',
  5: 'Input/output error',
  7: 'Argument list too long',
  8: 'Exec format error',
  9: 'Bad file descriptor',
  11: 'Resource temporarily unavailable',
  12: 'Cannot allocate memory',
  13: 'Permission denied',
  14: 'Bad address',
  16: 'Device or resource busy',
  17: 'File exists',
  19: 'No such device',
  20: 'Not a directory',
  21: 'Is a directory',
  22: 'Invalid argument',
  27: 'File too large',
  28: 'No space left on device',
  30: 'Read-only file system',
  34: 'Numerical result out of range',
  38: 'Function not implemented',
  84: 'Invalid or incomplete multibyte or wide character',
  95: 'Operation not supported',
  99: 'Cannot assign requested address',
  125: 'Operation canceled',
};

/** glibc's strerror() text for a positive errno. */
export function strerror(errno: number): string {
  return STRERROR[errno] ?? `Unknown error ${errno}`;
}

const NAMES: ReadonlyMap<number, string> = new Map(Object.entries(Errno).map(([name, value]) => [value, name]));

/**
 * How a kernel function's negative return reads to a person: `-EILSEQ (-84)`. A value outside the
 * table prints as the bare number.
 */
export function errnoText(ret: number): string {
  const name = NAMES.get(Math.abs(ret));
  return name === undefined ? String(ret) : `${ret < 0 ? '-' : ''}${name} (${ret})`;
}
