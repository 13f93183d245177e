// The applets' option parser: glibc getopt(3) with GNU argument permutation, which is what
// BusyBox's getopt32 runs on (no long options here). The spec is getopt's optstring: each letter
// is an option, a letter followed by `:` takes a value (`'e:'`, `'n:qv'`).
//
// As getopt: options may be grouped (`-nru`); a value is the rest of its word (`-n5`) or else the
// next word, whatever it looks like (`-n 5`, `-e -x`, `-e --`); `--` ends the options; `-` and
// words not starting with `-` are operands, and may come before options (permutation); an
// unknown letter or a value-taking letter at the end of argv is an error. `--long` is not a long
// option: its first letter is `-`, which no spec has, so it is `invalid option -- '-'` as glibc
// says without long options.

export interface Opt {
  readonly letter: string;
  /** The value, for a letter that takes one. */
  readonly value?: string;
}

/** An unknown option letter, or a value-taking letter with nothing after it. */
export type GetoptError = { readonly bad: string } | { readonly missing: string };

export interface GetoptResult {
  /**
   * The options in argv order, repeats included, so a later `-q`/`-v` can override an earlier
   * one. When there is an error, the options before it: an applet that checks values as getopt
   * returns them (head's `-n x`) reports the first problem in argv order, as BusyBox does.
   */
  readonly options: readonly Opt[];
  /** The operands in order (those after an error are not collected). */
  readonly operands: readonly string[];
  /** The first error; getopt32 stops there (bb_show_usage), so there is at most one. */
  readonly error?: GetoptError;
}

/** Parse `argv` (argv[0] is the program name) by `spec`, getopt's optstring. */
export function getopt(argv: readonly string[], spec: string): GetoptResult {
  // letter → takes a value. `:` itself is never an option (glibc refuses it even though it is in
  // the optstring), and this map never holds it.
  const letters = new Map<string, boolean>();
  for (let i = 0; i < spec.length; i++) {
    if (spec[i] === ':') continue;
    letters.set(spec[i]!, spec[i + 1] === ':');
  }
  const options: Opt[] = [];
  const operands: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (!word.startsWith('-') || word === '-') {
      operands.push(word); // permutation: keep looking for options after it
      continue;
    }
    for (let j = 1; j < word.length; j++) {
      const letter = word[j]!;
      const takesValue = letters.get(letter);
      if (takesValue === undefined) return { options, operands, error: { bad: letter } };
      if (!takesValue) {
        options.push({ letter });
        continue;
      }
      // The value ends the word: the rest of it, or the whole next word.
      const value = j + 1 < word.length ? word.slice(j + 1) : argv[++i];
      if (value === undefined) return { options, operands, error: { missing: letter } };
      options.push({ letter, value });
      break;
    }
  }
  return { options, operands };
}
