import { InputError } from '../errors.ts';
import { abbreviatePath, tooDeep } from '../json-depth.ts';
import { fieldPath } from './validate.ts';

// A scenario's deepest legitimate nesting is a task's forks: every "fork" adds two levels
// (its op object and its program array). A hundred levels leave room for some 45 nested forks,
// far more than any run needs, and keep zod and the message builders (which recurse) well away
// from the end of the call stack.

export const MAX_SCENARIO_DEPTH = 100;

/** Throws an InputError naming the field path when `raw` nests deeper than the limit. */
export function checkNesting(raw: unknown, limit = MAX_SCENARIO_DEPTH): void {
  const path = tooDeep(raw, limit);
  if (path === null) return;
  const { head, omitted, tail } = abbreviatePath(path);
  const place = omitted === 0 ? fieldPath(head) : `${fieldPath(head)}…(${omitted} more levels)…${fieldPath(tail, '')}`;
  throw new InputError(place, `nested more than ${limit} levels deep (arrays and objects; a scenario may nest at most ${limit} levels)`);
}
