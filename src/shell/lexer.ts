// Token recognition for the POSIX sh subset the kprobesim shell understands (POSIX XCU 2.3, 2.2):
//
// * blanks separate words; a newline is a command separator;
// * `'…'` single quotes: everything literal up to the next `'`;
// * `"…"` double quotes: literal except `$` (parameter expansion) and `\`, which escapes only
//   `$`, `` ` ``, `"`, `\` and newline (elsewhere the backslash stays);
// * `\c` outside quotes quotes the next character; backslash-newline is a line continuation;
// * `#` at the start of a word starts a comment up to the end of the line;
// * `$NAME`, `${NAME}`, `$?`, `$$`, `$#`, `$0`…`$9`, `$@`, `$*`, `$!`, `$-` are parameters;
//   `$` followed by anything else is a literal `$`;
// * operators: `;` `&&` `||` `>` `>>` `<` `>&` `<&` `>|` (supported), and `|` `&` `(` `)` `;;`
//   `<<` `<<-` `<>` (recognised so the parser can refuse them as sh would or say they are not
//   supported); a word made only of unquoted digits directly before `<`/`>` is an IO_NUMBER
//   (`2>/dev/null`), any other word ends at the operator (`echo x>file` → `echo`, `x`, `>`, `file`).
//
// Quote characters are removed by the expansion step (expand.ts), which needs to know which
// characters were quoted; so a word is kept as a list of parts.

import { msg } from './messages.ts';

/** A piece of a word. `quoted`: inside quotes or backslash-escaped (no splitting, no globbing). */
export type WordPart =
  | { readonly kind: 'text'; readonly text: string; readonly quoted: boolean }
  | { readonly kind: 'param'; readonly name: string; readonly quoted: boolean };

export interface Word {
  readonly parts: readonly WordPart[];
  /** The word's source text, quotes included (for messages and reserved-word checks). */
  readonly raw: string;
}

export type Operator =
  | ';' | '&&' | '||' | '|' | '&' | '(' | ')' | ';;'
  | '>' | '>>' | '<' | '>&' | '<&' | '>|' | '<<' | '<<-' | '<>';

export const REDIRECT_OPERATORS: ReadonlySet<Operator> = new Set<Operator>(['>', '>>', '<', '>&', '<&', '>|', '<<', '<<-', '<>']);

export type Token =
  | { readonly kind: 'word'; readonly word: Word }
  | { readonly kind: 'op'; readonly op: Operator; /** IO_NUMBER before a redirection operator. */ readonly fd: number | null }
  | { readonly kind: 'newline' };

export type LexResult =
  | { readonly ok: true; readonly tokens: readonly Token[] }
  /** Input ended inside a quote or right after a backslash: more input could complete it. */
  | { readonly ok: false; readonly kind: 'incomplete'; readonly reason: 'quote' | 'backslash' }
  /** An error no further input can repair; `message` is the full stderr line. */
  | { readonly ok: false; readonly kind: 'error'; readonly message: string };

class LexAbort {
  constructor(readonly result: Exclude<LexResult, { ok: true }>) {}
}

/** Operators, longest first (maximal munch, XCU 2.3 rule 2). */
const OPERATORS: readonly Operator[] = ['<<-', '&&', '||', ';;', '>>', '>&', '<&', '>|', '<<', '<>', ';', '|', '&', '(', ')', '>', '<'];
const OPERATOR_START = new Set([';', '&', '|', '(', ')', '<', '>']);
const SPECIAL_PARAMS = new Set(['?', '$', '#', '@', '*', '!', '-']);
const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

export function isName(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);
}

/** Split sh input into tokens (see the header comment). Never throws. */
export function tokenize(input: string): LexResult {
  try {
    return { ok: true, tokens: new Lexer(input).run() };
  } catch (e) {
    if (e instanceof LexAbort) return e.result;
    throw e;
  }
}

class Lexer {
  private i = 0;
  private readonly tokens: Token[] = [];
  private parts: WordPart[] = [];
  private inWord = false;
  private wordStart = 0;

  constructor(private readonly s: string) {}

  run(): Token[] {
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i] as string;
      if (c === ' ' || c === '\t') {
        this.endWord();
        this.i++;
      } else if (c === '\n') {
        this.endWord();
        this.tokens.push({ kind: 'newline' });
        this.i++;
      } else if (c === '#' && !this.inWord) {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
      } else if (c === '\\') {
        this.backslash();
      } else if (c === "'") {
        this.singleQuote();
      } else if (c === '"') {
        this.doubleQuote();
      } else if (c === '$') {
        this.dollar(false);
      } else if (c === '`') {
        throw new LexAbort({ ok: false, kind: 'error', message: msg.unsupported('command substitution (`…`) is') });
      } else if (OPERATOR_START.has(c)) {
        this.operator();
      } else {
        this.text(c, false);
        this.i++;
      }
    }
    this.endWord();
    return this.tokens;
  }

  private startWord(): void {
    if (!this.inWord) {
      this.inWord = true;
      this.wordStart = this.i;
    }
  }

  private text(t: string, quoted: boolean): void {
    this.startWord();
    const last = this.parts[this.parts.length - 1];
    if (last && last.kind === 'text' && last.quoted === quoted) {
      this.parts[this.parts.length - 1] = { kind: 'text', text: last.text + t, quoted };
    } else {
      this.parts.push({ kind: 'text', text: t, quoted });
    }
  }

  private endWord(end: number = this.i): void {
    if (!this.inWord) return;
    this.tokens.push({ kind: 'word', word: { parts: this.parts, raw: this.s.slice(this.wordStart, end) } });
    this.parts = [];
    this.inWord = false;
  }

  private backslash(): void {
    const next = this.s[this.i + 1];
    if (next === undefined) throw new LexAbort({ ok: false, kind: 'incomplete', reason: 'backslash' });
    if (next === '\n') {
      // Line continuation: both characters disappear, the word (if any) goes on.
      this.i += 2;
      return;
    }
    this.text(next, true);
    this.i += 2;
  }

  private singleQuote(): void {
    const close = this.s.indexOf("'", this.i + 1);
    if (close < 0) throw new LexAbort({ ok: false, kind: 'incomplete', reason: 'quote' });
    this.text(this.s.slice(this.i + 1, close), true);
    this.i = close + 1;
  }

  private doubleQuote(): void {
    const s = this.s;
    this.text('', true); // `""` is an (empty) word of its own
    this.i++;
    for (;;) {
      const c = s[this.i];
      if (c === undefined) throw new LexAbort({ ok: false, kind: 'incomplete', reason: 'quote' });
      if (c === '"') {
        this.i++;
        return;
      }
      if (c === '\\') {
        const n = s[this.i + 1];
        if (n === undefined) throw new LexAbort({ ok: false, kind: 'incomplete', reason: 'quote' });
        if (n === '\n') {
          this.i += 2;
        } else if (n === '$' || n === '`' || n === '"' || n === '\\') {
          this.text(n, true);
          this.i += 2;
        } else {
          this.text('\\', true);
          this.i++;
        }
      } else if (c === '$') {
        this.dollar(true);
      } else if (c === '`') {
        throw new LexAbort({ ok: false, kind: 'error', message: msg.unsupported('command substitution (`…`) is') });
      } else {
        this.text(c, true);
        this.i++;
      }
    }
  }

  private param(name: string, quoted: boolean): void {
    this.startWord();
    this.parts.push({ kind: 'param', name, quoted });
  }

  private dollar(quoted: boolean): void {
    const s = this.s;
    const n = s[this.i + 1];
    if (n === '{') {
      const close = s.indexOf('}', this.i + 2);
      if (close < 0) {
        // ash: an unterminated `${` is reported when the input ends.
        throw new LexAbort({ ok: false, kind: 'error', message: msg.syntax("missing '}'") });
      }
      const name = s.slice(this.i + 2, close);
      if (!(isName(name) || /^[0-9]+$/.test(name) || (name.length === 1 && SPECIAL_PARAMS.has(name)))) {
        throw new LexAbort({ ok: false, kind: 'error', message: msg.syntax('bad substitution') });
      }
      this.param(name, quoted);
      this.i = close + 1;
    } else if (n === '(') {
      throw new LexAbort({ ok: false, kind: 'error', message: msg.unsupported('command substitution and arithmetic ($(…)) are') });
    } else if (n !== undefined && NAME_START.test(n)) {
      let j = this.i + 1;
      while (j < s.length && NAME_CHAR.test(s[j] as string)) j++;
      this.param(s.slice(this.i + 1, j), quoted);
      this.i = j;
    } else if (n !== undefined && (/[0-9]/.test(n) || SPECIAL_PARAMS.has(n))) {
      this.param(n, quoted);
      this.i += 2;
    } else {
      this.text('$', quoted);
      this.i++;
    }
  }

  private operator(): void {
    const s = this.s;
    const op = OPERATORS.find((o) => s.startsWith(o, this.i)) as Operator;
    let fd: number | null = null;
    if ((op.startsWith('<') || op.startsWith('>')) && this.inWord && this.parts.length === 1) {
      const only = this.parts[0];
      // XCU 2.10.1: a token of digits only, delimited by `<` or `>`, is an IO_NUMBER.
      if (only && only.kind === 'text' && !only.quoted && /^[0-9]+$/.test(only.text)) {
        fd = Number(only.text);
        this.parts = [];
        this.inWord = false;
      }
    }
    this.endWord();
    this.tokens.push({ kind: 'op', op, fd });
    this.i += op.length;
  }
}

/** How the parser names a token in `syntax error: unexpected …` (ash's tokname). */
export function tokenName(t: Token | undefined): string {
  if (t === undefined) return 'end of file';
  if (t.kind === 'newline') return 'newline';
  if (t.kind === 'op') return `"${t.op}"`;
  return `"${t.word.raw}"`;
}
