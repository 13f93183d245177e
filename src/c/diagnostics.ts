// Diagnostics as gcc (12/13, LANG=C) prints them:
//
//   kprobe_example.c: In function 'kprobe_init':
//   kprobe_example.c:119:12: error: 'struct kprobe' has no member named 'fault_handler'; did you mean 'post_handler'?
//     119 |         kp.fault_handler = handler_fault;
//         |            ^~~~~~~~~~~~~
//         |            post_handler
//
// The location line, the quoted source line (tabs expanded) with its line-number margin, a caret
// under the first column of the range and `~` under the rest, an optional fix-it line, notes after
// their diagnostic, the "In function 'f':" / "At top level:" context lines when the context
// changes, and "cc1: some warnings being treated as errors" when a -Werror= promoted a warning.

import { expandTabs, lineCol, lineText, type Span } from './source.ts';

export type Severity = 'fatal error' | 'error' | 'warning' | 'note';

export interface Diagnostic {
  readonly severity: Severity;
  readonly message: string;
  /** Where: the caret goes under `span.start`, `~` under the rest of the span's first line. */
  readonly span?: Span;
  /** The warning option that names it (`return-type` for [-Wreturn-type]). */
  readonly option?: string;
  /** The warning was made an error by the build's -Werror=OPTION. */
  readonly promoted?: boolean;
  /** A fix-it hint: text to insert at the caret (gcc prints it under the caret line). */
  readonly fixit?: string;
  /** More ranges gcc underlines with `~` (the token after a missing ';', the '(' it matches). */
  readonly ranges?: readonly Span[];
  /** The function being compiled (for gcc's "In function 'f':" line); null at top level; undefined: none printed. */
  readonly fn?: string | null;
  readonly notes?: readonly Diagnostic[];
  /** gcc prints some notes without quoting the source line. */
  readonly noQuote?: boolean;
}

export const isError = (d: Diagnostic): boolean => d.severity === 'error' || d.severity === 'fatal error';

/** Formats diagnostics in order, as gcc writes them to standard error. */
export function formatDiagnostics(diags: readonly Diagnostic[]): string {
  const out: string[] = [];
  let context: string | null = null; // gcc starts "at top level" without saying so
  let promoted = false;
  for (const d of diags) {
    if (d.fn !== undefined && d.fn !== context && d.span) {
      out.push(d.fn === null ? `${d.span.file.name}: At top level:` : `${d.span.file.name}: In function '${d.fn}':`);
      context = d.fn;
    }
    formatOne(d, out);
    if (d.promoted) promoted = true;
  }
  if (promoted) out.push('cc1: some warnings being treated as errors');
  if (diags.some((d) => d.severity === 'fatal error')) out.push('compilation terminated.');
  return out.length === 0 ? '' : out.join('\n') + '\n';
}

/** The one-line form without the quoted source: `file:line:col: error: message`. */
export function diagnosticHeadline(d: Diagnostic): string {
  const option = d.option === undefined ? '' : d.promoted ? ` [-Werror=${d.option}]` : ` [-W${d.option}]`;
  if (!d.span) return `cc1: ${d.severity}: ${d.message}${option}`;
  const { line, col } = lineCol(d.span.file, d.span.start);
  return `${d.span.file.name}:${line}:${col}: ${d.severity}: ${d.message}${option}`;
}

function formatOne(d: Diagnostic, out: string[]): void {
  out.push(diagnosticHeadline(d));
  if (d.span && !d.noQuote) quote(d, d.span, out);
  for (const n of d.notes ?? []) formatOne(n, out);
}

function quote(d: Diagnostic, span: Span, out: string[]): void {
  const file = span.file;
  const { line, col } = lineCol(file, span.start);
  // Annotation characters per line: the caret, `~` under the rest of the primary range and
  // under each further range (gcc draws ranges on the primary's line into its annotation line).
  const marks = new Map<number, string[]>();
  const mark = (ln: number, from: number, to: number, ch: string): void => {
    const row = marks.get(ln) ?? [];
    for (let c = from; c <= to; c++) if (row[c - 1] === undefined || row[c - 1] === ' ') row[c - 1] = ch;
    marks.set(ln, row);
  };
  const rangeOf = (s: Span): { line: number; from: number; to: number } => {
    const a = lineCol(s.file, s.start);
    const b = lineCol(s.file, Math.max(s.start, s.end - 1));
    return { line: a.line, from: a.col, to: b.line === a.line && s.end > s.start ? b.col : a.col };
  };
  mark(line, col, col, '^');
  const primary = rangeOf(span);
  if (primary.to > col) mark(line, col + 1, primary.to, '~');
  for (const r of d.ranges ?? []) {
    if (r.file !== file) continue;
    const g = rangeOf(r);
    mark(g.line, g.from, g.to, '~');
  }
  const fixLine = d.fixit === undefined ? undefined : ' '.repeat(col - 1) + d.fixit;
  const lines = [...marks.keys()].sort((a, b) => a - b);
  const text = (row: string[]): string => Array.from(row, (c) => c ?? ' ').join('');
  const width = Math.max(fixLine?.length ?? 0, ...lines.map((l) => text(marks.get(l)!).length));
  const margin = Math.max(5, String(lines[lines.length - 1]!).length + 1);
  const gutter = ' '.repeat(margin) + ' |';
  for (const l of lines) {
    out.push(`${String(l).padStart(margin)} | ${expandTabs(lineText(file, l))}`.trimEnd());
    const ann = text(marks.get(l)!);
    out.push(`${gutter} ${l === line ? ann : ann.padEnd(width)}`);
    if (l === line && fixLine !== undefined) out.push(`${gutter} ${fixLine}`);
  }
}

/** Collects diagnostics in the order they are found. */
export class DiagnosticBag {
  readonly list: Diagnostic[] = [];
  add(d: Diagnostic): void {
    this.list.push(d);
  }
  get hasErrors(): boolean {
    return this.list.some(isError);
  }
}
