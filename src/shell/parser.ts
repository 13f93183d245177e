// The command grammar on top of lexer.ts (a subset of POSIX XCU 2.9/2.10):
//
//   program   = linebreak [ and_or { separator and_or } [ separator ] ]
//   separator = ( ";" | NEWLINE ) linebreak
//   and_or    = pipeline { ( "&&" | "||" ) linebreak pipeline }
//   pipeline  = command { "|" linebreak command }
//   command   = { ASSIGNMENT } { WORD | redirect }            (at least one item)
//   redirect  = [IO_NUMBER] ( ">" | ">>" | ">|" | "<" | ">&" | "<&" ) WORD
//
// Refused: background `&`, subshells `( … )`, here-documents `<<`, `<>`, and the
// compound-command keywords (`if`, `for`, `while`, …), each with a message saying so; misplaced
// operators are syntax errors worded as BusyBox ash does (`syntax error: unexpected ";"`).

import { isName, tokenize, tokenName, type LexResult, type Operator, type Token, type Word } from './lexer.ts';
import { msg } from './messages.ts';

export type RedirectOp = '>' | '>>' | '>|' | '<' | '>&' | '<&';

export interface Redirect {
  /** The file descriptor redirected (default 1 for output, 0 for input). */
  readonly fd: number;
  readonly op: RedirectOp;
  readonly target: Word;
}

export interface Assignment {
  readonly name: string;
  /** The value, as the word after `NAME=` (parts of the original word). */
  readonly value: Word;
}

export interface SimpleCommand {
  readonly assignments: readonly Assignment[];
  readonly words: readonly Word[];
  readonly redirects: readonly Redirect[];
}

/** `cat /proc/kallsyms | grep vfs_read`: one command, or several joined by pipes. */
export interface Pipeline {
  readonly commands: readonly SimpleCommand[];
}

export interface AndOr {
  readonly first: Pipeline;
  readonly rest: readonly { readonly op: '&&' | '||'; readonly pipeline: Pipeline }[];
}

export type ParseResult =
  | { readonly ok: true; readonly list: readonly AndOr[] }
  | { readonly ok: false; readonly kind: 'incomplete'; readonly reason: 'quote' | 'backslash' | 'operator' }
  | { readonly ok: false; readonly kind: 'error'; readonly message: string };

/** Words that start compound commands in sh; the kprobesim shell has none of them. */
const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', 'in', '{', '}', '!', 'function', 'select']);

class ParseAbort {
  constructor(readonly result: Exclude<ParseResult, { ok: true }>) {}
}

/** Tokenize and parse one chunk of input (one or more complete commands). Never throws. */
export function parse(input: string): ParseResult {
  const lexed: LexResult = tokenize(input);
  if (!lexed.ok) return lexed;
  try {
    return { ok: true, list: new Parser(lexed.tokens).program() };
  } catch (e) {
    if (e instanceof ParseAbort) return e.result;
    throw e;
  }
}

function syntax(t: Token | undefined): never {
  throw new ParseAbort({ ok: false, kind: 'error', message: msg.syntax(`unexpected ${tokenName(t)}`) });
}

function unsupported(what: string): never {
  throw new ParseAbort({ ok: false, kind: 'error', message: msg.unsupported(what) });
}

function refuseOperator(op: Operator, atCommandStart: boolean): never {
  if (op === '&') unsupported('background jobs (&) are');
  if (op === '<<' || op === '<<-') unsupported('here-documents (<<) are');
  if (op === '<>') unsupported('the <> redirection is');
  if (op === '(' && atCommandStart) unsupported('subshells ( … ) are');
  syntax({ kind: 'op', op, fd: null });
}

class Parser {
  private pos = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private linebreak(): void {
    while (this.peek()?.kind === 'newline') this.pos++;
  }

  program(): AndOr[] {
    const list: AndOr[] = [];
    this.linebreak();
    while (this.peek() !== undefined) {
      list.push(this.andOr());
      const t = this.peek();
      if (t === undefined) break;
      if (t.kind === 'newline' || (t.kind === 'op' && t.op === ';')) {
        this.pos++;
        this.linebreak();
        continue;
      }
      if (t.kind === 'op') refuseOperator(t.op, false);
      syntax(t);
    }
    return list;
  }

  private andOr(): AndOr {
    const first = this.pipeline();
    const rest: { op: '&&' | '||'; pipeline: Pipeline }[] = [];
    for (;;) {
      const t = this.peek();
      if (!(t && t.kind === 'op' && (t.op === '&&' || t.op === '||'))) break;
      this.pos++;
      this.linebreak();
      if (this.peek() === undefined) throw new ParseAbort({ ok: false, kind: 'incomplete', reason: 'operator' });
      rest.push({ op: t.op, pipeline: this.pipeline() });
    }
    return { first, rest };
  }

  private pipeline(): Pipeline {
    const commands = [this.command()];
    for (;;) {
      const t = this.peek();
      if (!(t && t.kind === 'op' && t.op === '|')) break;
      this.pos++;
      // As after `&&`: a pipe at the end of a line continues the command on the next one.
      this.linebreak();
      if (this.peek() === undefined) throw new ParseAbort({ ok: false, kind: 'incomplete', reason: 'operator' });
      commands.push(this.command());
    }
    return { commands };
  }

  private command(): SimpleCommand {
    const assignments: Assignment[] = [];
    const words: Word[] = [];
    const redirects: Redirect[] = [];
    for (;;) {
      const t = this.peek();
      if (t === undefined || t.kind === 'newline') break;
      if (t.kind === 'word') {
        this.pos++;
        if (words.length === 0) {
          const a = asAssignment(t.word);
          if (a) {
            assignments.push(a);
            continue;
          }
          if (isReserved(t.word)) unsupported(`shell keywords ("${t.word.raw}") are`);
        }
        words.push(t.word);
        continue;
      }
      // An operator.
      if (t.op === '>' || t.op === '>>' || t.op === '>|' || t.op === '<' || t.op === '>&' || t.op === '<&') {
        this.pos++;
        const target = this.peek();
        // `echo >` at the end of the line: ash reports the newline that ends it.
        if (target === undefined || target.kind !== 'word') syntax(target ?? { kind: 'newline' });
        this.pos++;
        redirects.push({ fd: t.fd ?? (t.op === '<' || t.op === '<&' ? 0 : 1), op: t.op, target: target.word });
        continue;
      }
      if (t.op === ';' || t.op === '&&' || t.op === '||' || t.op === '|') break;
      refuseOperator(t.op, assignments.length === 0 && words.length === 0 && redirects.length === 0);
    }
    if (assignments.length === 0 && words.length === 0 && redirects.length === 0) syntax(this.peek());
    return { assignments, words, redirects };
  }
}

function isReserved(w: Word): boolean {
  const p = w.parts[0];
  return w.parts.length === 1 && p !== undefined && p.kind === 'text' && !p.quoted && RESERVED.has(p.text);
}

/** `NAME=value` as the first word(s) of a command (XCU 2.10.2 rule 7). */
function asAssignment(w: Word): Assignment | null {
  const first = w.parts[0];
  if (!first || first.kind !== 'text' || first.quoted) return null;
  const eq = first.text.indexOf('=');
  if (eq <= 0 || !isName(first.text.slice(0, eq))) return null;
  const restText = first.text.slice(eq + 1);
  const parts = [...(restText !== '' ? [{ kind: 'text' as const, text: restText, quoted: false }] : []), ...w.parts.slice(1)];
  return { name: first.text.slice(0, eq), value: { parts, raw: w.raw.slice(eq + 1) } };
}
