import type { Node } from '../src/expect/ast.ts';

// A test helper of the expect language's tests: what a parse made of an expression, written out.

/** A node as fully parenthesized text: what the precedence rules made of an expression. */
export function shape(n: Node): string {
  switch (n.kind) {
    case 'binary':
      return `(${shape(n.left)} ${n.op} ${shape(n.right)})`;
    case 'unary':
      return `(${n.op}${shape(n.operand)})`;
    case 'field':
      return `${shape(n.object)}.${n.name}`;
    case 'key':
      return `${shape(n.object)}[${JSON.stringify(n.key)}]`;
    case 'call':
      return `${n.fn}(${n.bind ? `${n.bind.name} in ` : ''}${shape(n.list)}${n.body ? `: ${shape(n.body)}` : ''})`;
    case 'name':
      return n.name;
    case 'null':
      return 'null';
    default:
      return JSON.stringify(n.value);
  }
}
