// Source files and positions as gcc reports them: 1-based lines, and columns in display units
// (gcc's default -fdiagnostics-column-unit=display with -ftabstop=8), so `\tkp.fault_handler`
// puts `fault_handler` at column 12.

/** One file the compiler reads: the module's source, or one of the kernel headers the model knows. */
export interface SourceFile {
  readonly name: string;
  readonly text: string;
  /** A kernel header of the model (not the user's text): diagnostics point at the user's use instead. */
  readonly system: boolean;
  /** Offsets where each line starts (line 1 at index 0). */
  readonly lineStarts: readonly number[];
}

export function sourceFile(name: string, text: string, system = false): SourceFile {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  return { name, text, system, lineStarts };
}

/** A span of a file, as offsets into its text. */
export interface Span {
  readonly file: SourceFile;
  readonly start: number;
  /** Exclusive; equal to start for an empty span (a caret with no range). */
  readonly end: number;
}

export const TABSTOP = 8;

/** 1-based line of an offset. */
export function lineOf(file: SourceFile, offset: number): number {
  const starts = file.lineStarts;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** The text of a 1-based line, without its newline. */
export function lineText(file: SourceFile, line: number): string {
  const start = file.lineStarts[line - 1] ?? file.text.length;
  const next = file.lineStarts[line];
  const end = next === undefined ? file.text.length : next - 1;
  return file.text.slice(start, end).replace(/\r$/, '');
}

/** Display width of one code point: 2 for East Asian wide characters (as gcc's cpp_wcwidth), else 1. */
export function charWidth(cp: number): number {
  if (cp < 0x1100) return 1;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** The display column (1-based) after the text `prefix` of a line: tabs advance to the next stop. */
export function displayWidth(prefix: string): number {
  let col = 0;
  for (const ch of prefix) {
    if (ch === '\t') col += TABSTOP - (col % TABSTOP);
    else col += charWidth(ch.codePointAt(0)!);
  }
  return col;
}

/** A line with its tabs expanded to spaces, as gcc quotes it. */
export function expandTabs(text: string): string {
  let out = '';
  let col = 0;
  for (const ch of text) {
    if (ch === '\t') {
      const n = TABSTOP - (col % TABSTOP);
      out += ' '.repeat(n);
      col += n;
    } else {
      out += ch;
      col += charWidth(ch.codePointAt(0)!);
    }
  }
  return out;
}

export interface LineCol {
  readonly line: number;
  /** 1-based display column. */
  readonly col: number;
}

export function lineCol(file: SourceFile, offset: number): LineCol {
  const line = lineOf(file, offset);
  const start = file.lineStarts[line - 1]!;
  return { line, col: displayWidth(file.text.slice(start, offset)) + 1 };
}
