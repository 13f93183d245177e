// The syntax tree the parser (./parser.ts, from ./grammar.peggy) builds for an expect expression.
// Offsets are character offsets into the expression: `start`/`end` of the node's text, `at` of
// the place an error about it names (an operator, a field name, a function name).

interface Span {
  readonly start: number;
  readonly end: number;
  readonly at: number;
}

export type BinaryOp = '=>' | '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%';

export type Node =
  | (Span & { readonly kind: 'int'; readonly value: number })
  | (Span & { readonly kind: 'string'; readonly value: string })
  | (Span & { readonly kind: 'bool'; readonly value: boolean })
  | (Span & { readonly kind: 'null' })
  | (Span & { readonly kind: 'name'; readonly name: string })
  | (Span & { readonly kind: 'field'; readonly object: Node; readonly name: string })
  | (Span & { readonly kind: 'key'; readonly object: Node; readonly key: string })
  | (Span & { readonly kind: 'unary'; readonly op: '!' | '-'; readonly operand: Node })
  | (Span & { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Node; readonly right: Node })
  | (Span & {
      readonly kind: 'call';
      readonly fn: string;
      /** The bound name of `fn(x in LIST: BODY)`, or null for `fn(LIST)`. */
      readonly bind: { readonly name: string; readonly start: number; readonly end: number } | null;
      readonly list: Node;
      readonly body: Node | null;
    });
