// The parse tree of a translation unit, before types are checked. Every node keeps the token
// gcc would point at for it (`at`): an identifier's name, an operator, a member's name.

import type { Token } from './lexer.ts';

export interface Attribute {
  readonly name: string;
  readonly args: readonly Expr[];
  readonly at: Token;
}

export type TypeSpec =
  | { readonly kind: 'builtin'; readonly words: readonly string[]; readonly at: Token }
  | {
      readonly kind: 'struct' | 'union';
      readonly tag?: Token;
      readonly members?: readonly MemberDecl[];
      readonly attrs: readonly Attribute[];
      readonly at: Token;
    }
  | {
      readonly kind: 'enum';
      readonly tag?: Token;
      readonly enumerators?: ReadonlyArray<{ readonly name: Token; readonly value?: Expr }>;
      readonly at: Token;
    }
  | { readonly kind: 'typedef-name'; readonly name: Token; readonly at: Token }
  | { readonly kind: 'typeof'; readonly expr?: Expr; readonly type?: TypeName; readonly at: Token };

export interface DeclSpec {
  readonly storage?: 'static' | 'extern' | 'typedef' | 'auto' | 'register';
  readonly inline: boolean;
  readonly type: TypeSpec;
  readonly isConst: boolean;
  readonly isVolatile: boolean;
  readonly attrs: readonly Attribute[];
  /** The first token of the specifiers. */
  readonly at: Token;
  /** No type specifier at all (implicit int: an error in the kernel's build). */
  readonly implicitInt: boolean;
}

export type Derived =
  | { readonly kind: 'pointer'; readonly isConst: boolean; readonly isVolatile: boolean; readonly at: Token }
  | { readonly kind: 'array'; readonly size?: Expr; readonly at: Token }
  | {
      readonly kind: 'function';
      readonly params: readonly ParamDecl[];
      readonly variadic: boolean;
      /** `()`: no prototype. */
      readonly noProto: boolean;
      readonly at: Token;
    };

export interface Declarator {
  readonly name?: Token;
  /** From the identifier outward: `*a[3]` is [array 3, pointer]. */
  readonly derived: readonly Derived[];
  readonly attrs: readonly Attribute[];
  /** Where an abstract declarator would have had its name (for messages), or the name. */
  readonly at: Token;
}

export interface ParamDecl {
  readonly spec: DeclSpec;
  readonly decl: Declarator;
}

export interface TypeName {
  readonly spec: DeclSpec;
  readonly decl: Declarator;
  readonly at: Token;
}

export interface MemberDecl {
  readonly spec: DeclSpec;
  /** Empty for an anonymous struct/union member. */
  readonly declarators: ReadonlyArray<{ readonly decl: Declarator; readonly bits?: Expr }>;
  readonly at: Token;
}

export type Designator = { readonly kind: 'field'; readonly name: Token } | { readonly kind: 'index'; readonly index: Expr; readonly at: Token };

export type Initializer =
  | { readonly kind: 'expr'; readonly expr: Expr }
  | {
      readonly kind: 'list';
      readonly items: ReadonlyArray<{ readonly designators: readonly Designator[]; readonly init: Initializer; readonly at: Token }>;
      readonly at: Token;
      readonly close: Token;
    };

export interface InitDeclarator {
  readonly decl: Declarator;
  readonly init?: Initializer;
  /** The `=` token. */
  readonly eq?: Token;
}

export interface Declaration {
  readonly kind: 'decl';
  readonly spec: DeclSpec;
  readonly declarators: readonly InitDeclarator[];
  readonly at: Token;
  readonly semi: Token;
}

export interface FunctionDef {
  readonly kind: 'function';
  readonly spec: DeclSpec;
  readonly decl: Declarator;
  readonly body: Block;
  readonly at: Token;
}

export type ExternalDecl = Declaration | FunctionDef | { readonly kind: 'empty'; readonly at: Token };

export interface Block {
  readonly kind: 'block';
  readonly items: readonly Stmt[];
  readonly at: Token;
  readonly close: Token;
}

export type Stmt =
  | Block
  | Declaration
  | { readonly kind: 'expr'; readonly expr: Expr; readonly at: Token }
  | { readonly kind: 'empty'; readonly at: Token }
  | { readonly kind: 'if'; readonly cond: Expr; readonly then: Stmt; readonly else?: Stmt; readonly at: Token }
  | { readonly kind: 'while'; readonly cond: Expr; readonly body: Stmt; readonly at: Token }
  | { readonly kind: 'do'; readonly body: Stmt; readonly cond: Expr; readonly at: Token }
  | {
      readonly kind: 'for';
      readonly init?: Declaration | { readonly kind: 'expr'; readonly expr: Expr; readonly at: Token };
      readonly cond?: Expr;
      readonly step?: Expr;
      readonly body: Stmt;
      readonly at: Token;
    }
  | { readonly kind: 'switch'; readonly cond: Expr; readonly body: Stmt; readonly at: Token }
  | { readonly kind: 'case'; readonly value: Expr; readonly high?: Expr; readonly body: Stmt; readonly at: Token }
  | { readonly kind: 'default'; readonly body: Stmt; readonly at: Token }
  | { readonly kind: 'label'; readonly name: Token; readonly body: Stmt; readonly at: Token }
  | { readonly kind: 'goto'; readonly label: Token; readonly at: Token }
  | { readonly kind: 'break' | 'continue'; readonly at: Token }
  | { readonly kind: 'return'; readonly value?: Expr; readonly at: Token };

export type Expr =
  | { readonly kind: 'ident'; readonly name: string; readonly at: Token }
  | { readonly kind: 'int'; readonly text: string; readonly at: Token }
  | { readonly kind: 'float'; readonly text: string; readonly at: Token }
  | { readonly kind: 'char'; readonly text: string; readonly at: Token }
  | { readonly kind: 'string'; readonly parts: readonly Token[]; readonly at: Token }
  | { readonly kind: 'binary'; readonly op: string; readonly left: Expr; readonly right: Expr; readonly at: Token }
  | { readonly kind: 'assign'; readonly op: string; readonly left: Expr; readonly right: Expr; readonly at: Token }
  | { readonly kind: 'unary'; readonly op: string; readonly operand: Expr; readonly at: Token }
  | { readonly kind: 'postfix'; readonly op: '++' | '--'; readonly operand: Expr; readonly at: Token }
  | { readonly kind: 'cond'; readonly cond: Expr; readonly then: Expr; readonly else: Expr; readonly at: Token }
  | { readonly kind: 'comma'; readonly left: Expr; readonly right: Expr; readonly at: Token }
  | { readonly kind: 'call'; readonly callee: Expr; readonly args: readonly Expr[]; readonly at: Token; readonly close: Token }
  | { readonly kind: 'index'; readonly base: Expr; readonly index: Expr; readonly at: Token }
  | { readonly kind: 'member'; readonly base: Expr; readonly arrow: boolean; readonly name: Token; readonly at: Token }
  | { readonly kind: 'cast'; readonly type: TypeName; readonly operand: Expr; readonly at: Token }
  | { readonly kind: 'compound-literal'; readonly type: TypeName; readonly init: Initializer; readonly at: Token }
  | { readonly kind: 'sizeof-expr'; readonly operand: Expr; readonly at: Token }
  | { readonly kind: 'sizeof-type'; readonly type: TypeName; readonly at: Token }
  | { readonly kind: 'alignof'; readonly type: TypeName; readonly at: Token }
  | { readonly kind: 'offsetof'; readonly type: TypeName; readonly path: readonly Designator[]; readonly at: Token }
  | { readonly kind: 'stmt-expr'; readonly body: Block; readonly at: Token };

/** The first token of an expression (where gcc's range for it starts). */
export function exprStart(e: Expr): Token {
  switch (e.kind) {
    case 'binary':
    case 'assign':
    case 'comma':
      return exprStart(e.left);
    case 'cond':
      return exprStart(e.cond);
    case 'postfix':
      return exprStart(e.operand);
    case 'call':
      return exprStart(e.callee);
    case 'index':
    case 'member':
      return exprStart(e.base);
    default:
      return e.at;
  }
}
