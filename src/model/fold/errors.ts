// Errors of the fold.

/** An event that does not fit the state it is applied to (a corrupt or hand-edited log). */
export class FoldError extends Error {}

export function fail(msg: string): never {
  throw new FoldError(msg);
}
