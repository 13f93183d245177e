// Errors that come from what a user gave us (a scenario, a log, an argument). The CLI prints
// them as `kprobesim: <place>: <what>` with exit status 2, never with a stack trace.

export class InputError extends Error {
  constructor(
    /** Where: `file:line:col`, a field path such as `scenario.probes[2].symbol`, or an option. */
    readonly place: string,
    /** What is wrong, and what was expected. */
    readonly what: string,
  ) {
    super(place === '' ? what : `${place}: ${what}`);
  }
}

/**
 * Several input errors found at once (every invalid field of a scenario, up to a bound). It is
 * an InputError for the first of them, and its message has one `place: what` line for each.
 */
export class InputErrors extends InputError {
  constructor(readonly errors: readonly InputError[]) {
    super(errors[0]!.place, errors[0]!.what);
    this.message = errors.map((e) => e.message).join('\n');
  }
}

/** The same error(s) with `prefix: ` before each place (`file.json: scenario.cpus: …`). */
export function withPlacePrefix(e: InputError, prefix: string): InputError {
  const one = (x: InputError) => new InputError(x.place === '' ? prefix : `${prefix}: ${x.place}`, x.what);
  return e instanceof InputErrors ? new InputErrors(e.errors.map(one)) : one(e);
}

/** Line and column (1-based) of a character offset in a text. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}
