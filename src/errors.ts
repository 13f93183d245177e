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
