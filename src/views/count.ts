// Counted nouns in output: "1 CPU", "4 CPUs", "0 events". One place, so no view says "1 CPUs".

/** `n word`, with the plural (default word + "s") unless n is 1. */
export function count(n: number, word: string, plural = `${word}s`): string {
  return `${n} ${n === 1 ? word : plural}`;
}
