// The checked program: what the compiler hands the interpreter. Every expression is typed, every
// implicit conversion is an explicit `cast`, every read of memory an explicit `load` of an
// lvalue and every write an `assign`/`compound`/`incdec` (so the interpreter can make each
// shared-memory access an interleaving point), and each function's statements are lowered to a
// flat list of instructions with jumps (if/loops/switch/break/continue/goto), run by a program
// counter. Integer values are bigints already wrapped to their type (see types.ts for the rules).

import type { Span } from './source.ts';
import type { CType } from './types.ts';

/** Where a value lives. */
export type LValue =
  | { readonly k: 'global'; readonly name: string; readonly type: CType; readonly span: Span }
  | { readonly k: 'local'; readonly slot: number; readonly type: CType; readonly span: Span }
  | { readonly k: 'string'; readonly id: number; readonly type: CType; readonly span: Span }
  | { readonly k: 'deref'; readonly ptr: Expr; readonly type: CType; readonly span: Span }
  | { readonly k: 'member'; readonly base: LValue; readonly offset: number; readonly field: string; readonly type: CType; readonly span: Span }
  /** A member of a struct rvalue (a function's returned struct): read only. */
  | { readonly k: 'temp'; readonly value: Expr; readonly offset: number; readonly type: CType; readonly span: Span };

export type Expr = { readonly type: CType; readonly span: Span } & (
  | { readonly k: 'const'; readonly value: bigint }
  /** A memory read of a scalar or a struct (copied). */
  | { readonly k: 'load'; readonly lv: LValue }
  /** An array lvalue converted to a pointer to its first element. */
  | { readonly k: 'decay'; readonly lv: LValue }
  /** `&lv` (no memory access). */
  | { readonly k: 'addr'; readonly lv: LValue }
  /** A function designator: the module's function, or the kernel's when `module.functions` has no such name. */
  | { readonly k: 'func'; readonly name: string }
  /** A conversion to `type`. */
  | { readonly k: 'cast'; readonly operand: Expr; readonly implicit: boolean }
  /** Integer arithmetic in `type` (both operands already of `type`; shifts: the left). */
  | { readonly k: 'binary'; readonly op: '+' | '-' | '*' | '/' | '%' | '<<' | '>>' | '&' | '|' | '^'; readonly left: Expr; readonly right: Expr }
  /** A comparison of operands of one type (integers or pointers); the result is int 0/1. */
  | { readonly k: 'cmp'; readonly op: '<' | '>' | '<=' | '>=' | '==' | '!='; readonly left: Expr; readonly right: Expr }
  | { readonly k: 'unary'; readonly op: '-' | '~' | '!'; readonly operand: Expr }
  /** `ptr + index * scale` (index a long; scale the pointee's size). */
  | { readonly k: 'ptradd'; readonly ptr: Expr; readonly index: Expr; readonly scale: number }
  /** `(left - right) / scale` as a long. */
  | { readonly k: 'ptrdiff'; readonly left: Expr; readonly right: Expr; readonly scale: number }
  | { readonly k: 'logical'; readonly op: '&&' | '||'; readonly left: Expr; readonly right: Expr }
  | { readonly k: 'cond'; readonly cond: Expr; readonly then: Expr; readonly else: Expr }
  | { readonly k: 'comma'; readonly left: Expr; readonly right: Expr }
  /** A store of `value` (already converted to the target's type); the result is the value stored. */
  | { readonly k: 'assign'; readonly target: LValue; readonly value: Expr }
  /**
   * `target op= value`: load the target, convert it to `opType`, combine with `value` (already
   * of `opType`, or a long index for pointer += / -=), convert back, store.
   */
  | { readonly k: 'compound'; readonly op: string; readonly target: LValue; readonly value: Expr; readonly opType: CType; readonly scale?: number }
  /** ++/--: by 1, or by the pointee's size for a pointer (`scale`). */
  | { readonly k: 'incdec'; readonly op: '++' | '--'; readonly prefix: boolean; readonly target: LValue; readonly scale: number }
  /** A call through a function pointer value, or of a named function (`callee.k === 'func'`). */
  | { readonly k: 'call'; readonly callee: Expr; readonly args: readonly Expr[] }
  /**
   * A compiler builtin or a model hook: `__builtin_return_address`, `__builtin_expect`, the KUnit
   * checks (`kunit` carries their parts), ...
   */
  | { readonly k: 'builtin'; readonly name: string; readonly args: readonly Expr[]; readonly kunit?: KunitCheck }
  /** A GNU statement expression: its code runs, then `result` (if any) is its value. */
  | { readonly k: 'stmt-expr'; readonly code: readonly Instr[]; readonly result?: Expr }
);

/** The parts of a KUNIT_EXPECT_* / KUNIT_ASSERT_* check. */
export interface KunitCheck {
  /** An assertion aborts the test case when it fails; an expectation only marks it failed. */
  readonly assert: boolean;
  readonly form: 'binary' | 'bool' | 'ptr' | 'str' | 'fail';
  /** `==`, `!=`, `<`, ... ; for bool: 'true'/'false'; for ptr: 'null'/'not_null'/'not_err_or_null'. */
  readonly op: string;
  /** The operands' source text, as the kernel's message shows them. */
  readonly texts: readonly string[];
  readonly file: string;
  readonly line: number;
  /** Operands (converted to a common type for `binary`), then the message format and its arguments. */
  readonly operands: readonly Expr[];
  readonly message: readonly Expr[];
  readonly test: Expr;
}

/** One initialization of a scalar at an offset of a local object (zero-filled otherwise). */
export interface LocalInit {
  readonly offset: number;
  readonly type: CType;
  readonly value: Expr;
}

export type Instr = { readonly span: Span } & (
  | { readonly op: 'expr'; readonly e: Expr }
  /** A local object comes into scope: zero it (if `zero`) and store its initializers. */
  | { readonly op: 'init'; readonly slot: number; readonly zero: boolean; readonly items: readonly LocalInit[] }
  | { readonly op: 'jump'; readonly to: number }
  /** Jump to `to` when `cond` is zero. */
  | { readonly op: 'branch-false'; readonly cond: Expr; readonly to: number }
  | { readonly op: 'switch'; readonly value: Expr; readonly cases: ReadonlyArray<{ readonly low: bigint; readonly high: bigint; readonly to: number }>; readonly default: number }
  | { readonly op: 'return'; readonly value?: Expr }
);

export interface Local {
  readonly slot: number;
  readonly name: string;
  readonly type: CType;
  readonly size: number;
  readonly align: number;
  readonly param: boolean;
}

export interface Func {
  readonly name: string;
  readonly type: Extract<CType, { kind: 'function' }>;
  readonly params: readonly Local[];
  /** Every local of the function (parameters first), each with its own slot. */
  readonly locals: readonly Local[];
  readonly code: readonly Instr[];
  readonly isStatic: boolean;
  /** `inline`/`__always_inline` (a kernel header's helpers): no frame of its own in a stack trace. */
  readonly inline: boolean;
  readonly noinline: boolean;
  /** `.init.text` (__init), `.exit.text` (__exit), `.kprobes.text` (__kprobes), ... */
  readonly section?: string;
  /** Defined in a kernel header (not the module's text). */
  readonly header: boolean;
  readonly span: Span;
}

/** An initial value of a scalar in static data. */
export type StaticValue =
  | { readonly k: 'int'; readonly value: bigint }
  | { readonly k: 'addr'; readonly target: { readonly k: 'global' | 'function' | 'string'; readonly name: string }; readonly offset: number };

export interface StaticInit {
  readonly offset: number;
  readonly type: CType;
  readonly value: StaticValue;
}

export interface Global {
  readonly name: string;
  readonly type: CType;
  readonly size: number;
  readonly align: number;
  /** Zero-filled except for these. */
  readonly init: readonly StaticInit[];
  readonly isStatic: boolean;
  /** `extern`: the kernel's object (param_ops_string, __this_module, jiffies). */
  readonly extern: boolean;
  readonly isConst: boolean;
  readonly section?: string;
  readonly header: boolean;
  readonly span: Span;
}

/** A string literal's bytes (with its terminating NUL), addressed as `string:ID`. */
export interface StringLiteral {
  readonly id: number;
  readonly bytes: readonly number[];
}

export interface ModuleParam {
  readonly name: string;
  /** byte, short, ushort, int, uint, long, ulong, ullong, hexint, charp, bool, invbool, string */
  readonly kind: string;
  readonly perm: number;
  /** The global it sets. */
  readonly variable: string;
  /** For module_param_string: the buffer's size. */
  readonly maxlen?: number;
}

export interface KunitSuite {
  readonly name: string;
  /** The global holding `struct kunit_suite`. */
  readonly global: string;
  readonly init?: string;
  readonly exit?: string;
  readonly suiteInit?: string;
  readonly suiteExit?: string;
  readonly cases: ReadonlyArray<{ readonly name: string; readonly run: string }>;
}

export interface ProbeObject {
  /** The global (`kp`, `rp`). */
  readonly global: string;
  readonly kind: 'kprobe' | 'kretprobe' | 'jprobe';
  /** The initial values its static initializer gives (handlers as function names). */
  readonly symbolName?: string;
  readonly handlers: Readonly<Record<string, string>>;
}

export interface CheckedModule {
  /** KBUILD_MODNAME. */
  readonly name: string;
  readonly fileName: string;
  readonly arch: 'x86_64' | 'arm64';
  readonly kernel: string;
  readonly globals: readonly Global[];
  readonly functions: readonly Func[];
  readonly strings: readonly StringLiteral[];
  /** Kernel functions the module calls or takes the address of (they must exist in the image). */
  readonly kernelFunctions: readonly string[];
  /** module_init's and module_exit's functions. */
  readonly init?: string;
  readonly exit?: string;
  /** The .modinfo entries in order ("license" → "GPL", "parmtype" → "symbol:string", ...). */
  readonly modinfo: ReadonlyArray<{ readonly tag: string; readonly value: string }>;
  readonly license?: string;
  readonly params: readonly ModuleParam[];
  readonly probes: readonly ProbeObject[];
  readonly kunitSuites: readonly KunitSuite[];
  /** Functions NOKPROBE_SYMBOL() names. */
  readonly nokprobe: readonly string[];
}
