// Errors raised by the log layer. The CLI prints `kprobesim: ${err.message}` and exits 2 for
// both classes, so each message must stand on its own and name the file it is about.

/** A defect in a log file, located by line (and column when known, 1-based). */
export class LogError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number | undefined,
    readonly what: string,
  ) {
    super(`${file}:${line}${column === undefined ? '' : `:${column}`}: ${what}`);
    this.name = 'LogError';
  }
}

/**
 * The output file (or its `.partial` temporary) already exists. A usage error, not a crash:
 * we refuse rather than silently destroy a log someone may still need.
 */
export class OutputExistsError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'OutputExistsError';
  }
}

/**
 * Turns a JSON.parse failure into a message and a 1-based column. V8 reports a 0-based offset
 * ("... in JSON at position N", Node 22+ also appends "(line L column C)"); some messages carry no
 * position at all ("Unexpected token 'x', "<snippet>" is not valid JSON"), and then we report no
 * column rather than guess one.
 */
export function describeJsonError(err: unknown): { what: string; column: number | undefined } {
  const msg = err instanceof Error ? err.message : String(err);
  const pos = /\bat position (\d+)/.exec(msg);
  const column = pos ? Number(pos[1]) + 1 : undefined;
  const text = msg
    .replace(/\s*\(line \d+ column \d+\)/, '')
    .replace(/ in JSON at position \d+/, '')
    .replace(/ after JSON at position \d+/, ' after the JSON value')
    .replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '')
    .replace(/^./, (c) => c.toLowerCase());
  return { what: `invalid JSON: ${text}`, column };
}
