// Every message the shell prints about an error, in one place. The shell imitates BusyBox ash
// (the shell of the seed's session, `[root@myQEMU tracing]#`) and the BusyBox applets, with
// glibc's strerror texts. See README.md ("Wording") for the choices.

/** errno values the shell uses (positive): the project's one table. */
export { Errno as E, strerror } from '../errno.ts';
import { Errno as E, strerror } from '../errno.ts';

/** `$0` of the simulated shell: every shell-level message starts with `sh: `. */
export const SHELL_NAME = 'sh';

/** Exit statuses. */
export const STATUS = {
  /** A failing applet (cat, ls, echo's write error). */
  FAILURE: 1,
  /** Errors the shell itself raises: syntax errors, redirections, `cd` (ash sets 2). */
  SHELL_ERROR: 2,
  /** Command not found. */
  NOT_FOUND: 127,
} as const;

/** ash's errmsg(): ENOENT/ENOTDIR get the action's own text, everything else strerror(). */
function ashErrmsg(errno: number, action: string): string {
  return errno === E.ENOENT || errno === E.ENOTDIR ? action : strerror(errno);
}

export const msg = {
  /** ash parser errors (`sh: syntax error: unterminated quoted string`). */
  syntax: (what: string): string => `${SHELL_NAME}: syntax error: ${what}\n`,
  /** Features this shell does not implement (pipelines, subshells, …). */
  unsupported: (what: string): string => `${SHELL_NAME}: ${what} not supported by the kprobesim shell\n`,
  /** ash: `sh: foo: not found` (status 127). */
  notFound: (name: string): string => `${SHELL_NAME}: ${name}: not found\n`,
  /** ash, failing `>`/`>>` redirection: `sh: can't create PATH: Permission denied`. */
  cantCreate: (path: string, errno: number): string =>
    `${SHELL_NAME}: can't create ${path}: ${ashErrmsg(errno, 'nonexistent directory')}\n`,
  /** ash, failing `<` redirection. */
  cantOpen: (path: string, errno: number): string => `${SHELL_NAME}: can't open ${path}: ${ashErrmsg(errno, 'no such file')}\n`,
  /** BusyBox echo (an ash builtin) when write(2) fails: `sh: write error: Invalid argument`. */
  writeError: (errno: number): string => `${SHELL_NAME}: write error: ${strerror(errno)}\n`,
  /** Other applets' write errors (`cat: write error: …`). */
  appletWriteError: (applet: string, errno: number): string => `${applet}: write error: ${strerror(errno)}\n`,
  /** BusyBox cat: `cat: can't open 'FILE': No such file or directory`. */
  catOpen: (path: string, errno: number): string => `cat: can't open '${path}': ${strerror(errno)}\n`,
  /** BusyBox cat on a directory. */
  catRead: (errno: number): string => `cat: read error: ${strerror(errno)}\n`,
  /** BusyBox ls: `ls: PATH: No such file or directory`. */
  ls: (path: string, errno: number): string => `ls: ${path}: ${strerror(errno)}\n`,
  /** ash cd: `sh: cd: can't cd to PATH: No such file or directory`. */
  cd: (path: string, errno: number): string => `${SHELL_NAME}: cd: can't cd to ${path}: ${strerror(errno)}\n`,
  /** BusyBox getopt-style option error. */
  invalidOption: (applet: string, opt: string): string => `${applet}: invalid option -- '${opt}'\n`,
} as const;
