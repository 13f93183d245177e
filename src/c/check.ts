// The semantic check: C's scopes, types and conversions over the parse tree, with gcc's
// diagnostics for what a module author gets wrong (an unknown member such as a removed
// fault_handler, an undeclared name, a call with the wrong arguments, a return that does not fit
// the function, ...), producing the typed, lowered program (program.ts) that the interpreter runs.

import type * as A from './ast.ts';
import { exprStart } from './ast.ts';
import type { Diagnostic } from './diagnostics.ts';
import type { Token } from './lexer.ts';
import { decodeLiteralBody, parseCharConstant, parseIntegerLiteral } from './literals.ts';
import type * as P from './program.ts';
import { walkCode } from './walk.ts';
import type { Span } from './source.ts';
import { suggest } from './spellcheck.ts';
import {
  T, alignOf, compatible, findMember, intBinary, intCompare, isArithmetic, isInteger, isScalar, isVoidPointer, layout, memberNames,
  pointerTo, promote, quoteType, sizeOf, typeName, unqual, usualArithmetic, wrap, type CType, type StructDef,
} from './types.ts';

export interface CheckOptions {
  readonly moduleName: string;
  readonly fileName: string;
  readonly arch: 'x86_64' | 'arm64';
  readonly kernel: string;
  readonly charSigned: boolean;
  /** Warning options the build makes errors (-Werror=OPTION). */
  readonly werror: ReadonlySet<string>;
}

export interface CheckResult {
  readonly module: P.CheckedModule;
  readonly diagnostics: Diagnostic[];
}

type FnType = Extract<CType, { kind: 'function' }>;

type Sym =
  | { readonly kind: 'typedef'; readonly type: CType }
  | { readonly kind: 'enum-const'; readonly value: bigint }
  | { kind: 'global'; readonly name: string; type: CType; readonly decl: Token; used: boolean; defined: boolean; readonly isStatic: boolean }
  | { kind: 'local'; readonly slot: number; readonly type: CType; readonly decl: Token; used: boolean }
  | { kind: 'function'; readonly name: string; type: FnType; readonly decl: Token; used: boolean; defined: boolean; readonly isStatic: boolean; readonly implicit: boolean };

class Fatal extends Error {}

const sectionOf = (attrs: readonly A.Attribute[]): string | undefined => {
  const a = attrs.find((x) => x.name === 'section');
  const arg = a?.args[0];
  return arg?.kind === 'string' ? arg.parts.map((p) => p.text.slice(1, -1)).join('') : undefined;
};
const hasAttr = (attrs: readonly A.Attribute[], name: string): boolean => attrs.some((a) => a.name === name);

interface FnCtx {
  readonly name: string;
  readonly type: FnType;
  readonly decl: Token;
  readonly start: Token;
  readonly locals: P.Local[];
  readonly labels: Map<string, number>;
  readonly gotos: Array<{ at: number; label: Token; code: P.Instr[] }>;
  readonly undeclared: Set<string>;
  readonly usedLabels: Set<string>;
}

interface Flow {
  readonly code: P.Instr[];
  breaks?: number[];
  continues?: number[];
  switchCases?: Array<{ low: bigint; high: bigint; to: number; at: Token }>;
  switchDefault?: number;
  switchType?: CType;
  inLoop: boolean;
  inSwitch: boolean;
}

export function check(decls: readonly A.ExternalDecl[], options: CheckOptions): CheckResult {
  return new Checker(options).run(decls);
}

class Checker {
  private readonly diags: Diagnostic[] = [];
  private readonly scopes: Array<Map<string, Sym>> = [new Map()];
  private readonly tags: Array<Map<string, { def?: StructDef; isEnum: boolean }>> = [new Map()];
  private readonly globals = new Map<string, P.Global>();
  private readonly globalOrder: string[] = [];
  private readonly functions: P.Func[] = [];
  private readonly strings: P.StringLiteral[] = [];
  private readonly kernelFns = new Set<string>();
  private readonly aliases = new Map<string, string>();
  private structIds = 0;
  private fn: FnCtx | undefined;
  private staticCount = 0;
  private undeclaredNoteShown = false;

  constructor(private readonly o: CheckOptions) {}

  run(decls: readonly A.ExternalDecl[]): CheckResult {
    try {
      for (const d of decls) {
        if (d.kind === 'function') this.functionDef(d);
        else if (d.kind === 'decl') this.declaration(d, true);
      }
      this.unusedFunctions();
    } catch (e) {
      if (!(e instanceof Fatal)) throw e;
    }
    return { module: this.assemble(), diagnostics: this.diags };
  }

  // ---- diagnostics ----

  private span(t: Token): Span {
    return t.span;
  }
  private note(message: string, t: Token | Span): Diagnostic | undefined {
    const span = 'kind' in t ? t.span : t;
    return span.file.system ? undefined : { severity: 'note', message, span };
  }
  private error(message: string, at: Token | Span, extra: Partial<Diagnostic> = {}): void {
    const span = 'kind' in at ? at.span : at;
    const notes = [...(extra.notes ?? []), ...this.macroNotes(at)];
    this.diags.push({ severity: 'error', message, span, fn: this.fn?.name ?? null, ...extra, ...(notes.length ? { notes } : {}) });
  }
  private warn(option: string, message: string, at: Token | Span, extra: Partial<Diagnostic> = {}): void {
    const span = 'kind' in at ? at.span : at;
    if (span.file.system) return; // gcc is silent about its system headers
    const promoted = this.o.werror.has(option);
    const notes = [...(extra.notes ?? []), ...this.macroNotes(at)];
    this.diags.push({ severity: promoted ? 'error' : 'warning', message, span, option, ...(promoted ? { promoted } : {}), fn: this.fn?.name ?? null, ...extra, ...(notes.length ? { notes } : {}) });
  }
  private macroNotes(at: Token | Span): Diagnostic[] {
    if (!('kind' in at) || !at.macro || !at.from) return [];
    return [{ severity: 'note', message: `in expansion of macro '${at.macro}'`, span: at.from }];
  }
  private memberNotFound(def: StructDef, name: Token, shown: CType): void {
    const hint = suggest(name.text, memberNames(def));
    this.error(`${quoteType(shown)} has no member named '${name.text}'${hint ? `; did you mean '${hint}'?` : ''}`, name, hint ? { fixit: hint } : {});
  }

  // ---- scopes ----

  private lookup(name: string): Sym | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const s = this.scopes[i]!.get(name);
      if (s) return s;
    }
    return undefined;
  }
  private lookupTag(name: string): { def?: StructDef; isEnum: boolean } | undefined {
    for (let i = this.tags.length - 1; i >= 0; i--) {
      const s = this.tags[i]!.get(name);
      if (s) return s;
    }
    return undefined;
  }
  private push(): void {
    this.scopes.push(new Map());
    this.tags.push(new Map());
  }
  private pop(): void {
    const s = this.scopes.pop()!;
    this.tags.pop();
    for (const [name, sym] of s) {
      if (sym.kind === 'local' && !sym.used && !sym.decl.span.file.system && !name.startsWith('__')) {
        this.warn('unused-variable', `unused variable '${name}'`, sym.decl);
      }
    }
  }
  private get fileScope(): boolean {
    return this.scopes.length === 1;
  }

  // ---- types ----

  private typeOfSpec(spec: A.DeclSpec): CType {
    const q = { ...(spec.isConst ? { isConst: true } : {}), ...(spec.isVolatile ? { isVolatile: true } : {}) };
    const base = this.baseType(spec.type);
    return Object.keys(q).length ? ({ ...base, ...q } as CType) : base;
  }

  private baseType(ts: A.TypeSpec): CType {
    switch (ts.kind) {
      case 'builtin':
        return this.builtinType(ts.words, ts.at);
      case 'typedef-name': {
        const s = this.lookup(ts.name.text);
        return s?.kind === 'typedef' ? { ...s.type, typedefName: ts.name.text } : T.int;
      }
      case 'typeof':
        if (ts.type) return this.typeOfName(ts.type);
        return this.rvalue(this.expr(ts.expr!), true).type;
      case 'enum': {
        if (ts.enumerators) {
          let next = 0n;
          for (const e of ts.enumerators) {
            if (e.value) {
              const v = this.constInt(this.rvalue(this.expr(e.value)), e.value);
              if (v !== undefined) next = v;
            }
            this.scopes[this.scopes.length - 1]!.set(e.name.text, { kind: 'enum-const', value: next });
            next += 1n;
          }
          if (ts.tag) this.tags[this.tags.length - 1]!.set(ts.tag.text, { isEnum: true });
        }
        return T.uint.kind === 'int' ? { ...T.uint, name: 'unsigned int', enumDef: { id: ++this.structIds, ...(ts.tag ? { tag: ts.tag.text } : {}) } } : T.uint;
      }
      default:
        return { kind: 'struct', def: this.structDef(ts) };
    }
  }

  private builtinType(words: readonly string[], at: Token): CType {
    const count = (w: string): number => words.filter((x) => x === w).length;
    const unsigned = count('unsigned') > 0;
    const signed = count('signed') > 0;
    const longs = count('long');
    if (count('void')) return T.void;
    if (count('_Bool')) return T.bool;
    if (count('float') || count('double')) {
      this.error('floating-point types are not supported (the kernel is built without the FPU)', at);
      return { kind: 'float', name: count('float') ? 'float' : 'double', size: count('float') ? 4 : 8 };
    }
    if (count('__int128')) return unsigned ? T.uint128 : T.int128;
    if (count('char')) return unsigned ? T.uchar : signed ? T.schar : T.char(this.o.charSigned);
    if (count('short')) return unsigned ? T.ushort : T.short;
    if (longs >= 2) return unsigned ? T.ullong : T.llong;
    if (longs === 1) return unsigned ? T.ulong : T.long;
    return unsigned ? T.uint : T.int;
  }

  private structDef(ts: Extract<A.TypeSpec, { kind: 'struct' | 'union' }>): StructDef {
    const union = ts.kind === 'union';
    const system = ts.at.span.file.system;
    let def: StructDef | undefined;
    if (ts.tag) {
      const inner = this.tags[this.tags.length - 1]!.get(ts.tag.text);
      const found = ts.members ? inner : this.lookupTag(ts.tag.text);
      if (found?.def) {
        if (found.def.union !== union) this.error(`'${ts.tag.text}' defined as wrong kind of tag`, ts.tag);
        def = found.def;
        if (ts.members && def.complete) {
          this.error(`redefinition of '${union ? 'union' : 'struct'} ${ts.tag.text}'`, ts.tag);
          return def;
        }
      }
    }
    if (!def) {
      def = { union, ...(ts.tag ? { tag: ts.tag.text } : {}), size: 0, align: 1, complete: false, system, id: ++this.structIds };
      if (ts.tag) this.tags[this.tags.length - 1]!.set(ts.tag.text, { def, isEnum: false });
    }
    if (ts.members) {
      const fields: Array<{ name?: string; type: CType }> = [];
      const seen = new Set<string>();
      for (const m of ts.members) {
        const base = this.typeOfSpec(m.spec);
        if (m.declarators.length === 0) {
          if (base.kind === 'struct' && !base.def.tag) fields.push({ type: base });
          continue;
        }
        for (const d of m.declarators) {
          if (d.bits) this.error('bit-fields are not supported', d.decl.at);
          const t = this.applyDeclarator(base, d.decl);
          const name = d.decl.name?.text;
          if (name) {
            if (seen.has(name)) this.error(`duplicate member '${name}'`, d.decl.name!);
            seen.add(name);
          }
          const isFlexible = t.kind === 'array' && t.length === undefined;
          if (!isFlexible && sizeOf(t) === undefined) {
            this.error(`field '${name ?? ''}' has incomplete type`, d.decl.at);
            continue;
          }
          fields.push({ ...(name ? { name } : {}), type: isFlexible ? { ...t, length: 0 } : t });
        }
      }
      layout(def, fields);
    }
    return def;
  }

  private applyDeclarator(base: CType, d: A.Declarator): CType {
    let t = base;
    for (let i = d.derived.length - 1; i >= 0; i--) {
      const x = d.derived[i]!;
      if (x.kind === 'pointer') {
        t = { kind: 'pointer', to: t, ...(x.isConst ? { isConst: true } : {}), ...(x.isVolatile ? { isVolatile: true } : {}) };
      } else if (x.kind === 'array') {
        if (t.kind === 'function') this.error(`declaration of '${d.name?.text ?? ''}' as array of functions`, d.at);
        let length: number | undefined;
        if (x.size) {
          const e = this.rvalue(this.expr(x.size));
          const v = this.constInt(e, x.size, false);
          if (v === undefined) {
            this.error('variable length arrays are not supported', x.at);
            length = 1;
          } else if (v < 0n) {
            this.error(`size of array '${d.name?.text ?? ''}' is negative`, exprStart(x.size));
            length = 0;
          } else length = Number(v);
        }
        t = { kind: 'array', of: t, ...(length !== undefined ? { length } : {}) };
      } else {
        if (t.kind === 'function') this.error(`'${d.name?.text ?? ''}' declared as function returning a function`, d.at);
        if (t.kind === 'array') this.error(`'${d.name?.text ?? ''}' declared as function returning an array`, d.at);
        const params = x.noProto ? undefined : x.params.map((p) => this.paramType(p));
        t = { kind: 'function', ret: t, ...(params ? { params } : {}), variadic: x.variadic };
      }
    }
    return t;
  }

  private paramType(p: A.ParamDecl): CType {
    const t = this.applyDeclarator(this.typeOfSpec(p.spec), p.decl);
    // Parameters of array and function type are pointers (C11 6.7.6.3).
    if (t.kind === 'array') return pointerTo(t.of);
    if (t.kind === 'function') return pointerTo(t);
    return t;
  }

  private typeOfName(tn: A.TypeName): CType {
    return this.applyDeclarator(this.typeOfSpec(tn.spec), tn.decl);
  }

  // ---- declarations ----

  private declaration(d: A.Declaration, fileScope: boolean, flow?: Flow): void {
    if (d.spec.attrs.some((a) => a.name === '_Static_assert')) {
      const a = d.spec.attrs.find((x) => x.name === '_Static_assert')!;
      const v = this.constInt(this.rvalue(this.expr(a.args[0]!)), a.args[0]!);
      if (v === 0n) {
        const msg = a.args[1]?.kind === 'string' ? a.args[1].parts.map((p) => p.text.slice(1, -1)).join('') : '';
        this.error(`static assertion failed${msg ? `: "${msg}"` : ''}`, a.at);
      }
      return;
    }
    if (d.spec.implicitInt && fileScope) {
      const name = d.declarators[0]?.decl.name;
      this.warn('', 'data definition has no type or storage class', d.at);
      if (name) this.warn('implicit-int', `type defaults to 'int' in declaration of '${name.text}'`, name);
    }
    const base = this.typeOfSpec(d.spec);
    for (const id of d.declarators) {
      const name = id.decl.name;
      if (!name) continue;
      const t = this.applyDeclarator(base, id.decl);
      const attrs = [...d.spec.attrs, ...id.decl.attrs];
      if (d.spec.storage === 'typedef') {
        this.scopes[this.scopes.length - 1]!.set(name.text, { kind: 'typedef', type: t });
        continue;
      }
      if (t.kind === 'function') {
        this.declareFunction(name, t, d.spec, attrs, false);
        continue;
      }
      if (fileScope || d.spec.storage === 'static' || d.spec.storage === 'extern') {
        this.globalVar(name, t, d.spec, attrs, id, fileScope);
      } else {
        this.localVar(name, t, id, flow!);
      }
    }
  }

  private declareFunction(name: Token, t: FnType, spec: A.DeclSpec, attrs: readonly A.Attribute[], defining: boolean): Extract<Sym, { kind: 'function' }> {
    const alias = attrs.find((a) => a.name === 'alias');
    if (alias && alias.args[0]?.kind === 'string') this.aliases.set(name.text, alias.args[0].parts[0]!.text.slice(1, -1));
    const prev = this.scopes[0]!.get(name.text) ?? (this.fileScope ? undefined : this.lookup(name.text));
    if (prev && prev.kind === 'function') {
      if (!compatible(prev.type, t) && !prev.implicit) {
        this.error(`conflicting types for '${name.text}'; have '${typeName(t)}'`, name, {
          notes: [this.note(`previous ${prev.defined ? 'definition' : 'declaration'} of '${name.text}' with type '${typeName(prev.type)}'`, prev.decl)].filter(Boolean) as Diagnostic[],
        });
      }
      if (defining && prev.defined) {
        this.error(`redefinition of '${name.text}'`, name, { notes: [this.note(`previous definition of '${name.text}' with type '${typeName(prev.type)}'`, prev.decl)].filter(Boolean) as Diagnostic[] });
      }
      if (t.params || !prev.type.params) prev.type = t;
      if (defining) prev.defined = true;
      this.scopes[this.scopes.length - 1]!.set(name.text, prev);
      return prev;
    }
    if (prev && this.scopes[0]!.get(name.text) === prev) {
      this.error(`'${name.text}' redeclared as different kind of symbol`, name);
    }
    const sym: Extract<Sym, { kind: 'function' }> = {
      kind: 'function', name: name.text, type: t, decl: name, used: false, defined: defining, isStatic: spec.storage === 'static', implicit: false,
    };
    this.scopes[0]!.set(name.text, sym);
    if (!this.fileScope) this.scopes[this.scopes.length - 1]!.set(name.text, sym);
    return sym;
  }

  private globalVar(name: Token, t0: CType, spec: A.DeclSpec, attrs: readonly A.Attribute[], id: A.InitDeclarator, fileScope: boolean): void {
    let t = t0;
    const isStaticLocal = !fileScope;
    const globalName = isStaticLocal && spec.storage === 'static' ? `${name.text}.${++this.staticCount}` : name.text;
    if (!fileScope && spec.storage === 'extern') {
      const prev = this.scopes[0]!.get(name.text);
      if (prev) {
        this.scopes[this.scopes.length - 1]!.set(name.text, prev);
        return;
      }
    }
    // An array sized by its initializer: `char s[] = "..."`, `struct kunit_case c[] = {...}`.
    if (t.kind === 'array' && t.length === undefined && id.init) t = { ...t, length: this.initLength(t, id.init) };
    const prev = fileScope ? this.scopes[0]!.get(name.text) : undefined;
    if (prev && prev.kind === 'global') {
      if (!compatible(prev.type, t)) {
        this.error(`conflicting types for '${name.text}'; have '${typeName(t)}'`, name, { notes: [this.note(`previous declaration of '${name.text}' with type '${typeName(prev.type)}'`, prev.decl)].filter(Boolean) as Diagnostic[] });
      } else if (id.init && prev.defined && spec.storage !== 'extern') {
        this.error(`redefinition of '${name.text}'`, name, { notes: [this.note(`previous definition of '${name.text}' with type '${typeName(prev.type)}'`, prev.decl)].filter(Boolean) as Diagnostic[] });
      }
    } else if (prev) {
      this.error(`'${name.text}' redeclared as different kind of symbol`, name);
    }
    const size = sizeOf(t);
    const isExtern = spec.storage === 'extern' && !id.init;
    if (size === undefined && !isExtern) {
      this.error(`storage size of '${name.text}' isn't known`, name);
    }
    const sym: Sym = prev && prev.kind === 'global' ? prev : { kind: 'global', name: globalName, type: t, decl: name, used: false, defined: false, isStatic: spec.storage === 'static' };
    if (sym.kind === 'global') {
      sym.type = t;
      if (!isExtern) sym.defined = true;
    }
    this.scopes[this.scopes.length - 1]!.set(name.text, sym);
    const init = id.init ? this.staticInit(t, id.init, name) : [];
    const existing = this.globals.get(globalName);
    if (existing && isExtern) return;
    if (!existing) this.globalOrder.push(globalName);
    const section = sectionOf(attrs);
    this.globals.set(globalName, {
      name: globalName, type: t, size: size ?? 0, align: alignOf(t), init, isStatic: spec.storage === 'static', extern: isExtern,
      isConst: !!t.isConst || (t.kind === 'array' && !!t.of.isConst), ...(section ? { section } : {}), header: name.span.file.system, span: name.span,
    });
  }

  private initLength(t: Extract<CType, { kind: 'array' }>, init: A.Initializer): number {
    if (init.kind === 'expr') {
      if (init.expr.kind === 'string') return this.stringBytes(init.expr).length + 1;
      return 1;
    }
    if (init.items.length === 1 && init.items[0]!.init.kind === 'expr' && init.items[0]!.init.expr.kind === 'string' && unqual(t.of).kind === 'int' && sizeOf(t.of) === 1) {
      return this.stringBytes(init.items[0]!.init.expr).length + 1;
    }
    let idx = 0;
    let max = 0;
    for (const item of init.items) {
      const d = item.designators[0];
      if (d?.kind === 'index') {
        const v = this.constInt(this.rvalue(this.expr(d.index)), d.index);
        idx = Number(v ?? 0n);
      }
      idx++;
      max = Math.max(max, idx);
    }
    return max;
  }

  private localVar(name: Token, t0: CType, id: A.InitDeclarator, flow: Flow): void {
    let t = t0;
    if (t.kind === 'array' && t.length === undefined && id.init) t = { ...t, length: this.initLength(t, id.init) };
    const prev = this.scopes[this.scopes.length - 1]!.get(name.text);
    if (prev && (prev.kind === 'local' || prev.kind === 'global')) {
      this.error(`redefinition of '${name.text}'`, name, { notes: [this.note(`previous definition of '${name.text}' with type '${typeName(prev.type)}'`, prev.decl)].filter(Boolean) as Diagnostic[] });
    }
    const size = sizeOf(t);
    if (size === undefined) this.error(`storage size of '${name.text}' isn't known`, name);
    const fn = this.fn!;
    const slot = fn.locals.length;
    fn.locals.push({ slot, name: name.text, type: t, size: size ?? 0, align: alignOf(t), param: false });
    const sym: Sym = { kind: 'local', slot, type: t, decl: name, used: false };
    // In scope from its declarator on, so `int x = sizeof(x);` sees it.
    this.scopes[this.scopes.length - 1]!.set(name.text, sym);
    if (id.init) {
      const items = this.localInit(t, id.init, name);
      flow.code.push({ op: 'init', slot, zero: id.init.kind === 'list' || t.kind === 'array' || t.kind === 'struct', items, span: name.span });
    }
  }

  // ---- initializers ----

  /** Flattens an initializer of type `t` into (offset, scalar type, expression) items. */
  private flatInit(t: CType, init: A.Initializer, name: Token, out: Array<{ offset: number; type: CType; e: P.Expr; at: Token }>, base: number): void {
    const u = unqual(t);
    if (init.kind === 'expr') {
      // A char array from a string literal.
      if (u.kind === 'array' && init.expr.kind === 'string' && unqual(u.of).kind === 'int' && sizeOf(u.of) === 1) {
        const bytes = this.stringBytes(init.expr);
        const len = u.length ?? bytes.length + 1;
        if (bytes.length > len) this.warn('', `initializer-string for array of 'char' is too long`, init.expr.at);
        for (let i = 0; i < Math.min(len, bytes.length); i++) out.push({ offset: base + i, type: u.of, e: this.konst(BigInt(bytes[i]!), u.of, init.expr.at), at: init.expr.at });
        return;
      }
      if (u.kind === 'array' || (u.kind === 'struct' && init.expr.kind !== 'call' && init.expr.kind !== 'ident' && init.expr.kind !== 'member' && init.expr.kind !== 'index' && init.expr.kind !== 'unary' && init.expr.kind !== 'cond' && init.expr.kind !== 'stmt-expr' && init.expr.kind !== 'compound-literal')) {
        this.error('invalid initializer', exprStart(init.expr));
        return;
      }
      const e = this.convertAssign(this.rvalue(this.expr(init.expr)), t, 'init', init.expr, name.text);
      out.push({ offset: base, type: t, e, at: exprStart(init.expr) });
      return;
    }
    if (u.kind !== 'array' && u.kind !== 'struct') {
      // `int x = { 3 };`
      const first = init.items[0];
      if (first) this.flatInit(t, first.init, name, out, base);
      return;
    }
    // A string literal in braces for a char array.
    if (u.kind === 'array' && init.items.length === 1 && init.items[0]!.designators.length === 0 && init.items[0]!.init.kind === 'expr' && init.items[0]!.init.expr.kind === 'string') {
      this.flatInit(t, init.items[0]!.init, name, out, base);
      return;
    }
    let cursor = 0;
    const fields = u.kind === 'struct' ? (u.def.members ?? []) : [];
    for (const item of init.items) {
      let subType: CType | undefined;
      let offset = 0;
      const ds = item.designators;
      if (ds.length > 0) {
        // Walk the designator path: `.kp.symbol_name`, `[3]`.
        let cur: CType = u;
        offset = 0;
        let ok = true;
        for (let k = 0; k < ds.length; k++) {
          const d = ds[k]!;
          const cu = unqual(cur);
          if (d.kind === 'field') {
            if (cu.kind !== 'struct') {
              this.error('field name not in record or union initializer', d.name);
              ok = false;
              break;
            }
            const f = findMember(cu.def, d.name.text);
            if (!f) {
              this.memberNotFound(cu.def, d.name, cur);
              ok = false;
              break;
            }
            if (k === 0) cursor = cu.def.members!.findIndex((m) => m.name === d.name.text) + 1;
            offset += f.offset;
            cur = f.type;
          } else {
            if (cu.kind !== 'array') {
              this.error('array index in non-array initializer', d.at);
              ok = false;
              break;
            }
            const v = this.constInt(this.rvalue(this.expr(d.index)), d.index) ?? 0n;
            if (cu.length !== undefined && (v < 0n || v >= BigInt(cu.length))) {
              this.error('array index in initializer exceeds array bounds', d.at);
              ok = false;
              break;
            }
            if (k === 0) cursor = Number(v) + 1;
            offset += Number(v) * (sizeOf(cu.of) ?? 0);
            cur = cu.of;
          }
        }
        if (!ok) continue;
        subType = cur;
      } else if (u.kind === 'struct') {
        const f = fields[cursor];
        if (!f) {
          this.warn('', `excess elements in ${u.def.union ? 'union' : 'struct'} initializer`, item.at);
          continue;
        }
        subType = f.type;
        offset = f.offset;
        cursor++;
        if (u.def.union) cursor = fields.length;
      } else {
        if (u.length !== undefined && cursor >= u.length) {
          this.warn('', 'excess elements in array initializer', item.at);
          continue;
        }
        subType = u.of;
        offset = cursor * (sizeOf(u.of) ?? 0);
        cursor++;
      }
      // A brace-less initializer of an aggregate member takes as many items as it needs: the
      // kernel's modules brace their aggregates, so an expression here initializes the first scalar.
      const su = unqual(subType);
      if (item.init.kind === 'expr' && (su.kind === 'struct' || (su.kind === 'array' && item.init.expr.kind !== 'string'))) {
        const expr = item.init.expr;
        if (su.kind === 'struct' && !(expr.kind === 'int' || expr.kind === 'char')) {
          const e = this.rvalue(this.expr(expr));
          if (unqual(e.type).kind === 'struct' && compatible(e.type, su)) {
            out.push({ offset: base + offset, type: su, e, at: item.at });
            continue;
          }
        }
        const first = this.firstScalar(su);
        this.flatInit(first.type, item.init, name, out, base + offset + first.offset);
        continue;
      }
      this.flatInit(subType, item.init, name, out, base + offset);
    }
  }

  private firstScalar(t: CType): { type: CType; offset: number } {
    const u = unqual(t);
    if (u.kind === 'array') return this.firstScalar(u.of);
    if (u.kind === 'struct' && u.def.members?.length) {
      const f = u.def.members[0]!;
      const inner = this.firstScalar(f.type);
      return { type: inner.type, offset: f.offset + inner.offset };
    }
    return { type: t, offset: 0 };
  }

  private staticInit(t: CType, init: A.Initializer, name: Token): P.StaticInit[] {
    const items: Array<{ offset: number; type: CType; e: P.Expr; at: Token }> = [];
    this.flatInit(t, init, name, items, 0);
    const out: P.StaticInit[] = [];
    for (const it of items) {
      const v = this.staticValue(it.e);
      if (v === undefined) {
        this.error('initializer element is not constant', it.at);
        continue;
      }
      if (unqual(it.type).kind === 'struct') {
        this.error('initializer element is not constant', it.at);
        continue;
      }
      out.push({ offset: it.offset, type: it.type, value: v });
    }
    return out;
  }

  private localInit(t: CType, init: A.Initializer, name: Token): P.LocalInit[] {
    const items: Array<{ offset: number; type: CType; e: P.Expr; at: Token }> = [];
    this.flatInit(t, init, name, items, 0);
    return items.map((i) => ({ offset: i.offset, type: i.type, value: i.e }));
  }

  /** The value of a constant expression or address constant, for static data. */
  private staticValue(e: P.Expr): P.StaticValue | undefined {
    const v = this.constValue(e);
    if (v !== undefined) return { k: 'int', value: v };
    return this.addressConstant(e);
  }

  private addressConstant(e: P.Expr): Extract<P.StaticValue, { k: 'addr' }> | undefined {
    switch (e.k) {
      case 'cast':
        if (isScalar(e.type) && sizeOf(e.type) === 8) return this.addressConstant(e.operand);
        return undefined;
      case 'func':
        return { k: 'addr', target: { k: 'function', name: e.name }, offset: 0 };
      case 'addr':
      case 'decay': {
        const lv = this.lvalueAddress(e.lv);
        return lv;
      }
      case 'ptradd': {
        const base = this.addressConstant(e.ptr);
        const i = this.constValue(e.index);
        if (!base || i === undefined) return undefined;
        return { ...base, offset: base.offset + Number(i) * e.scale };
      }
      default:
        return undefined;
    }
  }

  private lvalueAddress(lv: P.LValue): Extract<P.StaticValue, { k: 'addr' }> | undefined {
    switch (lv.k) {
      case 'global':
        return { k: 'addr', target: { k: 'global', name: lv.name }, offset: 0 };
      case 'string':
        return { k: 'addr', target: { k: 'string', name: String(lv.id) }, offset: 0 };
      case 'member': {
        const b = this.lvalueAddress(lv.base);
        return b ? { ...b, offset: b.offset + lv.offset } : undefined;
      }
      case 'deref':
        return this.addressConstant(lv.ptr);
      default:
        return undefined;
    }
  }

  // ---- functions ----

  private functionDef(d: A.FunctionDef): void {
    const name = d.decl.name!;
    const t = this.applyDeclarator(this.typeOfSpec(d.spec), d.decl);
    if (t.kind !== 'function') {
      this.error(`expected '=', ',', ';', 'asm' or '__attribute__' before '{' token`, d.body.at);
      return;
    }
    const attrs = [...d.spec.attrs, ...d.decl.attrs];
    this.declareFunction(name, t, d.spec, attrs, true);
    const fnDerived = d.decl.derived[0] as Extract<A.Derived, { kind: 'function' }>;
    if (fnDerived.noProto && !name.span.file.system) {
      this.warn('strict-prototypes', 'function declaration isn\'t a prototype', name);
    }
    const ctx: FnCtx = { name: name.text, type: t, decl: name, start: d.at, locals: [], labels: new Map(), gotos: [], undeclared: new Set(), usedLabels: new Set() };
    const saved = this.fn;
    this.fn = ctx;
    this.push();
    const params: P.Local[] = [];
    fnDerived.params.forEach((p, i) => {
      const pt = t.params?.[i] ?? T.int;
      const pname = p.decl.name?.text;
      if (!pname) {
        if (!name.span.file.system) this.error('parameter name omitted', p.decl.at);
        return;
      }
      const local: P.Local = { slot: ctx.locals.length, name: pname, type: pt, size: sizeOf(pt) ?? 8, align: alignOf(pt), param: true };
      ctx.locals.push(local);
      params.push(local);
      this.scopes[this.scopes.length - 1]!.set(pname, { kind: 'local', slot: local.slot, type: pt, decl: p.decl.name!, used: true });
    });
    const flow: Flow = { code: [], inLoop: false, inSwitch: false };
    this.blockBody(d.body, flow, false);
    this.pop();
    // Labels and gotos.
    for (const g of ctx.gotos) {
      const to = ctx.labels.get(g.label.text);
      if (to === undefined) {
        this.error(`label '${g.label.text}' used but not defined`, g.label);
        continue;
      }
      (g.code[g.at] as { to: number }).to = to;
    }
    for (const [label] of ctx.labels) {
      if (!ctx.usedLabels.has(label)) this.warn('unused-label', `label '${label}' defined but not used`, this.labelTokens.get(label) ?? name);
    }
    this.labelTokens.clear();
    const ret = unqual(t.ret);
    if (ret.kind !== 'void' && this.endReachable(flow.code) && name.text !== 'main') {
      this.warn('return-type', 'control reaches end of non-void function', d.body.close);
    }
    flow.code.push({ op: 'return', span: d.body.close.span });
    this.fn = saved;
    const section = sectionOf(attrs);
    this.functions.push({
      name: name.text, type: t, params, locals: ctx.locals, code: flow.code, isStatic: d.spec.storage === 'static', inline: d.spec.inline,
      noinline: hasAttr(attrs, 'noinline'), ...(section ? { section } : {}), header: name.span.file.system, span: name.span,
    });
  }

  private readonly labelTokens = new Map<string, Token>();

  /** Whether running off the end of the code is possible (gcc's -Wreturn-type "control reaches end"). */
  private endReachable(code: readonly P.Instr[]): boolean {
    const seen = new Set<number>();
    const work = [0];
    while (work.length) {
      const pc = work.pop()!;
      if (pc < 0) continue; // a goto to a label never defined (already reported)
      if (pc >= code.length) return true;
      if (seen.has(pc)) continue;
      seen.add(pc);
      const i = code[pc]!;
      switch (i.op) {
        case 'return':
          break;
        case 'jump':
          work.push(i.to);
          break;
        case 'branch-false': {
          const c = this.constValue(i.cond);
          if (c === undefined || c === 0n) work.push(i.to);
          if (c === undefined || c !== 0n) work.push(pc + 1);
          break;
        }
        case 'switch':
          for (const c of i.cases) work.push(c.to);
          work.push(i.default);
          break;
        case 'expr':
          if (this.noreturnCall(i.e)) break;
          work.push(pc + 1);
          break;
        default:
          work.push(pc + 1);
      }
    }
    return false;
  }

  private noreturnCall(e: P.Expr): boolean {
    if (e.k === 'call' && e.callee.k === 'func') return ['__sim_bug', 'panic', 'do_exit', 'BUG'].includes(e.callee.name);
    if (e.k === 'builtin') return e.name === '__builtin_unreachable' || e.name === '__builtin_trap';
    return false;
  }

  // ---- statements ----

  private blockBody(b: A.Block, flow: Flow, scope = true): void {
    if (scope) this.push();
    let sawStatement = false;
    for (const item of b.items) {
      if (item.kind === 'decl') {
        if (sawStatement && !item.at.span.file.system) {
          this.warn('declaration-after-statement', 'ISO C90 forbids mixed declarations and code', item.at);
        }
        this.declaration(item, false, flow);
      } else {
        if (item.kind !== 'label') sawStatement = true;
        this.stmt(item, flow);
      }
    }
    if (scope) this.pop();
  }

  private emit(flow: Flow, i: P.Instr): number {
    flow.code.push(i);
    return flow.code.length - 1;
  }
  private patch(flow: Flow, at: number, to: number): void {
    (flow.code[at] as { to: number }).to = to;
  }

  private cond(e: A.Expr): P.Expr {
    const v = this.rvalue(this.expr(e));
    if (!isScalar(v.type)) {
      this.error(`used ${unqual(v.type).kind === 'struct' ? 'struct' : 'array'} type value where scalar is required`, exprStart(e));
    }
    return v;
  }

  private stmt(s: A.Stmt, flow: Flow): void {
    const span = s.at.span;
    switch (s.kind) {
      case 'block':
        return this.blockBody(s, flow);
      case 'decl':
        return this.declaration(s, false, flow);
      case 'empty':
        return;
      case 'expr': {
        const e = this.expr(s.expr);
        this.emit(flow, { op: 'expr', e: e.k === 'lvalue' ? this.rvalue(e) : e, span });
        return;
      }
      case 'if': {
        const c = this.cond(s.cond);
        const br = this.emit(flow, { op: 'branch-false', cond: c, to: -1, span });
        this.stmt(s.then, flow);
        if (s.else) {
          const j = this.emit(flow, { op: 'jump', to: -1, span });
          this.patch(flow, br, flow.code.length);
          this.stmt(s.else, flow);
          this.patch(flow, j, flow.code.length);
        } else {
          this.patch(flow, br, flow.code.length);
        }
        return;
      }
      case 'while':
      case 'for': {
        if (s.kind === 'for') this.push();
        if (s.kind === 'for' && s.init) {
          if (s.init.kind === 'decl') this.declaration(s.init, false, flow);
          else this.emit(flow, { op: 'expr', e: this.rvalue(this.expr(s.init.expr)), span });
        }
        const top = flow.code.length;
        const condExpr = s.kind === 'while' ? s.cond : s.cond;
        const br = condExpr ? this.emit(flow, { op: 'branch-false', cond: this.cond(condExpr), to: -1, span }) : -1;
        const inner: Flow = { ...flow, breaks: [], continues: [], inLoop: true };
        this.stmt(s.body, inner);
        const contTarget = flow.code.length;
        if (s.kind === 'for' && s.step) this.emit(flow, { op: 'expr', e: this.rvalue(this.expr(s.step)), span });
        this.emit(flow, { op: 'jump', to: top, span });
        const end = flow.code.length;
        if (br >= 0) this.patch(flow, br, end);
        for (const b of inner.breaks!) this.patch(flow, b, end);
        for (const c of inner.continues!) this.patch(flow, c, contTarget);
        if (s.kind === 'for') this.pop();
        return;
      }
      case 'do': {
        const top = flow.code.length;
        const inner: Flow = { ...flow, breaks: [], continues: [], inLoop: true };
        this.stmt(s.body, inner);
        const contTarget = flow.code.length;
        const c = this.cond(s.cond);
        const br = this.emit(flow, { op: 'branch-false', cond: c, to: -1, span });
        this.emit(flow, { op: 'jump', to: top, span });
        const end = flow.code.length;
        this.patch(flow, br, end);
        for (const b of inner.breaks!) this.patch(flow, b, end);
        for (const x of inner.continues!) this.patch(flow, x, contTarget);
        return;
      }
      case 'switch': {
        let v = this.rvalue(this.expr(s.cond));
        if (!isInteger(unqual(v.type))) {
          this.error('switch quantity not an integer', exprStart(s.cond));
          v = this.konst(0n, T.int, s.at);
        }
        const pt = promote(v.type);
        v = this.convert(v, pt, true);
        const sw = this.emit(flow, { op: 'switch', value: v, cases: [], default: -1, span });
        const inner: Flow = { ...flow, breaks: [], switchCases: [], inSwitch: true, switchType: pt };
        delete inner.switchDefault;
        this.stmt(s.body, inner);
        const end = flow.code.length;
        (flow.code[sw] as { cases: unknown }).cases = inner.switchCases!.map((c) => ({ low: c.low, high: c.high, to: c.to }));
        (flow.code[sw] as { default: number }).default = inner.switchDefault ?? end;
        for (const b of inner.breaks!) this.patch(flow, b, end);
        return;
      }
      case 'case': {
        if (!flow.switchCases) {
          this.error('case label not within a switch statement', s.at);
          return this.stmt(s.body, flow);
        }
        const low = this.constInt(this.rvalue(this.expr(s.value)), s.value);
        const high = s.high ? this.constInt(this.rvalue(this.expr(s.high)), s.high) : low;
        if (low !== undefined && high !== undefined) {
          const l = wrap(low, flow.switchType!);
          const h = wrap(high, flow.switchType!);
          const dup = flow.switchCases.find((c) => !(h < c.low || l > c.high));
          if (dup) this.error('duplicate case value', exprStart(s.value), { notes: [this.note('previously used here', dup.at)].filter(Boolean) as Diagnostic[] });
          else flow.switchCases.push({ low: l, high: h, to: flow.code.length, at: exprStart(s.value) });
        }
        return this.stmt(s.body, flow);
      }
      case 'default':
        if (!flow.switchCases) {
          this.error(`'default' label not within a switch statement`, s.at);
        } else if (flow.switchDefault !== undefined) {
          this.error(`multiple default labels in one switch`, s.at);
        } else flow.switchDefault = flow.code.length;
        return this.stmt(s.body, flow);
      case 'label': {
        const fn = this.fn!;
        if (fn.labels.has(s.name.text)) this.error(`duplicate label '${s.name.text}'`, s.name);
        fn.labels.set(s.name.text, flow.code.length);
        this.labelTokens.set(s.name.text, s.name);
        return this.stmt(s.body, flow);
      }
      case 'goto': {
        const fn = this.fn!;
        fn.usedLabels.add(s.label.text);
        const at = this.emit(flow, { op: 'jump', to: -1, span });
        fn.gotos.push({ at, label: s.label, code: flow.code });
        return;
      }
      case 'break':
        if (!flow.breaks) {
          this.error('break statement not within loop or switch', s.at);
          return;
        }
        flow.breaks.push(this.emit(flow, { op: 'jump', to: -1, span }));
        return;
      case 'continue':
        if (!flow.continues) {
          this.error('continue statement not within a loop', s.at);
          return;
        }
        flow.continues.push(this.emit(flow, { op: 'jump', to: -1, span }));
        return;
      case 'return':
        return this.returnStmt(s, flow);
    }
  }

  private returnStmt(s: Extract<A.Stmt, { kind: 'return' }>, flow: Flow): void {
    const fn = this.fn!;
    const ret = unqual(fn.type.ret);
    const declared = this.note('declared here', fn.decl);
    if (!s.value) {
      if (ret.kind !== 'void') this.warn('return-type', `'return' with no value, in function returning non-void`, s.at, declared ? { notes: [declared] } : {});
      this.emit(flow, { op: 'return', span: s.at.span });
      return;
    }
    const v = this.rvalue(this.expr(s.value));
    if (ret.kind === 'void') {
      if (unqual(v.type).kind !== 'void') {
        this.warn('return-type', `'return' with a value, in function returning void`, exprStart(s.value), declared ? { notes: [declared] } : {});
      }
      this.emit(flow, { op: 'expr', e: v, span: s.at.span });
      this.emit(flow, { op: 'return', span: s.at.span });
      return;
    }
    const value = this.convertAssign(v, fn.type.ret, 'return', s.value);
    this.emit(flow, { op: 'return', value, span: s.at.span });
  }

  // ---- expressions ----

  private konst(value: bigint, type: CType, at: Token): P.Expr {
    return { k: 'const', value: wrap(value, type), type, span: at.span };
  }

  /** An expression standing for one already reported: nothing more is said about it. */
  private readonly poisoned = new WeakSet<object>();
  private poison(at: Token): P.Expr {
    const e = this.konst(0n, T.int, at);
    this.poisoned.add(e);
    return e;
  }

  /** An expression's value, or (for an lvalue) the place: `lvalue` results are wrapped. */
  private expr(e: A.Expr): P.Expr | ({ k: 'lvalue'; lv: P.LValue } & { type: CType; span: Span }) {
    switch (e.kind) {
      case 'int':
        return this.intLiteral(e);
      case 'float':
        this.error('floating-point constants are not supported (the kernel is built without the FPU)', e.at);
        return this.konst(0n, T.int, e.at);
      case 'char': {
        const v = parseCharConstant(e.text, this.o.charSigned) ?? 0;
        return this.konst(BigInt(v), T.int, e.at);
      }
      case 'string': {
        const lv = this.stringLiteral(e);
        return { k: 'lvalue', lv, type: lv.type, span: e.at.span };
      }
      case 'ident':
        return this.identifier(e);
      case 'binary':
        return this.binary(e);
      case 'assign':
        return this.assign(e);
      case 'unary':
        return this.unary(e);
      case 'postfix': {
        const lv = this.modifiable(e.operand, e.op === '++' ? 'increment' : 'decrement', e.at);
        if (!lv) return this.konst(0n, T.int, e.at);
        return { k: 'incdec', op: e.op, prefix: false, target: lv, scale: this.stepOf(lv.type, e.at), type: unqual(lv.type), span: e.at.span };
      }
      case 'cond':
        return this.conditional(e);
      case 'comma': {
        const l = this.rvalue(this.expr(e.left));
        const r = this.rvalue(this.expr(e.right));
        return { k: 'comma', left: l, right: r, type: r.type, span: e.at.span };
      }
      case 'call':
        return this.call(e);
      case 'index':
        return this.index(e);
      case 'member':
        return this.member(e);
      case 'cast':
        return this.cast(e);
      case 'compound-literal': {
        const t = this.typeOfName(e.type);
        this.error('compound literals are not supported', e.at);
        return this.konst(0n, unqual(t).kind === 'int' ? t : T.int, e.at);
      }
      case 'sizeof-expr': {
        const v = this.expr(e.operand);
        const t = v.type;
        return this.sizeofType(t, e.at, e.operand.kind === 'ident' ? e.operand.name : undefined);
      }
      case 'sizeof-type':
        return this.sizeofType(this.typeOfName(e.type), e.at);
      case 'alignof':
        return this.konst(BigInt(alignOf(this.typeOfName(e.type))), T.ulong, e.at);
      case 'offsetof': {
        let t = this.typeOfName(e.type);
        let off = 0;
        for (const d of e.path) {
          const u = unqual(t);
          if (d.kind === 'field') {
            if (u.kind !== 'struct') {
              this.error('request for member in something not a structure or union', d.name);
              break;
            }
            const f = findMember(u.def, d.name.text);
            if (!f) {
              this.memberNotFound(u.def, d.name, t);
              break;
            }
            off += f.offset;
            t = f.type;
          } else if (u.kind === 'array') {
            off += Number(this.constInt(this.rvalue(this.expr(d.index)), d.index) ?? 0n) * (sizeOf(u.of) ?? 0);
            t = u.of;
          }
        }
        return this.konst(BigInt(off), T.ulong, e.at);
      }
      case 'stmt-expr':
        return this.stmtExpr(e);
    }
  }

  private sizeofType(t: CType, at: Token, name?: string): P.Expr {
    const u = unqual(t);
    if (u.kind === 'function') this.warn('pointer-arith', `invalid application of 'sizeof' to a function type`, at);
    const s = sizeOf(t);
    if (s === undefined) {
      this.error(`invalid application of 'sizeof' to incomplete type '${typeName(t)}'`, at);
      return this.konst(0n, T.ulong, at);
    }
    void name;
    return this.konst(BigInt(s), T.ulong, at);
  }

  private intLiteral(e: Extract<A.Expr, { kind: 'int' }>): P.Expr {
    const lit = parseIntegerLiteral(e.text);
    if (!lit) {
      const suffix = /^[0-9a-fA-FxX]+?([g-wyzG-WYZ_].*)$/.exec(e.text)?.[1];
      if (/^0[0-7]*[89]/.test(e.text)) this.error(`invalid digit "${/[89]/.exec(e.text)![0]}" in octal constant`, e.at);
      else this.error(`invalid suffix "${suffix ?? e.text}" on integer constant`, e.at);
      return this.konst(0n, T.int, e.at);
    }
    // C11 6.4.4.1: the first type of the list that can represent it.
    const v = lit.value;
    const candidates: CType[] = [];
    if (lit.longs === 0) candidates.push(...(lit.unsigned ? [T.uint] : lit.decimal ? [T.int] : [T.int, T.uint]));
    if (lit.longs <= 1) candidates.push(...(lit.unsigned ? [T.ulong] : lit.decimal ? [T.long] : [T.long, T.ulong]));
    candidates.push(...(lit.unsigned ? [T.ullong] : lit.decimal ? [T.llong] : [T.llong, T.ullong]));
    for (const c of candidates) {
      const ci = c as Extract<CType, { kind: 'int' }>;
      const max = ci.signed ? (1n << BigInt(ci.size * 8 - 1)) - 1n : (1n << BigInt(ci.size * 8)) - 1n;
      if (v <= max) return this.konst(v, c, e.at);
    }
    if (v <= (1n << 64n) - 1n) {
      this.warn('', 'integer constant is so large that it is unsigned', e.at);
      return this.konst(v, T.ulong, e.at);
    }
    this.error('integer constant is too large for its type', e.at);
    return this.konst(wrap(v, T.ullong), T.ullong, e.at);
  }

  private stringBytes(e: Extract<A.Expr, { kind: 'string' }>): number[] {
    const bytes: number[] = [];
    for (const p of e.parts) {
      const { bytes: b, problems } = decodeLiteralBody(p.text);
      for (const pr of problems) {
        if (pr.message.startsWith('unknown escape')) this.warn('', pr.message, p);
        else this.error(pr.message, p);
      }
      bytes.push(...b);
    }
    return bytes;
  }

  private stringLiteral(e: Extract<A.Expr, { kind: 'string' }>): P.LValue {
    const bytes = [...this.stringBytes(e), 0];
    const id = this.internString(bytes);
    return { k: 'string', id, type: { kind: 'array', of: T.char(this.o.charSigned), length: bytes.length }, span: e.at.span };
  }

  private internString(bytes: number[]): number {
    const id = this.strings.length;
    this.strings.push({ id, bytes });
    return id;
  }

  private identifier(e: Extract<A.Expr, { kind: 'ident' }>): P.Expr | ({ k: 'lvalue'; lv: P.LValue } & { type: CType; span: Span }) {
    if (e.name === '__func__' || e.name === '__FUNCTION__' || e.name === '__PRETTY_FUNCTION__') {
      const name = this.fn?.name ?? '';
      const bytes = [...new TextEncoder().encode(name), 0];
      const id = this.internString(bytes);
      const t: CType = { kind: 'array', of: { ...T.char(this.o.charSigned), isConst: true }, length: bytes.length };
      return { k: 'lvalue', lv: { k: 'string', id, type: t, span: e.at.span }, type: t, span: e.at.span };
    }
    const s = this.lookup(e.name);
    if (!s) {
      if (!this.fn) {
        this.error(`'${e.name}' undeclared here (not in a function)`, e.at);
      } else if (!this.fn.undeclared.has(e.name)) {
        this.fn.undeclared.add(e.name);
        const hint = suggest(e.name, this.visibleNames());
        const notes: Diagnostic[] = [];
        if (!this.undeclaredNoteShown) {
          this.undeclaredNoteShown = true;
          notes.push({ severity: 'note', message: 'each undeclared identifier is reported only once for each function it appears in', span: e.at.span, noQuote: true });
        }
        this.error(`'${e.name}' undeclared (first use in this function)${hint ? `; did you mean '${hint}'?` : ''}`, e.at, { notes, ...(hint ? { fixit: hint } : {}) });
      }
      return this.poison(e.at);
    }
    switch (s.kind) {
      case 'typedef':
        this.error(`expected expression before '${e.name}'`, e.at);
        return this.konst(0n, T.int, e.at);
      case 'enum-const':
        return this.konst(s.value, T.int, e.at);
      case 'global':
        s.used = true;
        return { k: 'lvalue', lv: { k: 'global', name: s.name, type: s.type, span: e.at.span }, type: s.type, span: e.at.span };
      case 'local':
        s.used = true;
        return { k: 'lvalue', lv: { k: 'local', slot: s.slot, type: s.type, span: e.at.span }, type: s.type, span: e.at.span };
      case 'function':
        s.used = true;
        return { k: 'func', name: s.name, type: s.type, span: e.at.span };
    }
  }

  private visibleNames(): string[] {
    const out: string[] = [];
    for (const sc of this.scopes) for (const [n, s] of sc) if (s.kind === 'local' || s.kind === 'global' || s.kind === 'enum-const' || (s.kind === 'function' && !n.startsWith('__'))) out.push(n);
    return out;
  }

  /** Lvalue conversion: arrays decay, functions become pointers, other lvalues are loaded. */
  private rvalue(v: P.Expr | ({ k: 'lvalue'; lv: P.LValue } & { type: CType; span: Span }), keepArrays = false): P.Expr {
    if (v.k === 'lvalue') {
      const t = v.lv.type;
      if (unqual(t).kind === 'array' && !keepArrays) {
        const a = unqual(t) as Extract<CType, { kind: 'array' }>;
        return { k: 'decay', lv: v.lv, type: pointerTo(a.of), span: v.span };
      }
      return { k: 'load', lv: v.lv, type: unqual(t).kind === 'struct' ? t : { ...unqual(t), ...(t.typedefName ? { typedefName: t.typedefName } : {}) }, span: v.span };
    }
    if (v.k === 'func' && !keepArrays) return { k: 'cast', operand: v, implicit: true, type: pointerTo(v.type), span: v.span };
    return v;
  }

  private lvalueOf(e: A.Expr): P.LValue | undefined {
    const v = this.expr(e);
    return v.k === 'lvalue' ? v.lv : undefined;
  }

  /** The operand of an assignment or ++/--: a modifiable lvalue, with gcc's errors when not. */
  private modifiable(e: A.Expr, what: 'assignment' | 'increment' | 'decrement', at: Token): P.LValue | undefined {
    const v = this.expr(e);
    if (this.poisoned.has(v)) return undefined;
    if (v.k !== 'lvalue') {
      this.error(what === 'assignment' ? 'lvalue required as left operand of assignment' : `lvalue required as ${what} operand`, at);
      return undefined;
    }
    const lv = v.lv;
    const u = unqual(lv.type);
    if (u.kind === 'array') {
      this.error(what === 'assignment' ? `assignment to expression with array type` : `lvalue required as ${what} operand`, at);
      return undefined;
    }
    if (lv.type.isConst || lv.k === 'string') {
      const verb = what === 'assignment' ? 'assignment of' : `${what} of`;
      if (lv.k === 'global' || lv.k === 'local') this.error(`${verb} read-only variable '${e.kind === 'ident' ? e.name : ''}'`, at);
      else if (lv.k === 'member') this.error(`${verb} member '${lv.field}' in read-only object`, at);
      else this.error(`${verb} read-only location '${this.exprText(e)}'`, at);
      return undefined;
    }
    if (lv.k === 'member' && this.constBase(lv.base)) {
      this.error(`${what === 'assignment' ? 'assignment' : what} of member '${lv.field}' in read-only object`, at);
      return undefined;
    }
    return lv;
  }

  private constBase(lv: P.LValue): boolean {
    if (lv.type.isConst) return true;
    return lv.k === 'member' ? this.constBase(lv.base) : false;
  }

  private exprText(e: A.Expr): string {
    const a = exprStart(e).span;
    return a.file.text.slice(a.start, Math.max(a.end, a.start)).trim();
  }

  private stepOf(t: CType, at: Token): number {
    const u = unqual(t);
    if (u.kind === 'pointer') {
      const s = sizeOf(u.to);
      if (s === undefined) this.error(`increment of pointer to an incomplete type '${typeName(u.to)}'`, at);
      return s ?? 1;
    }
    if (!isScalar(u)) this.error(`wrong type argument to increment`, at);
    return 1;
  }

  private convert(v: P.Expr, to: CType, implicit: boolean): P.Expr {
    if (compatible(v.type, to) && sizeOf(v.type) === sizeOf(to) && unqual(v.type).kind !== 'int') return v;
    const fu = unqual(v.type);
    const tu = unqual(to);
    if (fu.kind === 'int' && tu.kind === 'int' && fu.name === tu.name && fu.enumDef === tu.enumDef) return v;
    if (v.k === 'const' && tu.kind === 'int') return { k: 'const', value: wrap(v.value, tu), type: to, span: v.span };
    if (v.k === 'const' && tu.kind === 'pointer' && fu.kind === 'int') return { k: 'const', value: wrap(v.value, T.ulong), type: to, span: v.span };
    return { k: 'cast', operand: v, implicit, type: to, span: v.span };
  }

  private isNullConstant(v: P.Expr): boolean {
    const c = this.constValue(v);
    if (c !== 0n) return false;
    const u = unqual(v.type);
    return u.kind === 'int' || (u.kind === 'pointer' && u.to.kind === 'void');
  }

  /**
   * Converts for assignment, initialization, argument passing or return (C11 6.5.16.1), with
   * gcc's warnings (-Wint-conversion, -Wincompatible-pointer-types, -Wdiscarded-qualifiers).
   */
  private convertAssign(v: P.Expr, to: CType, ctx: 'assign' | 'init' | 'return' | 'arg', at: A.Expr, what?: string, argNo?: number, fnName?: string): P.Expr {
    const fu = unqual(v.type);
    const tu = unqual(to);
    const loc = exprStart(at);
    const describe = (kind: string): string => {
      const from = quoteType(v.type);
      const target = quoteType(to);
      switch (ctx) {
        case 'assign':
          return `assignment to ${target} from ${kind === 'incompatible' ? 'incompatible pointer type ' : ''}${from}${kind === 'ptr-from-int' ? ' makes pointer from integer without a cast' : kind === 'int-from-ptr' ? ' makes integer from pointer without a cast' : ''}`;
        case 'init':
          return `initialization of ${target} from ${kind === 'incompatible' ? 'incompatible pointer type ' : ''}${from}${kind === 'ptr-from-int' ? ' makes pointer from integer without a cast' : kind === 'int-from-ptr' ? ' makes integer from pointer without a cast' : ''}`;
        case 'return':
          return `returning ${from} from a function with ${kind === 'incompatible' ? 'incompatible ' : ''}return type ${target}${kind === 'ptr-from-int' ? ' makes pointer from integer without a cast' : kind === 'int-from-ptr' ? ' makes integer from pointer without a cast' : ''}`;
        default:
          return `passing argument ${argNo} of '${fnName}' ${kind === 'incompatible' ? 'from incompatible pointer type' : kind === 'ptr-from-int' ? 'makes pointer from integer without a cast' : 'makes integer from pointer without a cast'}`;
      }
    };
    const argNote = (): Partial<Diagnostic> =>
      ctx === 'arg' ? {} : ctx === 'init' && what?.includes('.') ? { notes: [{ severity: 'note', message: `(near initialization for '${what}')`, span: loc.span }] } : {};
    if (tu.kind === 'void') return v;
    if (isArithmetic(tu) && isArithmetic(fu)) return this.convert(v, to, true);
    if (tu.kind === 'int' && tu.name === '_Bool' && fu.kind === 'pointer') return this.convert(v, to, true);
    if (tu.kind === 'struct') {
      if (fu.kind === 'struct' && fu.def === tu.def) return v;
      this.error(ctx === 'assign' ? `incompatible types when assigning to type ${quoteType(to)} from type ${quoteType(v.type)}` : ctx === 'return' ? `incompatible types when returning type ${quoteType(v.type)} but ${quoteType(to)} was expected` : ctx === 'init' ? `incompatible types when initializing type ${quoteType(to)} using type ${quoteType(v.type)}` : `incompatible type for argument ${argNo} of '${fnName}'`, loc);
      return v;
    }
    if (tu.kind === 'pointer') {
      if (fu.kind === 'int') {
        if (this.isNullConstant(v)) return this.convert(v, to, true);
        this.warn('int-conversion', describe('ptr-from-int'), loc, argNote());
        return this.convert(v, to, true);
      }
      if (fu.kind === 'pointer') {
        const ft = fu.to;
        const tt = tu.to;
        const discards = (ft.isConst && !tt.isConst) || (ft.isVolatile && !tt.isVolatile);
        const ok = isVoidPointer(fu) || isVoidPointer(tu) ? unqual(ft).kind !== 'function' || unqual(tt).kind !== 'function' || true : compatible(unqual(ft), unqual(tt));
        if (!ok && !this.isNullConstant(v)) {
          this.warn('incompatible-pointer-types', describe('incompatible'), loc, argNote());
        } else if (discards && !(isVoidPointer(fu) && this.isNullConstant(v))) {
          const q = ft.isConst && !tt.isConst ? 'const' : 'volatile';
          const msg = ctx === 'arg' ? `passing argument ${argNo} of '${fnName}' discards '${q}' qualifier from pointer target type` : ctx === 'return' ? `return discards '${q}' qualifier from pointer target type` : `${ctx === 'init' ? 'initialization' : 'assignment'} discards '${q}' qualifier from pointer target type`;
          this.warn('discarded-qualifiers', msg, loc);
        }
        return this.convert(v, to, true);
      }
    }
    if (tu.kind === 'int' && fu.kind === 'pointer') {
      this.warn('int-conversion', describe('int-from-ptr'), loc, argNote());
      return this.convert(v, to, true);
    }
    this.error(ctx === 'assign' ? `incompatible types when assigning to type ${quoteType(to)} from type ${quoteType(v.type)}` : ctx === 'init' ? `invalid initializer` : ctx === 'return' ? `incompatible types when returning type ${quoteType(v.type)} but ${quoteType(to)} was expected` : `incompatible type for argument ${argNo} of '${fnName}'`, loc);
    return v;
  }

  private binary(e: Extract<A.Expr, { kind: 'binary' }>): P.Expr {
    const op = e.op;
    if (op === '&&' || op === '||') {
      const l = this.cond(e.left);
      const r = this.cond(e.right);
      return { k: 'logical', op, left: l, right: r, type: T.int, span: e.at.span };
    }
    const l = this.rvalue(this.expr(e.left));
    const r = this.rvalue(this.expr(e.right));
    return this.arith(op, l, r, e.at);
  }

  private invalidOperands(op: string, l: P.Expr, r: P.Expr, at: Token): P.Expr {
    this.error(`invalid operands to binary ${op} (have ${quoteType(l.type)} and ${quoteType(r.type)})`, at);
    return this.konst(0n, T.int, at);
  }

  /** A binary operator on rvalues, with C's conversions; `at` is the operator. */
  private arith(op: string, l: P.Expr, r: P.Expr, at: Token): P.Expr {
    const lu = unqual(l.type);
    const ru = unqual(r.type);
    const span = at.span;
    if (['<', '>', '<=', '>=', '==', '!='].includes(op)) {
      const cop = op as '<';
      if (isArithmetic(lu) && isArithmetic(ru)) {
        const t = usualArithmetic(lu, ru);
        return this.fold({ k: 'cmp', op: cop, left: this.convert(l, t, true), right: this.convert(r, t, true), type: T.int, span });
      }
      if (lu.kind === 'pointer' && ru.kind === 'pointer') {
        if (!compatible(unqual(lu.to), unqual(ru.to)) && !isVoidPointer(lu) && !isVoidPointer(ru)) {
          this.warn('compare-distinct-pointer-types', `comparison of distinct pointer types lacks a cast`, at);
        }
        return { k: 'cmp', op: cop, left: this.convert(l, T.ulong, true), right: this.convert(r, T.ulong, true), type: T.int, span };
      }
      if ((lu.kind === 'pointer' && ru.kind === 'int') || (lu.kind === 'int' && ru.kind === 'pointer')) {
        const intSide = lu.kind === 'int' ? l : r;
        if (!this.isNullConstant(intSide) || (op !== '==' && op !== '!=')) this.warn('', 'comparison between pointer and integer', at);
        return { k: 'cmp', op: cop, left: this.convert(l, T.ulong, true), right: this.convert(r, T.ulong, true), type: T.int, span };
      }
      return this.invalidOperands(op, l, r, at);
    }
    if (op === '+' || op === '-') {
      if (lu.kind === 'pointer' && isInteger(ru)) return this.ptrAdd(l, r, op === '-', at);
      if (op === '+' && isInteger(lu) && ru.kind === 'pointer') return this.ptrAdd(r, l, false, at);
      if (op === '-' && lu.kind === 'pointer' && ru.kind === 'pointer') {
        if (!compatible(unqual(lu.to), unqual(ru.to))) return this.invalidOperands(op, l, r, at);
        const s = sizeOf(lu.to) ?? 1;
        return { k: 'ptrdiff', left: l, right: r, scale: s, type: T.long, span };
      }
    }
    if (!isInteger(lu) || !isInteger(ru)) {
      if (lu.kind === 'float' || ru.kind === 'float') return this.konst(0n, T.int, at);
      return this.invalidOperands(op, l, r, at);
    }
    if (op === '<<' || op === '>>') {
      const t = promote(lu);
      const rt = promote(ru);
      const rc = this.constValue(r);
      const w = BigInt((sizeOf(t) ?? 4) * 8);
      if (rc !== undefined && rc < 0n) this.warn('shift-count-negative', `${op === '<<' ? 'left' : 'right'} shift count is negative`, at);
      else if (rc !== undefined && rc >= w) this.warn('shift-count-overflow', `${op === '<<' ? 'left' : 'right'} shift count >= width of type`, at);
      return this.fold({ k: 'binary', op, left: this.convert(l, t, true), right: this.convert(r, rt, true), type: t, span });
    }
    const t = usualArithmetic(lu, ru);
    if ((op === '/' || op === '%') && this.constValue(r) === 0n) this.warn('div-by-zero', 'division by zero', at);
    return this.fold({ k: 'binary', op: op as '+', left: this.convert(l, t, true), right: this.convert(r, t, true), type: t, span });
  }

  private ptrAdd(p: P.Expr, i: P.Expr, negate: boolean, at: Token): P.Expr {
    const pu = unqual(p.type) as Extract<CType, { kind: 'pointer' }>;
    const s = sizeOf(pu.to);
    if (s === undefined) this.error(`invalid use of undefined type '${typeName(pu.to)}'`, at);
    let idx = this.convert(i, T.long, true);
    if (negate) idx = this.fold({ k: 'unary', op: '-', operand: idx, type: T.long, span: at.span });
    return { k: 'ptradd', ptr: p, index: idx, scale: s ?? 1, type: p.type, span: at.span };
  }

  /** Folds an operation on constants to a constant. */
  private fold(e: P.Expr): P.Expr {
    const v = this.constValue(e);
    return v === undefined ? e : { k: 'const', value: v, type: e.type, span: e.span };
  }

  /** The value of an integer constant expression, or undefined. */
  constValue(e: P.Expr): bigint | undefined {
    switch (e.k) {
      case 'const':
        return e.value;
      case 'cast': {
        if (unqual(e.type).kind !== 'int' && unqual(e.type).kind !== 'pointer') return undefined;
        const v = this.constValue(e.operand);
        if (v === undefined) return undefined;
        if (unqual(e.operand.type).kind === 'pointer' && unqual(e.type).kind === 'int' && e.operand.k !== 'const') return undefined;
        return wrap(v, e.type);
      }
      case 'binary': {
        const a = this.constValue(e.left);
        const b = this.constValue(e.right);
        if (a === undefined || b === undefined) return undefined;
        return intBinary(e.op, a, b, e.type);
      }
      case 'cmp': {
        const a = this.constValue(e.left);
        const b = this.constValue(e.right);
        if (a === undefined || b === undefined) return undefined;
        return intCompare(e.op, a, b);
      }
      case 'unary': {
        const a = this.constValue(e.operand);
        if (a === undefined) return undefined;
        return e.op === '-' ? wrap(-a, e.type) : e.op === '~' ? wrap(~a, e.type) : a === 0n ? 1n : 0n;
      }
      case 'logical': {
        const a = this.constValue(e.left);
        if (a === undefined) return undefined;
        if (e.op === '&&' && a === 0n) return 0n;
        if (e.op === '||' && a !== 0n) return 1n;
        const b = this.constValue(e.right);
        return b === undefined ? undefined : b !== 0n ? 1n : 0n;
      }
      case 'cond': {
        const c = this.constValue(e.cond);
        if (c === undefined) return undefined;
        return this.constValue(c !== 0n ? e.then : e.else);
      }
      case 'builtin':
        if (e.name === '__builtin_expect') return this.constValue(e.args[0]!);
        if (e.name === '__builtin_constant_p') return 0n;
        return undefined;
      default:
        return undefined;
    }
  }

  private constInt(e: P.Expr, at: A.Expr, report = true): bigint | undefined {
    const v = this.constValue(e);
    if (v === undefined && report) this.error('expression must be an integer constant', exprStart(at));
    return v;
  }

  private assign(e: Extract<A.Expr, { kind: 'assign' }>): P.Expr {
    const target = this.modifiable(e.left, 'assignment', e.at);
    const value = this.rvalue(this.expr(e.right));
    if (!target) return value;
    const tt = target.type;
    if (e.op === '=') {
      const v = this.convertAssign(value, tt, 'assign', e.right);
      return { k: 'assign', target, value: v, type: unqual(tt), span: e.at.span };
    }
    const op = e.op.slice(0, -1);
    const tu = unqual(tt);
    if (tu.kind === 'pointer' && (op === '+' || op === '-') && isInteger(unqual(value.type))) {
      return { k: 'compound', op, target, value: this.convert(value, T.long, true), opType: tu, scale: sizeOf(tu.to) ?? 1, type: tu, span: e.at.span };
    }
    if (!isInteger(tu) || !isInteger(unqual(value.type))) {
      this.error(`invalid operands to binary ${op} (have ${quoteType(tt)} and ${quoteType(value.type)})`, e.at);
      return value;
    }
    const opType = op === '<<' || op === '>>' ? promote(tu) : usualArithmetic(tu, value.type);
    const rv = op === '<<' || op === '>>' ? this.convert(value, promote(value.type), true) : this.convert(value, opType, true);
    return { k: 'compound', op, target, value: rv, opType, type: tu, span: e.at.span };
  }

  private unary(e: Extract<A.Expr, { kind: 'unary' }>): P.Expr | ({ k: 'lvalue'; lv: P.LValue } & { type: CType; span: Span }) {
    const span = e.at.span;
    switch (e.op) {
      case '&': {
        const v = this.expr(e.operand);
        if (v.k === 'func') return { k: 'cast', operand: v, implicit: true, type: pointerTo(v.type), span };
        if (v.k !== 'lvalue') {
          this.error(`lvalue required as unary '&' operand`, e.at);
          return this.konst(0n, T.int, e.at);
        }
        return { k: 'addr', lv: v.lv, type: pointerTo(v.lv.type), span };
      }
      case '*': {
        const v = this.rvalue(this.expr(e.operand));
        const u = unqual(v.type);
        if (u.kind !== 'pointer') {
          this.error(`invalid type argument of unary '*' (have ${quoteType(v.type)})`, e.at);
          return this.konst(0n, T.int, e.at);
        }
        if (unqual(u.to).kind === 'function') return v;
        if (unqual(u.to).kind === 'void') this.warn('', `dereferencing 'void *' pointer`, e.at);
        return { k: 'lvalue', lv: { k: 'deref', ptr: v, type: u.to, span }, type: u.to, span };
      }
      case '++':
      case '--': {
        const lv = this.modifiable(e.operand, e.op === '++' ? 'increment' : 'decrement', e.at);
        if (!lv) return this.konst(0n, T.int, e.at);
        return { k: 'incdec', op: e.op, prefix: true, target: lv, scale: this.stepOf(lv.type, e.at), type: unqual(lv.type), span };
      }
      case '!': {
        const v = this.cond(e.operand);
        return this.fold({ k: 'unary', op: '!', operand: v, type: T.int, span });
      }
      default: {
        const v = this.rvalue(this.expr(e.operand));
        const u = unqual(v.type);
        if (!isInteger(u)) {
          this.error(`wrong type argument to unary ${e.op === '~' ? 'complement' : e.op === '-' ? 'minus' : 'plus'}`, e.at);
          return v;
        }
        const t = promote(u);
        const c = this.convert(v, t, true);
        if (e.op === '+') return c;
        return this.fold({ k: 'unary', op: e.op as '-', operand: c, type: t, span });
      }
    }
  }

  private conditional(e: Extract<A.Expr, { kind: 'cond' }>): P.Expr {
    const c = this.cond(e.cond);
    const a = this.rvalue(this.expr(e.then));
    const b = this.rvalue(this.expr(e.else));
    const au = unqual(a.type);
    const bu = unqual(b.type);
    let t: CType;
    if (isArithmetic(au) && isArithmetic(bu)) t = usualArithmetic(au, bu);
    else if (au.kind === 'void' || bu.kind === 'void') t = T.void;
    else if (au.kind === 'pointer' && bu.kind === 'pointer') t = isVoidPointer(au) ? b.type : a.type;
    else if (au.kind === 'pointer' && this.isNullConstant(b)) t = a.type;
    else if (bu.kind === 'pointer' && this.isNullConstant(a)) t = b.type;
    else if (au.kind === 'struct' && bu.kind === 'struct' && au.def === bu.def) t = a.type;
    else {
      if (au.kind === 'pointer' || bu.kind === 'pointer') this.warn('int-conversion', 'pointer/integer type mismatch in conditional expression', e.at);
      else this.error('type mismatch in conditional expression', e.at);
      t = au.kind === 'pointer' ? a.type : b.type;
    }
    const conv = (v: P.Expr): P.Expr => (unqual(t).kind === 'void' ? v : this.convert(v, t, true));
    return this.fold({ k: 'cond', cond: c, then: conv(a), else: conv(b), type: t, span: e.at.span });
  }

  private index(e: Extract<A.Expr, { kind: 'index' }>): P.Expr | ({ k: 'lvalue'; lv: P.LValue } & { type: CType; span: Span }) {
    let base = this.rvalue(this.expr(e.base));
    let idx = this.rvalue(this.expr(e.index));
    if (unqual(base.type).kind !== 'pointer' && unqual(idx.type).kind === 'pointer') [base, idx] = [idx, base];
    const bu = unqual(base.type);
    if (bu.kind !== 'pointer') {
      this.error('subscripted value is neither array nor pointer nor vector', e.at);
      return this.konst(0n, T.int, e.at);
    }
    if (!isInteger(unqual(idx.type))) {
      this.error('array subscript is not an integer', e.at);
      return this.konst(0n, T.int, e.at);
    }
    const p = this.ptrAdd(base, idx, false, e.at);
    return { k: 'lvalue', lv: { k: 'deref', ptr: p, type: bu.to, span: e.at.span }, type: bu.to, span: e.at.span };
  }

  private member(e: Extract<A.Expr, { kind: 'member' }>): P.Expr | ({ k: 'lvalue'; lv: P.LValue } & { type: CType; span: Span }) {
    const span = e.name.span;
    let baseLv: P.LValue | undefined;
    let st: CType;
    if (e.arrow) {
      const p = this.rvalue(this.expr(e.base));
      const pu = unqual(p.type);
      if (pu.kind !== 'pointer') {
        this.error(`invalid type argument of '->' (have ${quoteType(p.type)})`, e.at);
        return this.konst(0n, T.int, e.name);
      }
      st = pu.to;
      baseLv = { k: 'deref', ptr: p, type: st, span: e.at.span };
    } else {
      const v = this.expr(e.base);
      st = v.type;
      if (v.k === 'lvalue') baseLv = v.lv;
      else if (unqual(v.type).kind === 'struct') baseLv = { k: 'temp', value: v, offset: 0, type: v.type, span: v.span };
    }
    const su = unqual(st);
    if (su.kind !== 'struct') {
      const pointerNote = e.arrow ? '' : su.kind === 'pointer' && unqual(su.to).kind === 'struct' ? ` (maybe you meant to use '->' ?)` : '';
      this.error(`request for member '${e.name.text}' in something not a structure or union${pointerNote}`, e.arrow ? e.at : e.at);
      return this.konst(0n, T.int, e.name);
    }
    if (!su.def.complete) {
      this.error(`invalid use of undefined type ${quoteType(st)}`, e.at);
      return this.konst(0n, T.int, e.name);
    }
    const f = findMember(su.def, e.name.text);
    if (!f) {
      this.memberNotFound(su.def, e.name, st);
      return this.poison(e.name);
    }
    const ft: CType = st.isConst && !f.type.isConst ? ({ ...f.type, isConst: true } as CType) : f.type;
    const lv: P.LValue = { k: 'member', base: baseLv!, offset: f.offset, field: e.name.text, type: ft, span };
    return { k: 'lvalue', lv, type: ft, span };
  }

  private cast(e: Extract<A.Expr, { kind: 'cast' }>): P.Expr {
    const t = this.typeOfName(e.type);
    const v = this.rvalue(this.expr(e.operand));
    const tu = unqual(t);
    const fu = unqual(v.type);
    if (tu.kind === 'void') return { k: 'cast', operand: v, implicit: false, type: T.void, span: e.at.span };
    if (tu.kind === 'struct' || tu.kind === 'array') {
      this.error(`conversion to non-scalar type requested`, e.at);
      return v;
    }
    if (!isScalar(fu)) {
      this.error(`used ${fu.kind === 'struct' ? 'struct' : 'void'} type value where scalar is required`, e.at);
      return this.konst(0n, isScalar(tu) ? t : T.int, e.at);
    }
    if (tu.kind === 'int' && fu.kind === 'pointer' && (sizeOf(tu) ?? 8) < 8) {
      this.warn('pointer-to-int-cast', 'cast from pointer to integer of different size', e.at);
    }
    if (tu.kind === 'pointer' && fu.kind === 'int' && (sizeOf(fu) ?? 8) < 8 && this.constValue(v) === undefined) {
      this.warn('int-to-pointer-cast', 'cast to pointer from integer of different size', e.at);
    }
    return this.fold({ k: 'cast', operand: v, implicit: false, type: t, span: e.at.span });
  }

  private stmtExpr(e: Extract<A.Expr, { kind: 'stmt-expr' }>): P.Expr {
    const code: P.Instr[] = [];
    const flow: Flow = { code, inLoop: false, inSwitch: false };
    this.push();
    const items = e.body.items;
    let result: P.Expr | undefined;
    items.forEach((item, i) => {
      if (i === items.length - 1 && item.kind === 'expr') {
        result = this.rvalue(this.expr(item.expr));
        return;
      }
      if (item.kind === 'decl') this.declaration(item, false, flow);
      else this.stmt(item, flow);
    });
    this.pop();
    return { k: 'stmt-expr', code, ...(result ? { result } : {}), type: result?.type ?? T.void, span: e.at.span };
  }

  // ---- calls ----

  private call(e: Extract<A.Expr, { kind: 'call' }>): P.Expr {
    const calleeTok = exprStart(e.callee);
    let callee: P.Expr;
    if (e.callee.kind === 'ident' && !this.lookup(e.callee.name)) {
      const name = e.callee.name;
      const b = this.builtinCall(name, e);
      if (b) return b;
      // An implicit declaration: `int name()` (an error in the kernel's build).
      this.warn('implicit-function-declaration', `implicit declaration of function '${name}'`, calleeTok);
      const t: FnType = { kind: 'function', ret: T.int, variadic: false };
      const sym: Sym = { kind: 'function', name, type: t, decl: calleeTok, used: true, defined: false, isStatic: false, implicit: true };
      this.scopes[0]!.set(name, sym);
      callee = { k: 'func', name, type: t, span: calleeTok.span };
    } else {
      if (e.callee.kind === 'ident' && e.callee.name.startsWith('__sim_kunit_')) {
        const k = this.kunitCall(e.callee.name, e);
        if (k) return k;
      }
      const v = this.expr(e.callee);
      callee = v.k === 'func' ? v : this.rvalue(v);
    }
    let ft: FnType | undefined;
    const cu = unqual(callee.type);
    if (cu.kind === 'function') ft = cu;
    else if (cu.kind === 'pointer' && unqual(cu.to).kind === 'function') ft = unqual(cu.to) as FnType;
    const fnName = callee.k === 'func' ? callee.name : this.exprText(e.callee);
    if (!ft) {
      const quoted = e.callee.kind === 'ident' ? `called object '${e.callee.name}' is not a function or function pointer` : 'called object is not a function or function pointer';
      this.error(quoted, calleeTok);
      for (const a of e.args) this.rvalue(this.expr(a));
      return this.konst(0n, T.int, e.at);
    }
    const sym = callee.k === 'func' ? this.lookup(callee.name) : undefined;
    const declNote = sym && sym.kind === 'function' ? this.note('declared here', sym.decl) : undefined;
    const args: P.Expr[] = [];
    const params = ft.params;
    if (params) {
      if (e.args.length > params.length && !ft.variadic) {
        this.error(`too many arguments to function '${fnName}'`, calleeTok, declNote ? { notes: [declNote] } : {});
      } else if (e.args.length < params.length) {
        this.error(`too few arguments to function '${fnName}'`, calleeTok, declNote ? { notes: [declNote] } : {});
      }
    }
    e.args.forEach((a, i) => {
      const v = this.rvalue(this.expr(a));
      const pt = params?.[i];
      if (pt) {
        const before = this.diags.length;
        const conv = this.convertAssign(v, pt, 'arg', a, undefined, i + 1, fnName);
        if (this.diags.length > before && declNote) {
          const last = this.diags[this.diags.length - 1]!;
          this.diags[this.diags.length - 1] = { ...last, notes: [...(last.notes ?? []), { severity: 'note', message: `expected ${quoteType(pt)} but argument is of type ${quoteType(v.type)}`, span: declNote.span! }] };
        }
        args.push(conv);
      } else {
        // Default argument promotions.
        const u = unqual(v.type);
        args.push(isInteger(u) ? this.convert(v, promote(u), true) : v);
      }
    });
    return { k: 'call', callee, args, type: unqual(ft.ret), span: calleeTok.span };
  }

  /** Compiler builtins the module may call without a declaration. */
  private builtinCall(name: string, e: Extract<A.Expr, { kind: 'call' }>): P.Expr | undefined {
    const at = exprStart(e.callee);
    const args = (): P.Expr[] => e.args.map((a) => this.rvalue(this.expr(a)));
    switch (name) {
      case '__builtin_return_address':
      case '__builtin_frame_address': {
        const a = args();
        const n = a[0] ? this.constValue(a[0]) : undefined;
        if (n === undefined) this.error(`invalid argument to '${name}'`, at);
        return { k: 'builtin', name, args: a, type: pointerTo(T.void), span: at.span };
      }
      case '__builtin_expect': {
        const a = args();
        return { k: 'builtin', name, args: a.map((x) => this.convert(x, T.long, true)), type: T.long, span: at.span };
      }
      case '__builtin_constant_p':
        args();
        return this.konst(0n, T.int, at);
      case '__builtin_unreachable':
      case '__builtin_trap':
        return { k: 'builtin', name, args: [], type: T.void, span: at.span };
      default:
        return undefined;
    }
  }

  /** KUNIT_EXPECT_* / KUNIT_ASSERT_* (kunit/test.h expands them to __sim_kunit_*). */
  private kunitCall(name: string, e: Extract<A.Expr, { kind: 'call' }>): P.Expr | undefined {
    const at = exprStart(e.callee);
    const sym = this.lookup(name);
    if (sym?.kind === 'function') sym.used = true;
    const a = e.args;
    const str = (x: A.Expr | undefined): string => (x?.kind === 'string' ? this.stringBytes(x).map((b) => String.fromCharCode(b)).join('') : '');
    const num = (x: A.Expr | undefined): number => Number(x ? (this.constValue(this.rvalue(this.expr(x))) ?? 0n) : 0n);
    const test = this.convertAssign(this.rvalue(this.expr(a[0]!)), pointerTo({ kind: 'struct', def: this.kunitStruct() }), 'arg', a[0]!, undefined, 1, name);
    const assert = num(a[1]) === 1;
    const rest = (from: number): P.Expr[] => a.slice(from).map((x) => this.rvalue(this.expr(x)));
    let check: P.KunitCheck;
    const span = at.span;
    switch (name) {
      case '__sim_kunit_binary': {
        const op = str(a[2]);
        const l = this.rvalue(this.expr(a[3]!));
        const r = this.rvalue(this.expr(a[4]!));
        const cmp = this.arith(op, l, r, at) as Extract<P.Expr, { k: 'cmp' }>;
        const operands = cmp.k === 'cmp' ? [cmp.left, cmp.right] : [l, r];
        check = { assert, form: 'binary', op, texts: [str(a[5]), str(a[6])], file: str(a[7]), line: num(a[8]), operands, message: rest(9), test };
        break;
      }
      case '__sim_kunit_bool':
        check = { assert, form: 'bool', op: num(a[2]) ? 'true' : 'false', texts: [str(a[4])], file: str(a[5]), line: num(a[6]), operands: [this.cond(a[3]!)], message: rest(7), test };
        break;
      case '__sim_kunit_ptr':
        check = { assert, form: 'ptr', op: str(a[2]), texts: [str(a[4])], file: str(a[5]), line: num(a[6]), operands: [this.convert(this.rvalue(this.expr(a[3]!)), T.ulong, true)], message: rest(7), test };
        break;
      case '__sim_kunit_str': {
        const l = this.convertAssign(this.rvalue(this.expr(a[3]!)), pointerTo({ ...T.char(this.o.charSigned), isConst: true }), 'arg', a[3]!, undefined, 4, name);
        const r = this.convertAssign(this.rvalue(this.expr(a[4]!)), pointerTo({ ...T.char(this.o.charSigned), isConst: true }), 'arg', a[4]!, undefined, 5, name);
        check = { assert, form: 'str', op: str(a[2]), texts: [str(a[5]), str(a[6])], file: str(a[7]), line: num(a[8]), operands: [l, r], message: rest(9), test };
        break;
      }
      case '__sim_kunit_fail':
        check = { assert, form: 'fail', op: 'fail', texts: [], file: str(a[2]), line: num(a[3]), operands: [], message: rest(4), test };
        break;
      default:
        return undefined;
    }
    return { k: 'builtin', name, args: [], kunit: check, type: T.void, span };
  }

  private kunitStruct(): StructDef {
    return this.lookupTag('kunit')?.def ?? { union: false, tag: 'kunit', size: 0, align: 1, complete: false, system: true, id: -1 };
  }

  // ---- the end ----

  private unusedFunctions(): void {
    for (const [name, s] of this.scopes[0]!) {
      if (s.kind === 'function' && s.defined && s.isStatic && !s.used && !s.decl.span.file.system) {
        const f = this.functions.find((x) => x.name === name);
        if (f && !f.inline && ![...this.aliases.values()].includes(name)) {
          this.fn = undefined;
          this.warn('unused-function', `'${name}' defined but not used`, s.decl);
        }
      }
      if (s.kind === 'function' && s.isStatic && !s.defined && s.used && !s.decl.span.file.system) {
        this.fn = undefined;
        this.warn('', `'${name}' used but never defined`, s.decl);
      }
    }
  }

  private assemble(): P.CheckedModule {
    const defined = new Set(this.functions.map((f) => f.name));
    const kernel = new Set<string>();
    const globals = this.globalOrder.map((n) => this.globals.get(n)!);
    // The kernel's functions the module needs: those its own code (and the header helpers it
    // uses) calls or takes the address of, and does not define.
    const byName = new Map(this.functions.map((f) => [f.name, f]));
    const seen = new Set<string>();
    const visit = (name: string): void => {
      if (seen.has(name)) return;
      seen.add(name);
      const f = byName.get(name);
      if (!f) {
        if (!name.startsWith('__sim_')) kernel.add(name);
        return;
      }
      walkFunctions(f.code, visit);
    };
    for (const f of this.functions) if (!f.header) visit(f.name);
    for (const g of globals) {
      for (const i of g.init) if (i.value.k === 'addr' && i.value.target.k === 'function' && (!g.header || g.section)) visit(i.value.target.name);
    }
    for (const k of kernel) this.kernelFns.add(k);
    const readString = (v: P.StaticValue | undefined): string | undefined => {
      if (!v || v.k !== 'addr') return undefined;
      if (v.target.k === 'string') {
        const s = this.strings[Number(v.target.name)];
        return s ? new TextDecoder().decode(Uint8Array.from(s.bytes.slice(v.offset, s.bytes.indexOf(0, v.offset)))) : undefined;
      }
      if (v.target.k === 'global') {
        const g = this.globals.get(v.target.name);
        if (!g) return undefined;
        return this.globalString(g, v.offset);
      }
      return undefined;
    };
    const valueAt = (g: P.Global, offset: number): P.StaticValue | undefined => g.init.find((i) => i.offset === offset)?.value;
    const fieldOffset = (g: P.Global, path: string[]): number | undefined => {
      let t = unqual(g.type);
      let off = 0;
      for (const p of path) {
        if (t.kind !== 'struct') return undefined;
        const f = findMember(t.def, p);
        if (!f) return undefined;
        off += f.offset;
        t = unqual(f.type);
      }
      return off;
    };
    const fnAt = (g: P.Global, path: string[]): string | undefined => {
      const off = fieldOffset(g, path);
      const v = off === undefined ? undefined : valueAt(g, off);
      return v?.k === 'addr' && v.target.k === 'function' ? v.target.name : undefined;
    };
    const strAt = (g: P.Global, path: string[]): string | undefined => {
      const off = fieldOffset(g, path);
      return off === undefined ? undefined : readString(valueAt(g, off));
    };

    const modinfo: Array<{ tag: string; value: string }> = [];
    const params: P.ModuleParam[] = [];
    const suites: P.KunitSuite[] = [];
    const nokprobe: string[] = [];
    const probes: P.ProbeObject[] = [];
    for (const g of globals) {
      if (g.section === '.modinfo') {
        const s = this.globalString(g, 0) ?? '';
        const eq = s.indexOf('=');
        modinfo.push({ tag: s.slice(0, eq), value: s.slice(eq + 1) });
      } else if (g.section === '_kprobe_blacklist') {
        const v = valueAt(g, 0);
        if (v?.k === 'addr' && v.target.k === 'function') nokprobe.push(v.target.name);
      } else if (g.section === '__param') {
        const name = strAt(g, ['name']) ?? g.name.replace(/^__param_/, '');
        const ops = fieldOffset(g, ['ops']);
        const opsV = ops === undefined ? undefined : valueAt(g, ops);
        const kind = opsV?.k === 'addr' ? opsV.target.name.replace(/^param_ops_/, '') : 'int';
        const permOff = fieldOffset(g, ['perm']);
        const permV = permOff === undefined ? undefined : valueAt(g, permOff);
        const argOff = fieldOffset(g, ['arg']);
        const argV = argOff === undefined ? undefined : valueAt(g, argOff);
        let variable = argV?.k === 'addr' ? argV.target.name : '';
        let maxlen: number | undefined;
        if (kind === 'string' && argV?.k === 'addr') {
          const ks = this.globals.get(argV.target.name);
          if (ks) {
            const ml = valueAt(ks, fieldOffset(ks, ['maxlen']) ?? 0);
            maxlen = ml?.k === 'int' ? Number(ml.value) : undefined;
            const sv = valueAt(ks, fieldOffset(ks, ['string']) ?? 8);
            variable = sv?.k === 'addr' ? sv.target.name : variable;
          }
        }
        params.push({ name, kind, perm: permV?.k === 'int' ? Number(permV.value) : 0, variable, ...(maxlen !== undefined ? { maxlen } : {}) });
      } else if (g.section === '.kunit_test_suites') {
        const n = unqual(g.type).kind === 'array' ? (unqual(g.type) as Extract<CType, { kind: 'array' }>).length ?? 0 : 1;
        for (let i = 0; i < n; i++) {
          const v = valueAt(g, i * 8);
          if (v?.k !== 'addr' || v.target.k !== 'global') continue;
          const sg = this.globals.get(v.target.name);
          if (!sg) continue;
          const casesOff = fieldOffset(sg, ['test_cases']);
          const cv = casesOff === undefined ? undefined : valueAt(sg, casesOff);
          const cases: Array<{ name: string; run: string }> = [];
          const cg = cv?.k === 'addr' && cv.target.k === 'global' ? this.globals.get(cv.target.name) : undefined;
          if (cg) {
            const ct = unqual(cg.type);
            const el = ct.kind === 'array' ? ct.of : ct;
            const es = sizeOf(el) ?? 0;
            const count = ct.kind === 'array' ? ct.length ?? 0 : 1;
            const runOff = unqual(el).kind === 'struct' ? findMember((unqual(el) as Extract<CType, { kind: 'struct' }>).def, 'run_case')?.offset ?? 0 : 0;
            const nameOff = unqual(el).kind === 'struct' ? findMember((unqual(el) as Extract<CType, { kind: 'struct' }>).def, 'name')?.offset ?? 8 : 8;
            for (let k = 0; k < count; k++) {
              const run = valueAt(cg, k * es + runOff);
              if (run?.k !== 'addr' || run.target.k !== 'function') break; // the {} terminator
              cases.push({ name: readString(valueAt(cg, k * es + nameOff)) ?? run.target.name, run: run.target.name });
            }
          }
          const init = fnAt(sg, ['init']);
          const exit = fnAt(sg, ['exit']);
          const suiteInit = fnAt(sg, ['suite_init']);
          const suiteExit = fnAt(sg, ['suite_exit']);
          suites.push({
            name: this.globalString(sg, fieldOffset(sg, ['name']) ?? 0) ?? sg.name, global: sg.name, cases,
            ...(init ? { init } : {}), ...(exit ? { exit } : {}), ...(suiteInit ? { suiteInit } : {}), ...(suiteExit ? { suiteExit } : {}),
          });
        }
      } else if (!g.header) {
        const t = unqual(g.type);
        if (t.kind === 'struct' && (t.def.tag === 'kprobe' || t.def.tag === 'kretprobe' || t.def.tag === 'jprobe')) {
          const kp = t.def.tag === 'kprobe' ? [] : ['kp'];
          const handlers: Record<string, string> = {};
          for (const h of ['pre_handler', 'post_handler', 'fault_handler', 'break_handler']) {
            const f = fnAt(g, [...kp, h]);
            if (f) handlers[h] = f;
          }
          for (const h of ['handler', 'entry_handler']) {
            const f = t.def.tag === 'kretprobe' ? fnAt(g, [h]) : undefined;
            if (f) handlers[h] = f;
          }
          if (t.def.tag === 'jprobe') {
            const f = fnAt(g, ['entry']);
            if (f) handlers['entry'] = f;
          }
          const symbolName = strAt(g, [...kp, 'symbol_name']);
          probes.push({ global: g.name, kind: t.def.tag, ...(symbolName !== undefined ? { symbolName } : {}), handlers });
        }
      }
    }
    const license = modinfo.find((m) => m.tag === 'license')?.value;
    const init = this.aliases.get('init_module');
    const exit = this.aliases.get('cleanup_module');
    return {
      name: this.o.moduleName, fileName: this.o.fileName, arch: this.o.arch, kernel: this.o.kernel,
      globals, functions: this.functions, strings: this.strings, kernelFunctions: [...this.kernelFns].sort(),
      ...(init ? { init } : {}), ...(exit ? { exit } : {}), modinfo, ...(license !== undefined ? { license } : {}),
      params, probes, kunitSuites: suites, nokprobe,
    };
  }

  /** The string a char array global holds from `offset` (to its NUL). */
  private globalString(g: P.Global, offset: number): string | undefined {
    const bytes: number[] = [];
    for (let o = offset; o < g.size; o++) {
      const v = g.init.find((i) => i.offset === o);
      const b = v?.value.k === 'int' ? Number(v.value.value & 0xffn) : 0;
      if (b === 0) break;
      bytes.push(b);
    }
    return new TextDecoder().decode(Uint8Array.from(bytes));
  }
}

/** Calls `see` with every function name the code refers to. */
function walkFunctions(code: readonly P.Instr[], see: (name: string) => void): void {
  walkCode(code, (e) => {
    if (e.k === 'func') see(e.name);
  });
}
