// The parser's error position bookkeeping (the kernel's trace_probe_log): the command is viewed as
// its tokens; an error is raised at (token index, offset inside the token) and its caret column is
// computed as in R165. Internal to the tracefs parser.

import { probeError, type ErrorKey, type LoggedError } from './errors.ts';

/** Thrown inside the parser to stop at the first failure; carries the write's errno. */
export class ParseAbort {
  constructor(
    readonly errno: number,
    readonly silent: string | null = null,
  ) {}
}

/** R165: column of (index, offset) over `tokens`; an index past the end points after them all. */
export function errorColumn(tokens: readonly string[], index: number, offset: number): number {
  let pos = 0;
  let len = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (i === index) pos = len;
    len += (tokens[i] as string).length + 1;
  }
  let off = offset;
  if (index >= tokens.length) {
    pos = len;
    off = 0;
  }
  // tracing_log_err() stores the position as u16 (R164).
  return (pos + off) & 0xffff;
}

export class ProbeLog {
  /** The tokens the error_log echoes (mutable: the %pd rewrite edits them in place, R124). */
  readonly argv: string[];
  index = 0;
  readonly entries: LoggedError[] = [];

  constructor(argv: readonly string[]) {
    this.argv = [...argv];
  }

  /** Record an error_log entry (does not stop parsing by itself). errno is fixed up by the caller. */
  err(offset: number, key: ErrorKey, errno: number): void {
    const column = errorColumn(this.argv, this.index, offset);
    this.entries.push({ error: probeError(key, column, errno), command: this.argv.join(' ') });
  }

  /** Record an error and abort the parse with `errno`. */
  fail(offset: number, key: ErrorKey, errno: number): never {
    this.err(offset, key, errno);
    throw new ParseAbort(errno);
  }
}
