// The C preprocessor (translation phase 4) as gcc's cpp does it for a kernel module: directives,
// object- and function-like macros with `#`, `##` and GNU's `, ## __VA_ARGS__`, conditional
// groups with `defined`, and `#include` of the kernel headers the model knows (never the host's
// files). Macro expansion follows Prosser's algorithm (hide sets). Every token keeps the span it
// was spelled at; a token that a kernel header's macro produced takes the span of the use in the
// user's text (as gcc reports a system header's macro at its expansion point), and a token of
// the user's own macro keeps its spelling and remembers the invocation (`from`, `macro`).

import type { Diagnostic } from './diagnostics.ts';
import { lex, type Token } from './lexer.ts';
import { evalIfExpression } from './preprocess-expr.ts';
import { lineCol, sourceFile, type SourceFile, type Span } from './source.ts';

/** What a kernel-config option is set to (`y`, `m`, or a value such as 64 or "str"). */
export type ConfigValue = 'y' | 'm' | number | string;

export interface PreprocessOptions {
  /** The kernel headers the model has: `linux/kprobes.h` → its text; undefined: no such header. */
  readonly header: (name: string) => string | undefined;
  /** The configuration (CONFIG_X → value) behind IS_ENABLED() and friends. */
  readonly config: ReadonlyMap<string, ConfigValue>;
  /** Macros defined before the first line (the compiler's and kbuild's -D options), as `#define` lines. */
  readonly predefines: string;
  /** Whether plain char is signed (for character constants in #if). */
  readonly charSigned?: boolean;
}

export interface PreprocessResult {
  /** The expanded tokens, ending with `eof`. */
  readonly tokens: Token[];
  readonly diagnostics: Diagnostic[];
  /** A fatal error stopped it (a missing header). */
  readonly fatal: boolean;
}

interface Macro {
  readonly name: string;
  /** Parameter names of a function-like macro (`__VA_ARGS__` last when variadic). */
  readonly params?: readonly string[];
  readonly variadic?: boolean;
  readonly body: readonly Token[];
  /** Defined in a kernel header or on the command line: its expansion points at the use. */
  readonly system: boolean;
  readonly def?: Span;
}

interface Cond {
  /** The directive that opened it, for "unterminated #ifdef". */
  readonly tok: Token;
  /** Some group of it was taken. */
  taken: boolean;
  /** An #else was seen. */
  sawElse: boolean;
}

interface Frame {
  readonly toks: readonly Token[];
  pos: number;
  /** A file's tokens (directives are read here), or a macro's expansion. */
  readonly file?: SourceFile;
  readonly conds?: Cond[];
}

class Fatal extends Error {}

const isPunct = (t: Token | undefined, p: string): boolean => t !== undefined && t.kind === 'punct' && t.text === p;

const NATIVE = new Set(['__LINE__', '__FILE__', '__COUNTER__', '__INCLUDE_LEVEL__', '__DATE__', '__TIME__', '__TIMESTAMP__', '__BASE_FILE__']);
const CONFIG_TESTS = new Set(['IS_ENABLED', 'IS_BUILTIN', 'IS_MODULE', 'IS_REACHABLE']);

/** A token made by the preprocessor itself, spelled at `at`. */
function made(kind: Token['kind'], text: string, at: Token): Token {
  return { kind, text, span: at.span, bol: false, space: at.space, ...(at.from ? { from: at.from } : {}), ...(at.macro ? { macro: at.macro } : {}) };
}

function quoteString(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** C11 6.10.3.2: the spelling of an argument as a string literal. */
function stringize(arg: readonly Token[], at: Token): Token {
  let s = '';
  arg.forEach((t, i) => {
    if (i > 0 && t.space) s += ' ';
    s += t.kind === 'string' || t.kind === 'char' ? t.text.replace(/\\/g, '\\\\').replace(/"/g, '\\"') : t.text;
  });
  return made('string', `"${s}"`, at);
}

export function preprocess(file: SourceFile, options: PreprocessOptions): PreprocessResult {
  return new Preprocessor(options).run(file);
}

class Preprocessor {
  private readonly macros = new Map<string, Macro>();
  private readonly diags: Diagnostic[] = [];
  private frames: Frame[] = [];
  private counter = 0;
  private readonly included = new Set<string>();
  private mainFile: SourceFile | undefined;
  private depth = 0;

  constructor(private readonly options: PreprocessOptions) {}

  run(file: SourceFile): PreprocessResult {
    this.mainFile = file;
    const out: Token[] = [];
    let fatal = false;
    try {
      // The command line's -D options: processed as a file of #define lines.
      this.pushFile(sourceFile('<command-line>', this.options.predefines, true));
      for (let t = this.next(); t.kind !== 'eof'; t = this.next()) out.push(t);
      this.pushFile(file);
      for (let t = this.next(); t.kind !== 'eof'; t = this.next()) out.push(t);
    } catch (e) {
      if (!(e instanceof Fatal)) throw e;
      fatal = true;
    }
    const eofSpan: Span = { file, start: file.text.length, end: file.text.length };
    out.push({ kind: 'eof', text: '', span: eofSpan, bol: true, space: false });
    return { tokens: out, diagnostics: this.diags, fatal };
  }

  private error(message: string, span: Span, extra: Partial<Diagnostic> = {}): void {
    this.diags.push({ severity: 'error', message, span, ...extra });
  }

  private pushFile(file: SourceFile): void {
    const { tokens, diagnostics } = lex(file);
    this.diags.push(...diagnostics);
    this.frames.push({ toks: tokens, pos: 0, file, conds: [] });
  }

  // ---- reading tokens: directives are handled here, at the start of a file's line ----

  /** The next token before macro expansion; pops finished frames; `eof` when the file ends. */
  private raw(): Token {
    for (;;) {
      const f = this.frames[this.frames.length - 1];
      if (!f) return { kind: 'eof', text: '', span: { file: this.mainFile!, start: this.mainFile!.text.length, end: this.mainFile!.text.length }, bol: true, space: false };
      const t = f.toks[f.pos];
      if (t === undefined || (f.file && t.kind === 'eof')) {
        this.frames.pop();
        if (!f.file) continue;
        for (const c of f.conds!) this.error(`unterminated #${c.tok.text}`, c.tok.span);
        // The end of a top-level file (the command line, the module) ends this reading;
        // the end of a header goes back to the file that included it.
        if (this.frames.length === 0) return t ?? { kind: 'eof', text: '', span: { file: f.file, start: f.file.text.length, end: f.file.text.length }, bol: true, space: false };
        this.depth--;
        continue;
      }
      f.pos++;
      if (f.file && t.bol && isPunct(t, '#')) {
        this.directive(f, t);
        continue;
      }
      return t;
    }
  }

  private unread(toks: readonly Token[]): void {
    if (toks.length > 0) this.frames.push({ toks, pos: 0 });
  }

  /** The rest of the directive's line. */
  private line(f: Frame): Token[] {
    const out: Token[] = [];
    while (f.pos < f.toks.length) {
      const t = f.toks[f.pos]!;
      if (t.bol || t.kind === 'eof') break;
      out.push(t);
      f.pos++;
    }
    return out;
  }

  private directive(f: Frame, hash: Token): void {
    const name = f.toks[f.pos];
    if (!name || name.bol || name.kind === 'eof') return; // the null directive
    f.pos++;
    const rest = this.line(f);
    switch (name.text) {
      case 'define':
        return this.define(rest, name, f.file!.system);
      case 'undef':
        if (rest[0]?.kind !== 'ident') return this.error('no macro name given in #undef directive', name.span);
        this.macros.delete(rest[0].text);
        return;
      case 'include':
        return this.include(rest, name, hash);
      case 'if':
      case 'ifdef':
      case 'ifndef': {
        const take = this.condition(name, rest);
        f.conds!.push({ tok: name, taken: take, sawElse: false });
        if (!take) this.skip(f);
        return;
      }
      case 'elif':
      case 'else':
      case 'endif':
        return this.endOfTakenGroup(f, name);
      case 'error':
      case 'warning': {
        const text = rest.length === 0 ? '' : ' ' + this.spell(rest);
        this.diags.push({
          severity: name.text === 'error' ? 'error' : 'warning',
          message: `#${name.text}${text}`,
          span: name.span,
          ...(name.text === 'warning' ? { option: 'cpp' } : {}),
        });
        return;
      }
      case 'pragma':
      case 'line':
      case 'ident':
        return;
      default:
        if (name.kind === 'number') return; // `# 33 "file"` line markers
        this.error(`invalid preprocessing directive #${name.text}`, name.span);
    }
  }

  /** The original spelling of a run of tokens (for #error). */
  private spell(toks: readonly Token[]): string {
    const first = toks[0]!.span;
    const last = toks[toks.length - 1]!.span;
    if (first.file === last.file) return first.file.text.slice(first.start, last.end).replace(/\\\r?\n/g, '');
    return toks.map((t) => t.text).join(' ');
  }

  private condition(name: Token, rest: Token[]): boolean {
    if (name.text === 'ifdef' || name.text === 'ifndef') {
      const id = rest[0];
      if (!id) {
        this.error(`no macro name given in #${name.text} directive`, name.span);
        return false;
      }
      if (id.kind !== 'ident') {
        this.error('macro names must be identifiers', id.span);
        return false;
      }
      if (rest.length > 1) {
        this.diags.push({ severity: 'warning', message: `extra tokens at end of #${name.text} directive`, span: rest[1]!.span });
      }
      const d = this.isDefined(id.text);
      return name.text === 'ifdef' ? d : !d;
    }
    // `defined X` / `defined(X)` first, then expansion; whatever identifiers remain are 0.
    const replaced: Token[] = [];
    for (let i = 0; i < rest.length; i++) {
      const t = rest[i]!;
      if (t.kind === 'ident' && t.text === 'defined') {
        let j = i + 1;
        const paren = isPunct(rest[j], '(');
        if (paren) j++;
        const id = rest[j];
        if (!id || id.kind !== 'ident') {
          this.error(`operator "defined" requires an identifier`, (id ?? t).span);
          return false;
        }
        if (paren && !isPunct(rest[j + 1], ')')) {
          this.error(`missing ')' after "defined"`, (rest[j + 1] ?? id).span);
          return false;
        }
        replaced.push(made('number', this.isDefined(id.text) ? '1' : '0', t));
        i = paren ? j + 1 : j;
        continue;
      }
      replaced.push(t);
    }
    const expanded = this.expandList(replaced);
    return evalIfExpression(expanded, name, this.diags);
  }

  private isDefined(name: string): boolean {
    return this.macros.has(name) || NATIVE.has(name) || CONFIG_TESTS.has(name) || name === 'defined';
  }

  /** Skips a group whose condition is false, up to the #elif/#else/#endif that ends it. */
  private skip(f: Frame): void {
    let depth = 0;
    while (f.pos < f.toks.length) {
      const t = f.toks[f.pos]!;
      if (t.kind === 'eof') return;
      f.pos++;
      if (!(t.bol && isPunct(t, '#'))) continue;
      const name = f.toks[f.pos];
      if (!name || name.bol) continue;
      f.pos++;
      const rest = this.line(f);
      const d = name.text;
      if (d === 'if' || d === 'ifdef' || d === 'ifndef') depth++;
      else if (d === 'endif') {
        if (depth === 0) {
          f.conds!.pop();
          return;
        }
        depth--;
      } else if (depth === 0 && (d === 'elif' || d === 'else')) {
        const c = f.conds![f.conds!.length - 1]!;
        if (c.sawElse) {
          this.error(`#${d} after #else`, name.span);
          continue;
        }
        if (d === 'else') {
          c.sawElse = true;
          if (!c.taken) {
            c.taken = true;
            return;
          }
        } else if (!c.taken && this.condition(name, rest)) {
          c.taken = true;
          return;
        }
      }
    }
  }

  /** #elif/#else/#endif met while in a taken group: skip to the end of the conditional. */
  private endOfTakenGroup(f: Frame, name: Token): void {
    const c = f.conds![f.conds!.length - 1];
    if (!c) return this.error(`#${name.text} without #if`, name.span);
    if (name.text === 'endif') {
      f.conds!.pop();
      return;
    }
    if (c.sawElse) return this.error(`#${name.text} after #else`, name.span);
    if (name.text === 'else') c.sawElse = true;
    c.taken = true;
    this.skip(f);
  }

  private define(rest: Token[], at: Token, system: boolean): void {
    const id = rest[0];
    if (!id) return this.error('no macro name given in #define directive', at.span);
    if (id.kind !== 'ident') return this.error('macro names must be identifiers', id.span);
    if (id.text === 'defined') return this.error(`"defined" cannot be used as a macro name`, id.span);
    let body: Token[];
    let params: string[] | undefined;
    let variadic = false;
    const open = rest[1];
    if (isPunct(open, '(') && !open!.space) {
      params = [];
      let i = 2;
      for (;;) {
        const t = rest[i];
        if (isPunct(t, ')') && params.length === 0) {
          i++;
          break;
        }
        if (isPunct(t, '...')) {
          variadic = true;
          params.push('__VA_ARGS__');
          if (!isPunct(rest[i + 1], ')')) return this.error(`missing ')' in macro parameter list`, (rest[i + 1] ?? t!).span);
          i += 2;
          break;
        }
        if (!t || t.kind !== 'ident') {
          return this.error(t ? `expected parameter name, found "${t.text}"` : `expected parameter name before end of line`, (t ?? id).span);
        }
        params.push(t.text);
        const sep = rest[i + 1];
        if (isPunct(sep, '...')) {
          // GNU named variadic parameter: `args...`
          variadic = true;
          if (!isPunct(rest[i + 2], ')')) return this.error(`missing ')' in macro parameter list`, (rest[i + 2] ?? sep!).span);
          i += 3;
          break;
        }
        if (isPunct(sep, ')')) {
          i += 2;
          break;
        }
        if (!isPunct(sep, ',')) {
          return this.error(sep ? `expected ',' or ')', found "${sep.text}"` : `expected ',' or ')' before end of line`, (sep ?? t).span);
        }
        i += 2;
      }
      body = rest.slice(i);
    } else {
      if (open && !open.space && !isPunct(open, '(')) {
        this.diags.push({ severity: 'warning', message: `missing whitespace after the macro name`, span: open.span });
      }
      body = rest.slice(1);
    }
    if (params) {
      for (let i = 0; i < body.length; i++) {
        const t = body[i]!;
        if (isPunct(t, '#') && !(body[i + 1]?.kind === 'ident' && params.includes(body[i + 1]!.text))) {
          return this.error(`'#' is not followed by a macro parameter`, t.span);
        }
      }
    }
    if (isPunct(body[0], '##') || isPunct(body[body.length - 1], '##')) {
      const t = isPunct(body[0], '##') ? body[0]! : body[body.length - 1]!;
      return this.error(`'##' cannot appear at either end of a macro expansion`, t.span);
    }
    const macro: Macro = { name: id.text, body, system, def: id.span, ...(params ? { params, variadic } : {}) };
    const old = this.macros.get(id.text);
    if (old && !sameMacro(old, macro)) {
      this.diags.push({
        severity: 'warning',
        message: `"${id.text}" redefined`,
        span: id.span,
        ...(old.def && !old.def.file.system ? { notes: [{ severity: 'note', message: 'this is the location of the previous definition', span: old.def }] } : {}),
      });
    }
    this.macros.set(id.text, macro);
  }

  private include(rest: Token[], name: Token, hash: Token): void {
    void hash;
    const first = rest[0];
    let header: string | undefined;
    let span: Span | undefined;
    if (first?.kind === 'string') {
      header = first.text.slice(1, -1);
      span = first.span;
    } else if (isPunct(first, '<')) {
      const close = rest.findIndex((t) => isPunct(t, '>'));
      if (close > 0) {
        const last = rest[close]!;
        header = first!.span.file.text.slice(first!.span.start + 1, last.span.start);
        span = { file: first!.span.file, start: first!.span.start, end: last.span.end };
      }
    }
    if (header === undefined || span === undefined) {
      if (first === undefined) return this.error('#include expects "FILENAME" or <FILENAME>', name.span);
      this.error('#include expects "FILENAME" or <FILENAME>', first.span);
      return;
    }
    const text = this.options.header(header);
    if (text === undefined) {
      this.diags.push({ severity: 'fatal error', message: `${header}: No such file or directory`, span });
      throw new Fatal();
    }
    if (this.included.has(header)) return;
    this.included.add(header);
    if (this.depth > 40) return this.error('#include nested too deeply', name.span);
    this.depth++;
    this.pushFile(sourceFile(`./include/${header}`, text, true));
  }

  // ---- macro expansion ----

  /** The next fully expanded token. */
  private next(): Token {
    for (;;) {
      const t = this.raw();
      if (t.kind !== 'ident') return t;
      const r = this.expand(t, () => this.raw(), (toks) => this.unread(toks));
      if (r === undefined) return t;
    }
  }

  /** Expands `toks` completely on their own (a macro argument, an #if line). */
  private expandList(toks: readonly Token[]): Token[] {
    const saved = this.frames;
    const end: Token = { kind: 'eof', text: '', span: toks[0]?.span ?? { file: this.mainFile!, start: 0, end: 0 }, bol: false, space: false };
    this.frames = [{ toks: [...toks, end], pos: 0 }];
    const out: Token[] = [];
    try {
      for (;;) {
        const f = this.frames[this.frames.length - 1];
        if (!f) break;
        const t = f.toks[f.pos];
        if (t === undefined) {
          this.frames.pop();
          continue;
        }
        f.pos++;
        if (t === end) break;
        if (t.kind === 'ident') {
          const read = (): Token => {
            for (;;) {
              const g = this.frames[this.frames.length - 1];
              if (!g) return end;
              const u = g.toks[g.pos];
              if (u === undefined) {
                this.frames.pop();
                continue;
              }
              if (u === end) return end; // never read past the list's end
              g.pos++;
              return u;
            }
          };
          if (this.expand(t, read, (r) => this.unread(r)) !== undefined) continue;
        }
        out.push(t);
      }
    } finally {
      this.frames = saved;
    }
    return out;
  }

  /**
   * If `t` names a macro to expand here, reads its arguments, pushes the expansion back onto the
   * input and returns true; undefined when `t` is an ordinary identifier.
   */
  private expand(t: Token, read: () => Token, unread: (toks: readonly Token[]) => void): true | undefined {
    const name = t.text;
    if (t.hide?.has(name)) return undefined;
    if (NATIVE.has(name)) {
      unread([this.native(t)]);
      return true;
    }
    const m = this.macros.get(name);
    if (!m && !CONFIG_TESTS.has(name)) return undefined;
    if (m && !m.params) {
      unread(this.substitute(m, t, [], t.hide));
      return true;
    }
    // Function-like: only when followed by `(`.
    const after = read();
    if (!isPunct(after, '(')) {
      if (after.kind !== 'eof' || this.frames.length > 0) unread([after]);
      return undefined;
    }
    const args = this.readArgs(t, read);
    if (!args) return true;
    const { list, close } = args;
    if (!m) {
      unread([this.configTest(t, list)]);
      return true;
    }
    const want = m.params!.length;
    let given = list.length;
    if (given === 1 && list[0]!.length === 0 && want === 0) given = 0;
    if (m.variadic && given === want - 1) {
      list.push([]);
      given = want;
    }
    if (given !== want && !(m.variadic && given > want)) {
      const msg =
        given < want
          ? `macro "${name}" requires ${want} arguments, but only ${given} given`
          : `macro "${name}" passed ${given} arguments, but takes just ${want}`;
      this.error(msg, close.span, m.def && !m.system ? { notes: [{ severity: 'note', message: 'macro "' + name + '" defined here', span: m.def }] } : {});
      return true;
    }
    if (m.variadic && list.length > want) {
      // Everything from the variadic parameter on is __VA_ARGS__, commas included.
      const va: Token[] = [];
      list.slice(want - 1).forEach((a, i) => {
        if (i > 0) va.push(args.commas[want - 2 + i]!);
        va.push(...a);
      });
      list.length = want - 1;
      list.push(va);
    }
    const hide = intersect(t.hide, close.hide);
    unread(this.substitute(m, t, list, hide));
    return true;
  }

  private readArgs(
    t: Token,
    read: () => Token,
  ): { list: Token[][]; close: Token; commas: Token[] } | undefined {
    const list: Token[][] = [[]];
    const commas: Token[] = [];
    let depth = 0;
    for (;;) {
      const a = read();
      if (a.kind === 'eof') {
        this.error(`unterminated argument list invoking macro "${t.text}"`, t.span);
        return undefined;
      }
      if (isPunct(a, '(')) depth++;
      else if (isPunct(a, ')')) {
        if (depth === 0) return { list, close: a, commas };
        depth--;
      } else if (isPunct(a, ',') && depth === 0) {
        list.push([]);
        commas.push(a);
        continue;
      }
      list[list.length - 1]!.push(a);
    }
  }

  /** IS_ENABLED(CONFIG_X) and friends, over the kernel's configuration (include/linux/kconfig.h). */
  private configTest(t: Token, args: Token[][]): Token {
    const arg = args[0] ?? [];
    const opt = arg.length === 1 && arg[0]!.kind === 'ident' ? arg[0]!.text : undefined;
    const v = opt === undefined ? undefined : this.options.config.get(opt);
    const on =
      t.text === 'IS_BUILTIN'
        ? v === 'y'
        : t.text === 'IS_MODULE'
          ? v === 'm'
          : v === 'y' || v === 'm'; // IS_ENABLED; IS_REACHABLE from a module: built-in or a module
    return made('number', on ? '1' : '0', t);
  }

  private native(t: Token): Token {
    const at = t.from ?? t.span;
    switch (t.text) {
      case '__LINE__':
        return made('number', String(lineCol(at.file, at.start).line), t);
      case '__FILE__':
      case '__BASE_FILE__':
        return made('string', quoteString(this.mainFile!.name), t);
      case '__COUNTER__':
        return made('number', String(this.counter++), t);
      case '__INCLUDE_LEVEL__':
        return made('number', String(this.depth), t);
      case '__DATE__':
        return made('string', '"Jan  1 1970"', t); // reproducible builds: SOURCE_DATE_EPOCH=0
      case '__TIME__':
        return made('string', '"00:00:00"', t);
      default:
        return made('string', '"Thu Jan  1 00:00:00 1970"', t);
    }
  }

  /** The macro's replacement list with its arguments substituted and `##` applied (C11 6.10.3.1-3). */
  private substitute(m: Macro, inv: Token, args: Token[][], hide: ReadonlySet<string> | undefined): Token[] {
    const params = m.params ?? [];
    const param = (tok: Token | undefined): number => (tok?.kind === 'ident' ? params.indexOf(tok.text) : -1);
    const expanded = new Map<number, Token[]>();
    const argExpanded = (p: number): Token[] => {
      let e = expanded.get(p);
      if (!e) {
        e = this.expandList(args[p]!);
        expanded.set(p, e);
      }
      return e;
    };
    const from = inv.from ?? inv.span;
    const body = m.body.map((b): Token => {
      const own = m.system ? { span: inv.span } : { span: b.span, macro: m.name };
      return { ...b, ...own, from, bol: false };
    });
    const res: Token[] = [];
    for (let i = 0; i < body.length; ) {
      const t = body[i]!;
      if (m.params && isPunct(t, '#') && param(body[i + 1]) >= 0) {
        res.push(stringize(args[param(body[i + 1])]!, t));
        i += 2;
        continue;
      }
      // GNU: `, ## __VA_ARGS__` drops the comma when there are no variable arguments.
      if (m.variadic && isPunct(t, ',') && isPunct(body[i + 1], '##') && param(body[i + 2]) === params.length - 1) {
        const va = args[params.length - 1]!;
        if (va.length > 0) res.push(t, ...va);
        i += 3;
        continue;
      }
      if (isPunct(t, '##')) {
        const rhs = body[i + 1]!;
        const p = param(rhs);
        const rtoks = p >= 0 ? args[p]! : [rhs];
        if (rtoks.length > 0) {
          const lhs = res.pop();
          if (lhs === undefined) res.push(...rtoks);
          else res.push(this.paste(lhs, rtoks[0]!), ...rtoks.slice(1));
        }
        i += 2;
        continue;
      }
      const p = param(t);
      if (p >= 0) {
        const nextIsPaste = isPunct(body[i + 1], '##');
        const toks = nextIsPaste ? args[p]! : argExpanded(p);
        res.push(...toks.map((a, k) => (k === 0 ? { ...a, space: t.space } : a)));
        i++;
        continue;
      }
      res.push(t);
      i++;
    }
    const hs = new Set(hide ?? []);
    hs.add(m.name);
    return res.map((r, k) => ({ ...r, hide: union(r.hide, hs), bol: false, ...(k === 0 ? { space: inv.space } : {}) }));
  }

  private paste(a: Token, b: Token): Token {
    const text = a.text + b.text;
    const { tokens } = lex(sourceFile('<paste>', text, true));
    if (tokens.length !== 2) {
      this.error(`pasting "${a.text}" and "${b.text}" does not give a valid preprocessing token`, a.span);
      return a;
    }
    return { ...a, kind: tokens[0]!.kind, text };
  }
}

function sameMacro(a: Macro, b: Macro): boolean {
  if ((a.params ?? null)?.join(',') !== (b.params ?? null)?.join(',')) return false;
  if (a.body.length !== b.body.length) return false;
  return a.body.every((t, i) => t.text === b.body[i]!.text && (i === 0 || t.space === b.body[i]!.space));
}

function union(a: ReadonlySet<string> | undefined, b: ReadonlySet<string>): ReadonlySet<string> {
  if (!a || a.size === 0) return b;
  const s = new Set(a);
  for (const x of b) s.add(x);
  return s;
}

function intersect(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): ReadonlySet<string> | undefined {
  if (!a || !b) return undefined;
  const s = new Set<string>();
  for (const x of a) if (b.has(x)) s.add(x);
  return s;
}
