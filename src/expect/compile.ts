import { closest, distance } from 'fastest-levenshtein';
import type { KernelState } from '../model/state.ts';
import type { Scenario } from '../scenario/types.ts';
import type { BinaryOp, Node } from './ast.ts';
import { FUNCTIONS, ROOTS, typeText, type Field, type FunctionName, type Item, type RecordDef, type Type, type Value } from './env.ts';
import { parse, SyntaxError as PegSyntaxError } from './parser.ts';

// An expect expression from text to a closure over the folded state: parse (./parser.ts, generated
// from ./grammar.peggy), check every name and type against the state's shape (./env.ts) for the
// scenario at hand, and build a tree of closures that reads the state through the same getters.
// Nothing is evaluated as code. Every error names the character offset it is about.

/** A problem in an expression, at a character offset of its text. */
export class ExprError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** A failure while evaluating (a division by zero): the condition fails with this message. */
export class EvaluationError extends Error {}

type Env = (KernelState | Value)[];
type Code = (s: KernelState, vars: Env) => Value;

export interface CompiledExpr {
  readonly text: string;
  /** The condition's value in state `s`. */
  readonly holds: (s: KernelState) => boolean;
  /** Why it does not hold in `s`: the values that decided it, in a few words. */
  readonly explain: (s: KernelState) => string;
}

interface Typed {
  readonly type: Type;
  readonly code: Code;
  /** Explains a bool expression that is false: the values that made it so. */
  readonly why?: (s: KernelState, vars: Env) => string;
}

interface Scope {
  readonly vars: ReadonlyMap<string, { readonly type: Type; readonly slot: number }>;
  readonly depth: number;
}

/** What checking one expression knows: the scenario (its probe names) and the text (for explanations). */
interface Cx {
  readonly scenario: Scenario;
  readonly src: string;
}

/** The source text of a node, for explanations. */
function text(cx: Cx, n: Node): string {
  const t = cx.src.slice(n.start, n.end).trim();
  return t.length > 40 ? `${t.slice(0, 37)}…` : t;
}

/** The syntax tree of `text`, or an ExprError at the place the parser stopped. */
export function parseExpr(text: string): Node {
  try {
    return parse(text, {}) as Node;
  } catch (e) {
    if (e instanceof PegSyntaxError) {
      const err = e as unknown as { message: string; location: { start: { offset: number } } };
      // peggy's "Expected A, B, or C but "x" found." in this project's style.
      const msg = err.message.replace(/^Expected /, 'expected ').replace(/ but (.*) found\.$/, ', found $1').replace(/end of input/g, 'the end');
      throw new ExprError(err.location.start.offset, msg);
    }
    throw e;
  }
}

/** Parses and type-checks `text` against the state's names for `scenario`; throws ExprError. */
export function compileExpr(text: string, scenario: Scenario): CompiledExpr {
  const node = parseExpr(text);
  const typed = check(node, { scenario, src: text }, { vars: new Map(), depth: 0 });
  if (typed.type.kind !== 'bool') throw new ExprError(node.start, `a condition must be a bool, not ${typeText(typed.type)}`);
  const run = (s: KernelState): Value => typed.code(s, []);
  return {
    text,
    holds: (s) => run(s) === true,
    explain: (s) => {
      try {
        return typed.why?.(s, []) ?? 'it is false';
      } catch (e) {
        if (e instanceof EvaluationError) return e.message;
        throw e;
      }
    },
  };
}

const isNullable = (t: Type): boolean => t.kind === 'null' || ((t.kind === 'int' || t.kind === 'string') && t.nullable === true);

/** A short rendering of a value for explanations. */
function show(v: Value, t: Type): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (t.kind === 'record') return t.rec.label(v as never);
  return '…';
}

function suggest(name: string, known: readonly string[]): string {
  const near = known.length > 0 ? closest(name, [...known]) : undefined;
  const list = `expected one of ${known.join(', ')}`;
  return near !== undefined && name.length >= 2 && near !== name && distance(name, near) <= Math.max(1, Math.floor(name.length / 3)) ? `${list}; did you mean "${near}"?` : list;
}

function check(node: Node, cx: Cx, scope: Scope): Typed {
  switch (node.kind) {
    case 'int': {
      if (!Number.isSafeInteger(node.value)) throw new ExprError(node.start, `${node.value} is too large (at most ${Number.MAX_SAFE_INTEGER})`);
      const v = node.value;
      return { type: { kind: 'int' }, code: () => v };
    }
    case 'string': {
      const v = node.value;
      return { type: { kind: 'string' }, code: () => v };
    }
    case 'bool': {
      const v = node.value;
      return { type: { kind: 'bool' }, code: () => v, why: () => 'it is false' };
    }
    case 'null':
      return { type: { kind: 'null' }, code: () => null };
    case 'name': {
      const bound = scope.vars.get(node.name);
      if (bound !== undefined) {
        const slot = bound.slot;
        return { type: bound.type, code: (_s, vars) => vars[slot] as Value };
      }
      const root = Object.hasOwn(ROOTS, node.name) ? ROOTS[node.name]! : undefined;
      if (root === undefined) {
        const known = [...Object.keys(ROOTS), ...scope.vars.keys()];
        const fn = (FUNCTIONS as readonly string[]).includes(node.name) ? ` (${node.name} is a function: ${node.name}(x in LIST: …))` : '';
        throw new ExprError(node.start, `unknown name "${node.name}"${fn} (${suggest(node.name, known)})`);
      }
      const get = root.get;
      return { type: root.type, code: (s) => get(s), ...(root.type.kind === 'bool' ? { why: () => `${node.name} is false` } : {}) };
    }
    case 'field':
    case 'key': {
      const obj = check(node.object, cx, scope);
      const name = node.kind === 'field' ? node.name : node.key;
      if (obj.type.kind === 'list') {
        const keys = obj.type.keys;
        const rec = obj.type.rec;
        if (keys === undefined) {
          throw new ExprError(node.at, `a list of ${rec.what.replace(/^an? /, '')}s has no field "${name}" (use count(x in LIST: …), all(…), any(…) or sum(…))`);
        }
        const known = keys.of(cx.scenario);
        if (!known.includes(name) && cx.scenario.probes.some((p) => p.name === name)) {
          throw new ExprError(node.at, `probe "${name}" is not a ${keys.what}${known.length > 0 ? ` (${keys.what}s: ${known.join(', ')})` : ''}`);
        }
        if (!known.includes(name)) {
          throw new ExprError(node.at, `no ${keys.what} named "${name}" in scenario.probes${known.length > 0 ? ` (${suggest(name, known)})` : ` (it has no ${keys.what}s)`}`);
        }
        return { type: { kind: 'record', rec }, code: () => name };
      }
      if (obj.type.kind !== 'record') {
        throw new ExprError(node.at, `${typeText(obj.type)} has no field "${name}"`);
      }
      const rec: RecordDef = obj.type.rec;
      const f: Field | undefined = Object.hasOwn(rec.fields, name) ? rec.fields[name] : undefined;
      if (f === undefined) throw new ExprError(node.at, `unknown field "${name}" of ${rec.what} (${suggest(name, Object.keys(rec.fields))})`);
      const get = f.get as (item: Item, s: KernelState) => Value;
      const objCode = obj.code;
      const code: Code = (s, vars) => get(objCode(s, vars) as Item, s);
      return { type: f.type, code, ...(f.type.kind === 'bool' ? { why: (s: KernelState, vars: Env) => `${rec.label(objCode(s, vars) as never)}: ${name} is false` } : {}) };
    }
    case 'unary': {
      const operand = check(node.operand, cx, scope);
      if (node.op === '!') {
        expectType(operand.type, 'bool', node.operand, '"!"');
        const c = operand.code;
        return { type: { kind: 'bool' }, code: (s, vars) => !c(s, vars), why: () => 'its operand is true' };
      }
      expectType(operand.type, 'int', node.operand, 'unary "-"');
      const c = operand.code;
      return { type: { kind: 'int' }, code: (s, vars) => -(c(s, vars) as number) };
    }
    case 'binary':
      return binary(cx, node, check(node.left, cx, scope), check(node.right, cx, scope));
    case 'call':
      return call(cx, node, scope);
  }
}

/** A non-null `kind` operand, or an error naming the operator that needs it. */
function expectType(t: Type, kind: 'int' | 'bool', at: Node, what: string): void {
  if (t.kind !== kind || isNullable(t)) throw new ExprError(at.start, `${what} needs ${kind === 'int' ? 'an int' : 'a bool'}, not ${typeText(t)}`);
}

function binary(cx: Cx, node: Extract<Node, { kind: 'binary' }>, l: Typed, r: Typed): Typed {
  const op = node.op;
  const lc = l.code;
  const rc = r.code;
  const opText = `"${op}"`;
  switch (op) {
    case '&&':
    case '||':
    case '=>': {
      expectType(l.type, 'bool', node.left, opText);
      expectType(r.type, 'bool', node.right, opText);
      const why = (x: Typed, s: KernelState, vars: Env) => x.why?.(s, vars) ?? 'it is false';
      if (op === '&&') return { type: { kind: 'bool' }, code: (s, v) => lc(s, v) === true && rc(s, v) === true, why: (s, v) => (lc(s, v) !== true ? why(l, s, v) : why(r, s, v)) };
      if (op === '||') return { type: { kind: 'bool' }, code: (s, v) => lc(s, v) === true || rc(s, v) === true, why: (s, v) => `${why(l, s, v)}, and ${why(r, s, v)}` };
      return { type: { kind: 'bool' }, code: (s, v) => lc(s, v) !== true || rc(s, v) === true, why: (s, v) => why(r, s, v) };
    }
    case '+':
    case '-':
    case '*':
    case '/':
    case '%': {
      expectType(l.type, 'int', node.left, opText);
      expectType(r.type, 'int', node.right, opText);
      const f = ARITH[op];
      return { type: { kind: 'int' }, code: (s, v) => f(lc(s, v) as number, rc(s, v) as number) };
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      expectType(l.type, 'int', node.left, opText);
      expectType(r.type, 'int', node.right, opText);
      const f = COMPARE[op];
      return {
        type: { kind: 'bool' },
        code: (s, v) => f(lc(s, v) as number, rc(s, v) as number),
        why: (s, v) => sides(cx, node, show(lc(s, v), l.type), show(rc(s, v), r.type)),
      };
    }
    case '==':
    case '!=': {
      comparable(node, l.type, r.type);
      const eq = op === '==';
      return {
        type: { kind: 'bool' },
        code: (s, v) => (lc(s, v) === rc(s, v)) === eq,
        why: (s, v) => sides(cx, node, show(lc(s, v), l.type), show(rc(s, v), r.type)),
      };
    }
  }
}

/** `a is 2, b is 1` for the operands of a false comparison (a literal says what it is itself). */
function sides(cx: Cx, node: Extract<Node, { kind: 'binary' }>, l: string, r: string): string {
  const literal = (n: Node) => n.kind === 'int' || n.kind === 'string' || n.kind === 'bool' || n.kind === 'null';
  const parts = [[node.left, l] as const, [node.right, r] as const].filter(([n]) => !literal(n)).map(([n, v]) => `${text(cx, n)} is ${v}`);
  return parts.length > 0 ? parts.join(', ') : 'it is false';
}

const ARITH: Readonly<Record<'+' | '-' | '*' | '/' | '%', (a: number, b: number) => number>> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => {
    if (b === 0) throw new EvaluationError('division by zero');
    return Math.trunc(a / b);
  },
  '%': (a, b) => {
    if (b === 0) throw new EvaluationError('division by zero (%)');
    return a % b;
  },
};

const COMPARE: Readonly<Record<'<' | '<=' | '>' | '>=', (a: number, b: number) => boolean>> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

/** `==` and `!=`: the same kind of scalar (null only with what may be null), and known strings. */
function comparable(node: Extract<Node, { kind: 'binary' }>, l: Type, r: Type): void {
  const scalar = (t: Type) => t.kind === 'int' || t.kind === 'bool' || t.kind === 'string' || t.kind === 'null';
  if (!scalar(l)) throw new ExprError(node.left.start, `"${node.op}" compares ints, bools or strings, not ${typeText(l)}`);
  if (!scalar(r)) throw new ExprError(node.right.start, `"${node.op}" compares ints, bools or strings, not ${typeText(r)}`);
  if (l.kind === 'null' || r.kind === 'null') {
    const other = l.kind === 'null' ? r : l;
    if (other.kind !== 'null' && !isNullable(other)) throw new ExprError(node.at, `${typeText(other)} is never null`);
    return;
  }
  if (l.kind !== r.kind) throw new ExprError(node.at, `cannot compare ${typeText(l)} with ${typeText(r)}`);
  // A string that a known set of strings is compared with must be one of them.
  for (const [known, lit] of [[l, node.right], [r, node.left]] as const) {
    if (known.kind === 'string' && known.values !== undefined && lit.kind === 'string' && !known.values.includes(lit.value)) {
      throw new ExprError(lit.start, `"${lit.value}" is not a ${known.what} (expected one of ${known.values.map((v) => `"${v}"`).join(', ')})`);
    }
  }
}

function call(cx: Cx, node: Extract<Node, { kind: 'call' }>, scope: Scope): Typed {
  const fn = node.fn as FunctionName;
  if (!(FUNCTIONS as readonly string[]).includes(node.fn)) throw new ExprError(node.at, `unknown function "${node.fn}" (${suggest(node.fn, FUNCTIONS)})`);
  const list = check(node.list, cx, scope);
  if (list.type.kind !== 'list') throw new ExprError(node.list.start, `${fn}() goes over a list (cpus, tasks, probes, pools), not ${typeText(list.type)}`);
  const rec = list.type.rec;
  const items = list.code as (s: KernelState, vars: Env) => readonly Item[];
  if (node.bind === null || node.body === null) {
    if (fn !== 'count') throw new ExprError(node.at, `${fn}() needs a name and a condition: ${fn}(x in ${text(cx, node.list)}: …)`);
    return { type: { kind: 'int' }, code: (s, v) => items(s, v).length };
  }
  const slot = scope.depth;
  const inner: Scope = { vars: new Map([...scope.vars, [node.bind.name, { type: { kind: 'record', rec } as Type, slot }]]), depth: scope.depth + 1 };
  const body = check(node.body, cx, inner);
  const bc = body.code;
  const each = (s: KernelState, vars: Env, item: Item): Value => {
    vars[slot] = item;
    return bc(s, vars);
  };
  if (fn === 'sum') {
    expectType(body.type, 'int', node.body, 'sum()\'s body');
    return {
      type: { kind: 'int' },
      code: (s, v) => {
        let total = 0;
        for (const it of items(s, v)) total += each(s, v, it) as number;
        return total;
      },
    };
  }
  if (body.type.kind !== 'bool') throw new ExprError(node.body.start, `${fn}()'s condition must be a bool, not ${typeText(body.type)}`);
  const label = (it: Item) => rec.label(it as never);
  if (fn === 'count') {
    return {
      type: { kind: 'int' },
      code: (s, v) => {
        let n = 0;
        for (const it of items(s, v)) if (each(s, v, it) === true) n++;
        return n;
      },
    };
  }
  if (fn === 'all') {
    return {
      type: { kind: 'bool' },
      code: (s, v) => {
        for (const it of items(s, v)) if (each(s, v, it) !== true) return false;
        return true;
      },
      why: (s, v) => {
        for (const it of items(s, v)) if (each(s, v, it) !== true) return `not for ${label(it)}${body.why ? `: ${body.why(s, v)}` : ''}`;
        return 'it is false';
      },
    };
  }
  return {
    type: { kind: 'bool' },
    code: (s, v) => {
      for (const it of items(s, v)) if (each(s, v, it) === true) return true;
      return false;
    },
    why: (s, v) => (items(s, v).length === 0 ? `${text(cx, node.list)} is empty` : `for none of ${items(s, v).length}`),
  };
}
