// Translation phases 1-3: line splices (backslash-newline) vanish, comments become a space, and
// the text becomes preprocessing tokens, each with the span of the original text it was spelled in.

import type { Diagnostic } from './diagnostics.ts';
import type { SourceFile, Span } from './source.ts';

export type TokKind = 'ident' | 'number' | 'char' | 'string' | 'punct' | 'other' | 'eof';

export interface Token {
  readonly kind: TokKind;
  /** The spelling, line splices removed. */
  readonly text: string;
  /** Where it is spelled. */
  readonly span: Span;
  /** First token of its line (a `#` here starts a directive). */
  readonly bol: boolean;
  /** Whitespace (or a comment) before it. */
  readonly space: boolean;
  /** Macro names that must not expand this token again (the hide set of Prosser's algorithm). */
  readonly hide?: ReadonlySet<string>;
  /** For a token a macro produced: the invocation in the user's text it came from. */
  readonly from?: Span;
  /** The macro whose body spelled it, when that is the user's own macro. */
  readonly macro?: string;
}

const PUNCTS = [
  '...', '<<=', '>>=',
  '->', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '*=', '/=', '%=', '+=', '-=', '&=', '^=', '|=', '##',
  '[', ']', '(', ')', '{', '}', '.', '&', '*', '+', '-', '~', '!', '/', '%', '<', '>', '^', '|', '?', ':', ';', '=', ',', '#',
];

const isIdStart = (c: string): boolean => /[A-Za-z_$]/.test(c) || c.charCodeAt(0) >= 0x80;
const isIdChar = (c: string): boolean => /[A-Za-z0-9_$]/.test(c) || c.charCodeAt(0) >= 0x80;
const isDigit = (c: string): boolean => c >= '0' && c <= '9';

export interface LexResult {
  readonly tokens: Token[];
  readonly diagnostics: Diagnostic[];
}

/**
 * Tokenizes a whole file. Newlines are not tokens; `bol` marks the first token of each line
 * (lines joined by a backslash-newline count as one). The last token is an `eof`.
 */
export function lex(file: SourceFile): LexResult {
  // Phase 2: remove backslash-newline, keeping each remaining character's original offset.
  const src = file.text;
  let text = '';
  const orig: number[] = [];
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      let j = i + 1;
      while (j < src.length && (src[j] === ' ' || src[j] === '\t')) j++; // gcc accepts (and warns about) space before the newline
      if (src[j] === '\n' || (src[j] === '\r' && src[j + 1] === '\n')) {
        i = src[j] === '\r' ? j + 1 : j;
        continue;
      }
    }
    text += c;
    orig.push(i);
  }
  orig.push(src.length);
  const at = (k: number): number => orig[Math.min(k, orig.length - 1)]!;
  const span = (s: number, e: number): Span => ({ file, start: at(s), end: e > s ? at(e - 1) + 1 : at(s) });

  const tokens: Token[] = [];
  const diagnostics: Diagnostic[] = [];
  let bol = true;
  let space = false;
  let i = 0;
  const n = text.length;
  const push = (kind: TokKind, s: number, e: number): void => {
    tokens.push({ kind, text: text.slice(s, e), span: span(s, e), bol, space });
    bol = false;
    space = false;
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      bol = true;
      space = false;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      space = true;
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) {
        diagnostics.push({ severity: 'error', message: 'unterminated comment', span: span(i, i + 1) });
        i = n;
      } else {
        i = end + 2;
      }
      space = true;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
      space = true;
      continue;
    }
    const s = i;
    // String and character literals, with their prefixes.
    const prefix = /^(u8|u|U|L)?(["'])/.exec(text.slice(i, i + 3));
    if (prefix && (prefix[1] === undefined || isIdStart(c))) {
      const quote = prefix[2]!;
      i += prefix[0].length;
      let closed = false;
      while (i < n && text[i] !== '\n') {
        if (text[i] === '\\') {
          i += 2;
          continue;
        }
        if (text[i] === quote) {
          i++;
          closed = true;
          break;
        }
        i++;
      }
      if (!closed) {
        i = Math.min(i, n);
        diagnostics.push({
          severity: 'error',
          message: `missing terminating ${quote} character`,
          span: span(s, i),
        });
        push('other', s, i);
        continue;
      }
      push(quote === '"' ? 'string' : 'char', s, i);
      continue;
    }
    if (isIdStart(c)) {
      while (i < n && isIdChar(text[i]!)) i++;
      push('ident', s, i);
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? ''))) {
      i++;
      while (i < n) {
        const d = text[i]!;
        if ((d === '+' || d === '-') && /[eEpP]/.test(text[i - 1]!)) i++;
        else if (isIdChar(d) || d === '.') i++;
        else break;
      }
      push('number', s, i);
      continue;
    }
    const p = PUNCTS.find((q) => text.startsWith(q, i));
    if (p) {
      i += p.length;
      push('punct', s, i);
      continue;
    }
    i++;
    push('other', s, i);
  }
  tokens.push({ kind: 'eof', text: '', span: span(n, n), bol: true, space: false });
  return { tokens, diagnostics };
}
