// A recursive-descent parser for the C that kernel modules are written in (C11 with the GNU
// extensions the kernel's headers and modules use: attributes, statement expressions,
// `typeof`, `, ## __VA_ARGS__` having been handled by the preprocessor, case ranges,
// designated initializers). It keeps the names declared as typedefs in scope (C's "lexer
// hack"), so `(u32)*p` is a cast and `a * b;` is a declaration only when `a` names a type.
// Syntax errors are gcc's messages at gcc's places; the first one ends the parse (gcc goes on
// recovering, which a module author rarely needs), and what was parsed before it is returned
// so that the checker can still report what gcc would have said about it.

import type {
  Attribute, Block, DeclSpec, Declaration, Declarator, Derived, Designator, Expr, ExternalDecl, FunctionDef,
  Initializer, InitDeclarator, MemberDecl, ParamDecl, Stmt, TypeName, TypeSpec,
} from './ast.ts';
import type { Diagnostic } from './diagnostics.ts';
import type { Token } from './lexer.ts';
import type { Span } from './source.ts';

export interface ParseResult {
  readonly decls: ExternalDecl[];
  readonly diagnostics: Diagnostic[];
}

class ParseError extends Error {
  constructor(readonly diag: Diagnostic) {
    super(diag.message);
  }
}

const TYPE_WORDS = new Set(['void', 'char', 'short', 'int', 'long', 'float', 'double', 'signed', 'unsigned', '_Bool', '__signed__', '__signed', '__int128', '__unsigned']);
const QUALIFIERS = new Set(['const', 'volatile', 'restrict', '__restrict', '__restrict__', '__const', '__const__', '__volatile', '__volatile__', '_Atomic']);
const STORAGE = new Set(['static', 'extern', 'typedef', 'auto', 'register', '_Thread_local', '__thread']);
const ATTR_WORDS = new Set(['__attribute__', '__attribute']);
const ASM_WORDS = new Set(['asm', '__asm__', '__asm']);
const TYPEOF_WORDS = new Set(['typeof', '__typeof__', '__typeof']);
const KEYWORDS = new Set([
  ...TYPE_WORDS, ...QUALIFIERS, ...STORAGE, ...ATTR_WORDS, ...ASM_WORDS, ...TYPEOF_WORDS,
  'break', 'case', 'continue', 'default', 'do', 'else', 'enum', 'for', 'goto', 'if', 'inline', '__inline', '__inline__',
  'return', 'sizeof', 'struct', 'switch', 'union', 'while', '_Alignof', '__alignof__', '__alignof', '_Static_assert',
  '_Noreturn', '__extension__', '_Generic', '_Alignas', '__builtin_offsetof', '__builtin_va_arg', '_Complex', '__label__',
]);

const ASSIGN_OPS = new Set(['=', '*=', '/=', '%=', '+=', '-=', '<<=', '>>=', '&=', '^=', '|=']);
const BINARY_PREC: ReadonlyMap<string, number> = new Map([
  ['||', 1], ['&&', 2], ['|', 3], ['^', 4], ['&', 5], ['==', 6], ['!=', 6], ['<', 7], ['>', 7], ['<=', 7], ['>=', 7],
  ['<<', 8], ['>>', 8], ['+', 9], ['-', 9], ['*', 10], ['/', 10], ['%', 10],
]);

/** How gcc names a token in "expected X before ...". */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of input';
    case 'number':
      return 'numeric constant';
    case 'string':
      return 'string constant';
    case 'char':
      return 'character constant';
    case 'punct':
      return `'${t.text}' token`;
    default:
      return `'${t.text}'`;
  }
}

const before = (t: Token): string => (t.kind === 'eof' ? 'at end of input' : `before ${describeToken(t)}`);

export function parse(tokens: readonly Token[]): ParseResult {
  const p = new Parser(tokens);
  const decls: ExternalDecl[] = [];
  const diagnostics: Diagnostic[] = [];
  try {
    while (!p.atEof()) decls.push(p.externalDeclaration());
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    diagnostics.push(e.diag);
  }
  return { decls, diagnostics };
}

class Parser {
  private pos = 0;
  /** Names in scope, innermost last: true for a typedef name, false for anything else. */
  private readonly scopes: Array<Map<string, boolean>> = [new Map()];
  /** The function being parsed, for gcc's "In function" line. */
  private fn: string | null = null;
  private fnStart: Token | undefined;

  constructor(private readonly toks: readonly Token[]) {}

  // ---- tokens ----

  private peek(k = 0): Token {
    return this.toks[Math.min(this.pos + k, this.toks.length - 1)]!;
  }
  private get prev(): Token {
    return this.toks[Math.max(0, this.pos - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (this.pos < this.toks.length - 1) this.pos++;
    return t;
  }
  atEof(): boolean {
    return this.peek().kind === 'eof';
  }
  private is(text: string, k = 0): boolean {
    const t = this.peek(k);
    return (t.kind === 'punct' || t.kind === 'ident') && t.text === text;
  }
  private isPunct(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'punct' && t.text === text;
  }
  private accept(text: string): Token | undefined {
    return this.is(text) ? this.next() : undefined;
  }

  private fail(message: string, at: Token, extra: Partial<Diagnostic> = {}): never {
    if (at.kind === 'other' && /^["']/.test(at.text)) {
      // The lexer already reported the unterminated literal; gcc says the same again as an error.
      message = `missing terminating ${at.text[0]} character`;
    } else if (at.kind === 'other') {
      message = `stray '${at.text}' in program`;
    }
    throw new ParseError({ severity: 'error', message, span: at.span, fn: this.fn, ...extra });
  }

  /** "expected X before Y" at the next token. */
  private expected(what: string): never {
    const t = this.peek();
    if (t.kind === 'eof' && this.fnStart) {
      this.fail('expected declaration or statement at end of input', this.fnStart);
    }
    this.fail(`expected ${what} ${before(t)}`, t);
  }

  /**
   * Requires a closing token (`;`, `)`, `]`, `}`): when missing, gcc's message with the caret
   * just after the previous token, a fix-it inserting it, and the `(` it would match underlined.
   */
  private require(text: string, open?: Token): Token {
    const t = this.peek();
    if (t.kind === 'punct' && t.text === text) return this.next();
    if (t.kind === 'eof' && this.fnStart) this.fail('expected declaration or statement at end of input', this.fnStart);
    const prev = this.prev;
    const hint: Span = { file: prev.span.file, start: prev.span.end, end: prev.span.end };
    const ranges: Span[] = [];
    if (t.kind !== 'eof') ranges.push(t.span);
    let notes: Diagnostic[] | undefined;
    if (open) {
      if (near(open.span, hint)) ranges.push(open.span);
      else notes = [{ severity: 'note', message: `to match this '${open.text}'`, span: open.span }];
    }
    const sameFile = prev.span.file === t.span.file && !prev.span.file.system;
    throw new ParseError({
      severity: 'error',
      message: `expected '${text}' ${before(t)}`,
      span: sameFile ? hint : t.span,
      ...(sameFile ? { fixit: text, ranges } : {}),
      ...(notes ? { notes } : {}),
      fn: this.fn,
    });
  }

  // ---- scopes ----

  private isTypedefName(name: string): boolean {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const v = this.scopes[i]!.get(name);
      if (v !== undefined) return v;
    }
    return false;
  }
  private declare(name: string, isTypedef: boolean): void {
    this.scopes[this.scopes.length - 1]!.set(name, isTypedef);
  }
  private push(): void {
    this.scopes.push(new Map());
  }
  private pop(): void {
    this.scopes.pop();
  }

  /** Whether the next tokens start a type name or declaration specifiers. */
  private startsType(k = 0): boolean {
    const t = this.peek(k);
    if (t.kind !== 'ident') return false;
    if (TYPE_WORDS.has(t.text) || QUALIFIERS.has(t.text) || TYPEOF_WORDS.has(t.text)) return true;
    if (t.text === 'struct' || t.text === 'union' || t.text === 'enum' || t.text === '_Alignas') return true;
    if (t.text === '__extension__') return this.startsType(k + 1);
    return this.isTypedefName(t.text);
  }
  private startsDeclaration(): boolean {
    const t = this.peek();
    if (t.kind !== 'ident') return false;
    if (STORAGE.has(t.text) || ATTR_WORDS.has(t.text) || t.text === 'inline' || t.text === '__inline' || t.text === '__inline__' || t.text === '_Noreturn' || t.text === '_Static_assert') return true;
    return this.startsType();
  }

  // ---- declarations ----

  externalDeclaration(): ExternalDecl {
    const t = this.peek();
    if (this.isPunct(';')) {
      this.next();
      return { kind: 'empty', at: t };
    }
    if (t.kind === 'ident' && ASM_WORDS.has(t.text)) this.fail('inline assembly is not supported', t);
    if (t.kind === 'ident' && t.text === '_Static_assert') return this.staticAssert();
    const startsHere = this.startsDeclaration();
    if (!startsHere) {
      if (t.kind === 'ident' && !KEYWORDS.has(t.text)) {
        // `foo bar;` with foo unknown, or `foo(x);` at file scope (implicit int, which the kernel's build rejects).
        if (this.peek(1).kind === 'ident' || this.isPunct('*', 1)) this.fail(`unknown type name '${t.text}'`, t);
        return this.declarationRest(this.implicitSpec(t), true);
      }
      this.expected(`identifier or '('`);
    }
    const spec = this.declSpecifiers();
    return this.declarationRest(spec, true);
  }

  private implicitSpec(at: Token): DeclSpec {
    return { inline: false, type: { kind: 'builtin', words: ['int'], at }, isConst: false, isVolatile: false, attrs: [], at, implicitInt: true };
  }

  private staticAssert(): Declaration {
    const at = this.next();
    const open = this.require('(');
    const cond = this.assignment();
    const args: Expr[] = [cond];
    if (this.accept(',')) args.push(this.primary());
    this.require(')', open);
    const semi = this.require(';');
    return {
      kind: 'decl',
      spec: { ...this.implicitSpec(at), attrs: [{ name: '_Static_assert', args, at }] },
      declarators: [],
      at,
      semi,
    };
  }

  /** After the specifiers: a function definition, or a declaration's init-declarator list. */
  private declarationRest(spec: DeclSpec, fileScope: boolean): Declaration | FunctionDef {
    if (this.isPunct(';')) {
      const semi = this.next();
      return { kind: 'decl', spec, declarators: [], at: spec.at, semi };
    }
    const declarators: InitDeclarator[] = [];
    for (;;) {
      const decl = this.declarator(false);
      const attrs = this.attributes();
      const d: Declarator = attrs.length > 0 ? { ...decl, attrs: [...decl.attrs, ...attrs] } : decl;
      if (d.name) this.declare(d.name.text, spec.storage === 'typedef');
      const fnDecl = d.derived[0]?.kind === 'function';
      if (fnDecl && declarators.length === 0 && this.isPunct('{')) {
        if (!fileScope) this.fail(`expected '=', ',', ';', 'asm' or '__attribute__' before '{' token`, this.peek());
        return this.functionDefinition(spec, d);
      }
      if (fnDecl && declarators.length === 0 && this.startsDeclaration() && fileScope) {
        this.fail('old-style parameter declarations are not supported', this.peek());
      }
      if (this.isPunct('=')) {
        const eq = this.next();
        const init = this.initializer();
        declarators.push({ decl: d, init, eq });
        if (this.accept(',')) continue;
        if (this.isPunct(';')) break;
        this.expected(`',' or ';'`);
      }
      declarators.push({ decl: d });
      if (this.accept(',')) continue;
      if (this.isPunct(';')) break;
      if (this.peek().kind === 'ident' && ASM_WORDS.has(this.peek().text)) this.fail('inline assembly is not supported', this.peek());
      this.expected(`'=', ',', ';', 'asm' or '__attribute__'`);
    }
    const semi = this.next();
    return { kind: 'decl', spec, declarators, at: spec.at, semi };
  }

  private functionDefinition(spec: DeclSpec, decl: Declarator): FunctionDef {
    const saved = this.fn;
    const savedStart = this.fnStart;
    this.fn = decl.name?.text ?? null;
    this.fnStart = spec.at;
    const fnType = decl.derived[0] as Extract<Derived, { kind: 'function' }>;
    this.push();
    for (const p of fnType.params) if (p.decl.name) this.declare(p.decl.name.text, false);
    this.declare('__func__', false);
    const body = this.block(false);
    this.pop();
    this.fn = saved;
    this.fnStart = savedStart;
    return { kind: 'function', spec, decl, body, at: spec.at };
  }

  /** `__attribute__((...))` lists, possibly several. */
  private attributes(): Attribute[] {
    const out: Attribute[] = [];
    while (this.peek().kind === 'ident' && ATTR_WORDS.has(this.peek().text)) {
      this.next();
      const o1 = this.require('(');
      const o2 = this.require('(');
      while (!this.isPunct(')')) {
        const at = this.peek();
        if (at.kind !== 'ident') this.expected('identifier');
        this.next();
        const name = at.text.replace(/^__(.*)__$/, '$1');
        const args: Expr[] = [];
        if (this.isPunct('(')) {
          const open = this.next();
          if (!this.isPunct(')')) {
            args.push(this.assignment());
            while (this.accept(',')) args.push(this.assignment());
          }
          this.require(')', open);
        }
        out.push({ name, args, at });
        if (!this.accept(',')) break;
      }
      this.require(')', o2);
      this.require(')', o1);
    }
    return out;
  }

  private declSpecifiers(): DeclSpec {
    const at = this.peek();
    let storage: DeclSpec['storage'];
    let inline = false;
    let isConst = false;
    let isVolatile = false;
    const attrs: Attribute[] = [];
    const words: string[] = [];
    let wordsAt: Token | undefined;
    let type: TypeSpec | undefined;
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'ident') break;
      const w = t.text;
      if (STORAGE.has(w)) {
        this.next();
        if (storage !== undefined) this.fail('multiple storage classes in declaration specifiers', t);
        if (w === '_Thread_local' || w === '__thread') this.fail('thread-local storage is not supported', t);
        storage = w as DeclSpec['storage'];
      } else if (QUALIFIERS.has(w)) {
        this.next();
        if (w.includes('const')) isConst = true;
        else if (w.includes('volatile')) isVolatile = true;
        else if (w === '_Atomic') this.fail('_Atomic is not supported', t);
      } else if (w === 'inline' || w === '__inline' || w === '__inline__') {
        this.next();
        inline = true;
      } else if (w === '_Noreturn') {
        this.next();
        attrs.push({ name: 'noreturn', args: [], at: t });
      } else if (w === '__extension__') {
        this.next();
      } else if (ATTR_WORDS.has(w)) {
        attrs.push(...this.attributes());
      } else if (w === '_Alignas') {
        this.next();
        const open = this.require('(');
        const arg = this.startsType() ? ({ kind: 'alignof', type: this.typeName(), at: t } as Expr) : this.assignment();
        this.require(')', open);
        attrs.push({ name: 'aligned', args: [arg], at: t });
      } else if (TYPE_WORDS.has(w)) {
        if (type) this.fail(`two or more data types in declaration specifiers`, t);
        this.next();
        if (w === 'float' || w === 'double' || w === '_Complex') {
          // parsed; the checker names them unsupported
        }
        wordsAt ??= t;
        words.push(w === '__signed__' || w === '__signed' ? 'signed' : w === '__unsigned' ? 'unsigned' : w);
      } else if (w === 'struct' || w === 'union') {
        if (type || words.length > 0) this.fail(`two or more data types in declaration specifiers`, t);
        type = this.structSpec();
      } else if (w === 'enum') {
        if (type || words.length > 0) this.fail(`two or more data types in declaration specifiers`, t);
        type = this.enumSpec();
      } else if (TYPEOF_WORDS.has(w)) {
        if (type || words.length > 0) this.fail(`two or more data types in declaration specifiers`, t);
        this.next();
        const open = this.require('(');
        type = this.startsType() ? { kind: 'typeof', type: this.typeName(), at: t } : { kind: 'typeof', expr: this.expression(), at: t };
        this.require(')', open);
      } else if (!type && words.length === 0 && this.isTypedefName(w)) {
        this.next();
        type = { kind: 'typedef-name', name: t, at: t };
      } else {
        break;
      }
    }
    const implicitInt = !type && words.length === 0;
    if (!type) type = { kind: 'builtin', words: words.length > 0 ? words : ['int'], at: wordsAt ?? at };
    return { ...(storage ? { storage } : {}), inline, type, isConst, isVolatile, attrs, at, implicitInt };
  }

  private structSpec(): TypeSpec {
    const at = this.next();
    const kind = at.text as 'struct' | 'union';
    const attrs = this.attributes();
    let tag: Token | undefined;
    if (this.peek().kind === 'ident' && !KEYWORDS.has(this.peek().text)) tag = this.next();
    if (!this.isPunct('{')) {
      if (!tag) this.expected(`'{'`);
      return { kind, tag: tag!, attrs, at };
    }
    const open = this.next();
    const members: MemberDecl[] = [];
    while (!this.isPunct('}')) {
      if (this.atEof()) this.require('}', open);
      if (this.accept(';')) continue;
      const mAt = this.peek();
      if (!this.startsType() && !(mAt.kind === 'ident' && (ATTR_WORDS.has(mAt.text) || QUALIFIERS.has(mAt.text)))) {
        if (mAt.kind === 'ident' && !KEYWORDS.has(mAt.text)) this.fail(`unknown type name '${mAt.text}'`, mAt);
        this.expected('specifier-qualifier-list');
      }
      const spec = this.declSpecifiers();
      if (spec.storage) this.fail(`expected specifier-qualifier-list before '${spec.storage}'`, spec.at);
      const declarators: Array<{ decl: Declarator; bits?: Expr }> = [];
      if (!this.isPunct(';')) {
        for (;;) {
          const decl = this.isPunct(':') ? { derived: [], attrs: [], at: this.peek() } : this.declarator(false);
          let bits: Expr | undefined;
          if (this.accept(':')) bits = this.conditional();
          const more = this.attributes();
          declarators.push({ decl: more.length ? { ...decl, attrs: [...decl.attrs, ...more] } : decl, ...(bits ? { bits } : {}) });
          if (!this.accept(',')) break;
        }
      }
      if (!this.isPunct(';')) {
        if (this.isPunct('}')) this.require(';');
        this.expected(`':', ',', ';', '}' or '__attribute__'`);
      }
      this.next();
      members.push({ spec, declarators, at: mAt });
    }
    this.next();
    const after = this.attributes();
    return { kind, ...(tag ? { tag } : {}), members, attrs: [...attrs, ...after], at };
  }

  private enumSpec(): TypeSpec {
    const at = this.next();
    this.attributes();
    let tag: Token | undefined;
    if (this.peek().kind === 'ident' && !KEYWORDS.has(this.peek().text)) tag = this.next();
    if (!this.isPunct('{')) {
      if (!tag) this.expected(`'{'`);
      return { kind: 'enum', tag: tag!, at };
    }
    const open = this.next();
    const enumerators: Array<{ name: Token; value?: Expr }> = [];
    while (!this.isPunct('}')) {
      const name = this.peek();
      if (name.kind !== 'ident' || KEYWORDS.has(name.text)) this.expected('identifier');
      this.next();
      this.declare(name.text, false);
      let value: Expr | undefined;
      if (this.accept('=')) value = this.conditional();
      enumerators.push({ name, ...(value ? { value } : {}) });
      if (!this.accept(',')) break;
    }
    this.require('}', open);
    this.attributes();
    return { kind: 'enum', ...(tag ? { tag } : {}), enumerators, at };
  }

  /** A declarator; `abstract` allows it to have no name (type names, parameters). */
  private declarator(abstract: boolean): Declarator {
    const ptrs: Derived[] = [];
    while (this.isPunct('*')) {
      const at = this.next();
      let isConst = false;
      let isVolatile = false;
      for (;;) {
        const t = this.peek();
        if (t.kind === 'ident' && QUALIFIERS.has(t.text)) {
          this.next();
          if (t.text.includes('const')) isConst = true;
          if (t.text.includes('volatile')) isVolatile = true;
        } else if (t.kind === 'ident' && ATTR_WORDS.has(t.text)) {
          this.attributes();
        } else break;
      }
      ptrs.push({ kind: 'pointer', isConst, isVolatile, at });
    }
    const attrs = this.attributes();
    let name: Token | undefined;
    let inner: Derived[] = [];
    let innerAttrs: Attribute[] = [];
    const at = this.peek();
    if (this.isPunct('(') && this.nestedDeclaratorFollows(abstract)) {
      const open = this.next();
      const d = this.declarator(abstract);
      this.require(')', open);
      name = d.name;
      inner = [...d.derived];
      innerAttrs = [...d.attrs];
    } else if (this.peek().kind === 'ident' && !KEYWORDS.has(this.peek().text)) {
      name = this.next();
    } else if (this.peek().kind === 'ident' && ASM_WORDS.has(this.peek().text)) {
      this.fail('inline assembly is not supported', this.peek());
    } else if (!abstract) {
      this.expected(`identifier or '('`);
    }
    const suffixes: Derived[] = [];
    for (;;) {
      if (this.isPunct('[')) {
        const open = this.next();
        while (this.peek().kind === 'ident' && (QUALIFIERS.has(this.peek().text) || this.peek().text === 'static')) this.next();
        const size = this.isPunct(']') ? undefined : this.assignment();
        this.require(']', open);
        suffixes.push({ kind: 'array', ...(size ? { size } : {}), at: open });
      } else if (this.isPunct('(')) {
        suffixes.push(this.parameterList());
      } else break;
    }
    const derived = [...inner, ...suffixes, ...ptrs.reverse()];
    return { ...(name ? { name } : {}), derived, attrs: [...attrs, ...innerAttrs], at: name ?? at };
  }

  /** At `(` in a declarator: a parenthesized declarator (not a parameter list)? */
  private nestedDeclaratorFollows(abstract: boolean): boolean {
    const t = this.peek(1);
    if (t.kind === 'punct') return t.text === '*' || t.text === '(' || (t.text === '[' && abstract);
    if (t.kind !== 'ident') return false;
    if (ATTR_WORDS.has(t.text)) return true;
    if (!abstract) return true;
    return !this.startsType(1) && !KEYWORDS.has(t.text);
  }

  private parameterList(): Derived {
    const at = this.next(); // (
    const params: ParamDecl[] = [];
    let variadic = false;
    if (this.isPunct(')')) {
      this.next();
      return { kind: 'function', params, variadic, noProto: true, at };
    }
    if (this.is('void') && this.isPunct(')', 1)) {
      this.next();
      this.next();
      return { kind: 'function', params, variadic, noProto: false, at };
    }
    this.push();
    for (;;) {
      if (this.isPunct('...')) {
        this.next();
        variadic = true;
        break;
      }
      if (!this.startsDeclaration()) {
        const t = this.peek();
        if (t.kind === 'ident' && !KEYWORDS.has(t.text)) {
          if (this.isPunct(',', 1) || this.isPunct(')', 1)) this.fail('old-style parameter declarations are not supported', t);
          this.fail(`unknown type name '${t.text}'`, t);
        }
        this.expected(`declaration specifiers or '...'`);
      }
      const spec = this.declSpecifiers();
      const decl = this.declarator(true);
      const more = this.attributes();
      if (decl.name) this.declare(decl.name.text, false);
      params.push({ spec, decl: more.length ? { ...decl, attrs: [...decl.attrs, ...more] } : decl });
      if (!this.accept(',')) break;
    }
    this.pop();
    this.require(')', at);
    return { kind: 'function', params, variadic, noProto: false, at };
  }

  private typeName(): TypeName {
    const at = this.peek();
    const spec = this.declSpecifiers();
    if (spec.storage) this.fail(`expected specifier-qualifier-list before '${spec.storage}'`, spec.at);
    const decl = this.declarator(true);
    if (decl.name) this.fail(`expected ')' before '${decl.name.text}'`, decl.name);
    return { spec, decl, at };
  }

  private initializer(): Initializer {
    if (!this.isPunct('{')) return { kind: 'expr', expr: this.assignment() };
    const at = this.next();
    const items: Array<{ designators: Designator[]; init: Initializer; at: Token }> = [];
    while (!this.isPunct('}')) {
      const itemAt = this.peek();
      const designators: Designator[] = [];
      for (;;) {
        if (this.isPunct('.')) {
          this.next();
          const name = this.peek();
          if (name.kind !== 'ident') this.expected('identifier');
          this.next();
          designators.push({ kind: 'field', name });
        } else if (this.isPunct('[')) {
          const open = this.next();
          const index = this.conditional();
          if (this.isPunct('...')) this.fail('array range designators are not supported', this.peek());
          this.require(']', open);
          designators.push({ kind: 'index', index, at: open });
        } else break;
      }
      if (designators.length > 0) {
        if (!this.isPunct('=')) this.expected(`'='`);
        this.next();
      } else if (this.peek().kind === 'ident' && this.isPunct(':', 1)) {
        // GNU old-style `field: value`
        const name = this.next();
        this.next();
        designators.push({ kind: 'field', name });
      }
      items.push({ designators, init: this.initializer(), at: itemAt });
      if (!this.accept(',')) break;
    }
    const close = this.require('}', at);
    return { kind: 'list', items, at, close };
  }

  // ---- statements ----

  private block(scope = true): Block {
    const at = this.require('{');
    if (scope) this.push();
    const items: Stmt[] = [];
    while (!this.isPunct('}')) {
      if (this.atEof()) {
        if (this.fnStart) this.fail('expected declaration or statement at end of input', this.fnStart);
        this.require('}', at);
      }
      items.push(this.blockItem());
    }
    const close = this.next();
    if (scope) this.pop();
    return { kind: 'block', items, at, close };
  }

  private blockItem(): Stmt {
    const t = this.peek();
    if (t.kind === 'ident' && t.text === '_Static_assert') return this.staticAssert();
    if (t.kind === 'ident' && t.text === '__label__') this.fail('local labels are not supported', t);
    if (this.startsDeclaration() && !(this.isPunct(':', 1) && !STORAGE.has(t.text))) {
      const spec = this.declSpecifiers();
      const d = this.declarationRest(spec, false);
      return d as Declaration;
    }
    if (t.kind === 'ident' && !KEYWORDS.has(t.text) && this.peek(1).kind === 'ident' && !this.isTypedefName(t.text)) {
      if (!KEYWORDS.has(this.peek(1).text)) this.fail(`unknown type name '${t.text}'`, t);
    }
    return this.statement();
  }

  private statement(): Stmt {
    const t = this.peek();
    if (t.kind === 'punct') {
      if (t.text === '{') return this.block();
      if (t.text === ';') {
        this.next();
        return { kind: 'empty', at: t };
      }
    }
    if (t.kind === 'ident') {
      switch (t.text) {
        case 'if': {
          this.next();
          const open = this.require('(');
          const cond = this.expression();
          this.require(')', open);
          const then = this.statement();
          if (this.is('else')) {
            this.next();
            return { kind: 'if', cond, then, else: this.statement(), at: t };
          }
          return { kind: 'if', cond, then, at: t };
        }
        case 'while': {
          this.next();
          const open = this.require('(');
          const cond = this.expression();
          this.require(')', open);
          return { kind: 'while', cond, body: this.statement(), at: t };
        }
        case 'do': {
          this.next();
          const body = this.statement();
          if (!this.is('while')) this.expected(`'while'`);
          this.next();
          const open = this.require('(');
          const cond = this.expression();
          this.require(')', open);
          this.require(';');
          return { kind: 'do', body, cond, at: t };
        }
        case 'for': {
          this.next();
          const open = this.require('(');
          this.push();
          let init: Extract<Stmt, { kind: 'for' }>['init'];
          if (this.startsDeclaration()) {
            init = this.declarationRest(this.declSpecifiers(), false) as Declaration;
          } else if (!this.isPunct(';')) {
            const at = this.peek();
            init = { kind: 'expr', expr: this.expression(), at };
            this.require(';');
          } else this.next();
          const cond = this.isPunct(';') ? undefined : this.expression();
          this.require(';');
          const step = this.isPunct(')') ? undefined : this.expression();
          this.require(')', open);
          const body = this.statement();
          this.pop();
          return { kind: 'for', ...(init ? { init } : {}), ...(cond ? { cond } : {}), ...(step ? { step } : {}), body, at: t };
        }
        case 'switch': {
          this.next();
          const open = this.require('(');
          const cond = this.expression();
          this.require(')', open);
          return { kind: 'switch', cond, body: this.statement(), at: t };
        }
        case 'case': {
          this.next();
          const value = this.conditional();
          let high: Expr | undefined;
          if (this.isPunct('...')) {
            this.next();
            high = this.conditional();
          }
          if (!this.isPunct(':')) this.expected(`':'`);
          this.next();
          return { kind: 'case', value, ...(high ? { high } : {}), body: this.labeledBody(), at: t };
        }
        case 'default': {
          this.next();
          if (!this.isPunct(':')) this.expected(`':'`);
          this.next();
          return { kind: 'default', body: this.labeledBody(), at: t };
        }
        case 'break':
        case 'continue':
          this.next();
          this.require(';');
          return { kind: t.text, at: t };
        case 'return': {
          this.next();
          if (this.isPunct(';')) {
            this.next();
            return { kind: 'return', at: t };
          }
          const value = this.expression();
          this.require(';');
          return { kind: 'return', value, at: t };
        }
        case 'goto': {
          this.next();
          const label = this.peek();
          if (label.kind !== 'ident') {
            if (this.isPunct('*')) this.fail('computed goto is not supported', label);
            this.expected('identifier');
          }
          this.next();
          this.require(';');
          return { kind: 'goto', label, at: t };
        }
        default:
          if (ASM_WORDS.has(t.text)) this.fail('inline assembly is not supported', t);
          if (!KEYWORDS.has(t.text) && this.isPunct(':', 1)) {
            this.next();
            this.next();
            this.attributes();
            return { kind: 'label', name: t, body: this.labeledBody(), at: t };
          }
      }
    }
    const expr = this.expression();
    this.require(';');
    return { kind: 'expr', expr, at: t };
  }

  /** The statement after a label: C11 requires one; a declaration there is a C2x extension gcc 12 rejects. */
  private labeledBody(): Stmt {
    if (this.isPunct('}')) this.fail(`label at end of compound statement`, this.prev);
    if (this.startsDeclaration()) this.fail(`a label can only be part of a statement and a declaration is not a statement`, this.peek());
    return this.statement();
  }

  // ---- expressions ----

  expression(): Expr {
    let e = this.assignment();
    while (this.isPunct(',')) {
      const at = this.next();
      e = { kind: 'comma', left: e, right: this.assignment(), at };
    }
    return e;
  }

  private assignment(): Expr {
    const left = this.conditional();
    const t = this.peek();
    if (t.kind === 'punct' && ASSIGN_OPS.has(t.text)) {
      this.next();
      return { kind: 'assign', op: t.text, left, right: this.assignment(), at: t };
    }
    return left;
  }

  private conditional(): Expr {
    const cond = this.binary(1);
    if (!this.isPunct('?')) return cond;
    const at = this.next();
    if (this.isPunct(':')) this.fail('the GNU conditional with an omitted operand (a ?: b) is not supported', this.peek());
    const then = this.expression();
    if (!this.isPunct(':')) this.expected(`':'`);
    this.next();
    return { kind: 'cond', cond, then, else: this.conditional(), at };
  }

  private binary(minPrec: number): Expr {
    let left = this.cast();
    for (;;) {
      const t = this.peek();
      const prec = t.kind === 'punct' ? BINARY_PREC.get(t.text) : undefined;
      if (prec === undefined || prec < minPrec) return left;
      this.next();
      const right = this.binary(prec + 1);
      left = { kind: 'binary', op: t.text, left, right, at: t };
    }
  }

  private cast(): Expr {
    if (this.isPunct('(') && this.startsType(1)) {
      const at = this.next();
      const type = this.typeName();
      this.require(')', at);
      if (this.isPunct('{')) {
        const init = this.initializer();
        return this.postfixOps({ kind: 'compound-literal', type, init, at });
      }
      return { kind: 'cast', type, operand: this.cast(), at };
    }
    return this.unary();
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.kind === 'punct' && ['++', '--', '&', '*', '+', '-', '~', '!'].includes(t.text)) {
      this.next();
      const operand = t.text === '++' || t.text === '--' ? this.unary() : this.cast();
      return { kind: 'unary', op: t.text, operand, at: t };
    }
    if (t.kind === 'punct' && t.text === '&&') this.fail('labels as values are not supported', t);
    if (t.kind === 'ident') {
      if (t.text === 'sizeof') {
        this.next();
        if (this.isPunct('(') && this.startsType(1)) {
          const open = this.next();
          const type = this.typeName();
          this.require(')', open);
          if (this.isPunct('{')) {
            const init = this.initializer();
            return { kind: 'sizeof-expr', operand: this.postfixOps({ kind: 'compound-literal', type, init, at: open }), at: t };
          }
          return { kind: 'sizeof-type', type, at: t };
        }
        return { kind: 'sizeof-expr', operand: this.unary(), at: t };
      }
      if (t.text === '_Alignof' || t.text === '__alignof__' || t.text === '__alignof') {
        this.next();
        const open = this.require('(');
        if (!this.startsType()) this.fail(`${t.text} of an expression is not supported`, this.peek());
        const type = this.typeName();
        this.require(')', open);
        return { kind: 'alignof', type, at: t };
      }
      if (t.text === '__extension__') {
        this.next();
        return this.cast();
      }
    }
    return this.postfixOps(this.primary());
  }

  private postfixOps(base: Expr): Expr {
    let e = base;
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'punct') return e;
      if (t.text === '[') {
        this.next();
        const index = this.expression();
        this.require(']', t);
        e = { kind: 'index', base: e, index, at: t };
      } else if (t.text === '(') {
        this.next();
        const args: Expr[] = [];
        if (!this.isPunct(')')) {
          args.push(this.assignment());
          while (this.accept(',')) args.push(this.assignment());
        }
        const close = this.require(')', t);
        e = { kind: 'call', callee: e, args, at: t, close };
      } else if (t.text === '.' || t.text === '->') {
        this.next();
        const name = this.peek();
        if (name.kind !== 'ident') this.expected('identifier');
        this.next();
        e = { kind: 'member', base: e, arrow: t.text === '->', name, at: t };
      } else if (t.text === '++' || t.text === '--') {
        this.next();
        e = { kind: 'postfix', op: t.text, operand: e, at: t };
      } else return e;
    }
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case 'ident': {
        if (t.text === '__builtin_offsetof') return this.offsetof();
        if (t.text === '_Generic') this.fail('_Generic is not supported', t);
        if (ASM_WORDS.has(t.text)) this.fail('inline assembly is not supported', t);
        if (t.text === '__builtin_va_arg' || t.text === '__builtin_va_start') this.fail('variable argument lists (va_list) are not supported', t);
        if (KEYWORDS.has(t.text) || this.isTypedefName(t.text)) this.expected('expression');
        this.next();
        return { kind: 'ident', name: t.text, at: t };
      }
      case 'number':
        this.next();
        return /^0[xX]/.test(t.text) ? (/[pP]/.test(t.text) ? { kind: 'float', text: t.text, at: t } : { kind: 'int', text: t.text, at: t }) : /[.eE]|[fF]$/.test(t.text) ? { kind: 'float', text: t.text, at: t } : { kind: 'int', text: t.text, at: t };
      case 'char':
        this.next();
        return { kind: 'char', text: t.text, at: t };
      case 'string': {
        const parts: Token[] = [];
        while (this.peek().kind === 'string') parts.push(this.next());
        return { kind: 'string', parts, at: t };
      }
      case 'punct':
        if (t.text === '(') {
          this.next();
          if (this.isPunct('{')) {
            const body = this.block();
            this.require(')', t);
            return { kind: 'stmt-expr', body, at: t };
          }
          const e = this.expression();
          this.require(')', t);
          return e;
        }
        return this.expected('expression');
      default:
        return this.expected('expression');
    }
  }

  private offsetof(): Expr {
    const at = this.next();
    const open = this.require('(');
    const type = this.typeName();
    if (!this.isPunct(',')) this.expected(`','`);
    this.next();
    const path: Designator[] = [];
    const first = this.peek();
    if (first.kind !== 'ident') this.expected('identifier');
    this.next();
    path.push({ kind: 'field', name: first });
    for (;;) {
      if (this.isPunct('.')) {
        this.next();
        const n = this.peek();
        if (n.kind !== 'ident') this.expected('identifier');
        this.next();
        path.push({ kind: 'field', name: n });
      } else if (this.isPunct('[')) {
        const o = this.next();
        const index = this.expression();
        this.require(']', o);
        path.push({ kind: 'index', index, at: o });
      } else break;
    }
    this.require(')', open);
    return { kind: 'offsetof', type, path, at };
  }
}

/** Whether two spans are on the same line (gcc underlines the matching '(' only then). */
function near(a: Span, b: Span): boolean {
  if (a.file !== b.file) return false;
  const text = a.file.text;
  const lo = Math.min(a.start, b.start);
  const hi = Math.max(a.start, b.start);
  return !text.slice(lo, hi).includes('\n');
}
