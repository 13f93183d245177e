import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BinaryOp, Node } from '../src/expect/ast.ts';
import { compileExpr, ExprError, parseExpr } from '../src/expect/compile.ts';
import { scenarioArbitrary, seedArbitrary } from '../src/scenario/arbitrary.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { RUNS, runInMemory } from './helpers.ts';
import { shape } from '../test/expect-shape.ts';

// Properties of the expect language (docs/expect.md): the parser reads back what a printer that
// knows only the documented precedences writes; no text makes the checker fail other than with a
// placed ExprError; and laws of the language hold at every event of random runs.

const LEVEL: Readonly<Record<BinaryOp, number>> = {
  '=>': 1,
  '||': 2,
  '&&': 3,
  '==': 5,
  '!=': 5,
  '<': 5,
  '<=': 5,
  '>': 5,
  '>=': 5,
  '+': 6,
  '-': 6,
  '*': 7,
  '/': 7,
  '%': 7,
};

const span = { start: 0, end: 0, at: 0 };

/** The text of a tree with only the parentheses the documented precedences need. */
function print(n: Node, need = 0): string {
  const wrap = (level: number, text: string) => (level < need ? `(${text})` : text);
  switch (n.kind) {
    case 'binary': {
      const l = LEVEL[n.op];
      // `=>` is right-associative, comparisons do not associate, the rest associate to the left.
      const [ln, rn] = n.op === '=>' ? [l + 1, l] : l === 5 ? [l + 1, l + 1] : [l, l + 1];
      return wrap(l, `${print(n.left, ln)} ${n.op} ${print(n.right, rn)}`);
    }
    case 'unary':
      return wrap(8, `${n.op}${print(n.operand, 8)}`);
    case 'field':
      return wrap(9, `${print(n.object, 9)}.${n.name}`);
    case 'key':
      return wrap(9, `${print(n.object, 9)}[${JSON.stringify(n.key)}]`);
    case 'call':
      return n.bind === null ? `${n.fn}(${print(n.list)})` : `${n.fn}(${n.bind.name} in ${print(n.list)}: ${print(n.body!)})`;
    case 'name':
      return n.name;
    case 'null':
      return 'null';
    case 'string':
      return JSON.stringify(n.value);
    default:
      return String(n.value);
  }
}


const ident = fc.constantFrom('a', 'b', 'cpus', 'probes', 'x1', 'count_', 'inx', 'nullable');
const { tree } = fc.letrec<{ tree: Node }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.nat({ max: 1000 }).map((value): Node => ({ kind: 'int', value, ...span })),
    fc.string({ maxLength: 4 }).filter((s) => !s.includes('\n')).map((value): Node => ({ kind: 'string', value, ...span })),
    fc.boolean().map((value): Node => ({ kind: 'bool', value, ...span })),
    fc.constant<Node>({ kind: 'null', ...span }),
    ident.map((name): Node => ({ kind: 'name', name, ...span })),
    fc.tuple(fc.constantFrom(...(Object.keys(LEVEL) as BinaryOp[])), tie('tree'), tie('tree')).map(([op, left, right]): Node => ({ kind: 'binary', op, left, right, ...span })),
    fc.tuple(fc.constantFrom('!' as const, '-' as const), tie('tree')).map(([op, operand]): Node => ({ kind: 'unary', op, operand, ...span })),
    fc.tuple(tie('tree'), ident).map(([object, name]): Node => ({ kind: 'field', object, name, ...span })),
    fc.tuple(tie('tree'), fc.constantFrom('kp', 'a b', '"')).map(([object, key]): Node => ({ kind: 'key', object, key, ...span })),
    fc.tuple(fc.constantFrom('count', 'all', 'sum'), ident, tie('tree'), tie('tree')).map(([fn, bind, list, body]): Node => ({ kind: 'call', fn, bind: { name: bind, start: 0, end: 0 }, list, body, ...span })),
  ),
}));

const SCENARIO = validateScenario({ name: 'p', probes: [{ name: 'kp', symbol: 'vfs_read' }], tasks: [{ comm: 'sh', program: [] }] });

describe('the expect language', () => {
  it('parses what a printer with the documented precedences writes back into the same tree', () => {
    fc.assert(
      fc.property(tree, (t) => {
        expect(shape(parseExpr(print(t)))).toBe(shape(t));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses any text only with an ExprError placed inside the text', () => {
    const alphabet = fc.constantFrom(...'ab cpus.kp()[]"!=<>&|+-*/%:0x1 in all count probes hits null true'.split(''));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }).map((cs) => cs.join('')), (text) => {
        try {
          compileExpr(text, SCENARIO);
        } catch (e) {
          expect(e).toBeInstanceOf(ExprError);
          expect((e as ExprError).offset).toBeGreaterThanOrEqual(0);
          expect((e as ExprError).offset).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: 1000 },
    );
  });

  // Conditions about one CPU `c`, built from its fields.
  const cpuCondition: fc.Arbitrary<string> = fc.letrec<{ c: string }>((tie) => ({
    c: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom('c.status == "idle"', 'c.handler != null', 'c.preempt_count > 0', 'c.irqs_off', 'c.trapped', 'c.halted', 'c.id == 0', 'c.phase == "post"', 'c.task != null'),
      fc.tuple(tie('c'), fc.constantFrom('&&', '||', '=>'), tie('c')).map(([a, op, b]) => `(${a}) ${op} (${b})`),
      tie('c').map((a) => `!(${a})`),
    ),
  })).c;

  it('its laws hold at every event of random runs (count splits a list, all is not-any-not), and so does R59', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary(), seedArbitrary, cpuCondition, async (scenario, seed, cond) => {
        const withExpect = validateScenario({
          ...scenario,
          expect: [
            { always: `count(c in cpus: ${cond}) + count(c in cpus: !(${cond})) == count(cpus)` },
            { always: `all(c in cpus: ${cond}) == !any(c in cpus: !(${cond}))` },
            { always: `sum(c in cpus: c.preempt_count) >= count(c in cpus: c.preempt_count > 0)` },
            { always: 'all(c in cpus: c.status != "idle" => c.preempt_count > 0)', name: 'R59' },
            { at_end: 'all(p in probes: p.hits >= p.nmissed)' },
          ],
        });
        const { result } = await runInMemory(withExpect, seed);
        expect(result.expectFailures).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});
