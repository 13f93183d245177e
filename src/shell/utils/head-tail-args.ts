// The arguments of BusyBox head and tail: `-n N`, `-nN`, the old `-N`, tail's `-n +N` (from line
// N on), `-q` (no `==> FILE <==` headers) and `-v` (always headers), then the files.

export interface LinesArgs {
  /** How many lines, or (tail `+N`) the first line number to print. */
  readonly count: number;
  readonly fromStart: boolean;
  readonly headers: 'auto' | 'never' | 'always';
  readonly files: readonly string[];
}

export type LinesParse = { readonly ok: true; readonly args: LinesArgs } | { readonly ok: false; readonly message: string };

export function parseLinesArgs(applet: 'head' | 'tail', argv: readonly string[]): LinesParse {
  let count = 10;
  let fromStart = false;
  let headers: LinesArgs['headers'] = 'auto';
  const files: string[] = [];
  const setCount = (text: string): string | null => {
    const plus = applet === 'tail' && text.startsWith('+');
    const digits = plus ? text.slice(1) : text;
    if (!/^[0-9]{1,9}$/.test(digits)) return `${applet}: invalid number '${text}'\n`;
    count = Number(digits);
    fromStart = plus;
    return null;
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      files.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      files.push(a);
      continue;
    }
    if (/^-[0-9]+$/.test(a)) {
      const e = setCount(a.slice(1));
      if (e !== null) return { ok: false, message: e };
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const o = a[j]!;
      if (o === 'n') {
        const rest = a.slice(j + 1);
        const value = rest !== '' ? rest : argv[++i];
        if (value === undefined) return { ok: false, message: `${applet}: option requires an argument -- 'n'\n` };
        const e = setCount(value);
        if (e !== null) return { ok: false, message: e };
        break;
      }
      if (o === 'q') headers = 'never';
      else if (o === 'v') headers = 'always';
      else return { ok: false, message: `${applet}: invalid option -- '${o}'\n` };
    }
  }
  return { ok: true, args: { count, fromStart, headers, files } };
}
