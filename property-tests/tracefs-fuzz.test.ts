// Property tests for the `kprobe_events` parser (spec §15, §21–§22).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderProbe } from '../src/tracefs/canonical.ts';
import { isErrorKey, type ErrorKey } from '../src/tracefs/errors.ts';
import { EMPTY_EVENTS_FILE, readEventsFile, writeEventsFile } from '../src/tracefs/events-file.ts';
import { evaluateFilter, filterFieldTable, parseFilter, readFilterFile, writeFilterFile, NO_FILTER } from '../src/tracefs/filter.ts';
import { parseProbeCommand } from '../src/tracefs/grammar.ts';
import { simpleContext } from '../src/tracefs/simple-context.ts';
import type { BtfType, ParseContext } from '../src/tracefs/types.ts';

const SYMBOLS = ['vfs_read', 'kfree', 'kernel_clone', 'do_exit', 'foo.isra.0', { name: 'mod_func', module: 'mymod' }];
const U64: BtfType = { kind: 'int', bits: 64, signed: false };
const FILE: BtfType = { kind: 'struct', name: 'file', members: [{ name: 'f_flags', type: { kind: 'int', bits: 32, signed: false }, bitOffset: 384 }] };
const CTXS: Record<string, ParseContext> = {
  x86: simpleContext({ symbols: SYMBOLS, modules: ['mymod'] }),
  arm64: simpleContext({ arch: 'arm64', symbols: SYMBOLS, modules: ['mymod'] }),
  btf: simpleContext({
    symbols: SYMBOLS,
    modules: ['mymod'],
    btf: {
      vfs_read: {
        returnType: { kind: 'int', bits: 64, signed: true },
        params: [
          { name: 'file', type: { kind: 'ptr', target: FILE } },
          { name: 'count', type: U64 },
        ],
      },
      kfree: { returnType: null, params: [{ name: 'objp', type: { kind: 'ptr', target: null } }] },
    },
  }),
};
const ctxArb = fc.constantFrom(...Object.keys(CTXS)).map((k) => CTXS[k] as ParseContext);

// Pieces of the grammar, glued together at random, reach deep parser paths far more often than
// uniformly random text does.
const FRAGMENTS = [
  'p', 'r', 'r4', 'p:', 'r:', ':', '/', '.', 'ev', 'grp', ' ', ' ', ' ', '\t', 'vfs_read', 'kfree', 'kernel_clone',
  'mymod:', 'nomod:', 'mod_func', '+', '-', '0x', '10', '4', '0', '%return', '%', '%ax', '%x0', '%di', '$arg', '$arg*',
  '$arg1', '*', '$stack', '$stack3', '$retval', '$comm', '$COMM', '@', '@+', '(', ')', '+0(', '+u8(', '-8(', '\\', '\\"',
  '"', '=', 'x=', 'y=', ':u8', ':x64', ':string', ':ustring', ':symstr', ':symbol', ':char', '[', ']', '[4]', ':b4@2/8',
  ':b', '@', '#', '-:', '%pd', ':%pd', ':%pD', 'file', 'count', '->', '.', 'f_flags', '0xffffffff81000000', 'common_pid',
];
const glue = (min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...FRAGMENTS), { minLength: min, maxLength: max }).map((a) => a.join(''));
const grammarish = glue(0, 40);
/** A create command shape: head, location, fetch arguments — each valid or glued from fragments. */
const commandish = fc
  .tuple(
    fc.oneof(fc.constantFrom('p', 'r', 'r4', 'p:ev', 'r:grp/ev', 'p:grp.e', 'p:', 'r0', 'p9'), glue(1, 4)),
    fc.oneof(fc.constantFrom('vfs_read', 'vfs_read+4', 'kfree%return', '0x1000', 'mymod:mod_func', 'nomod:x', 'dup'), glue(1, 4)),
    fc.array(glue(1, 8), { maxLength: 5 }),
  )
  .map(([h, l, args]) => [h, l, ...args].join(' '));
const anyLine = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 120 }),
  grammarish,
  commandish,
  commandish,
  commandish,
);

/**
 * Errors raised after a dereference was parsed use the kernel's unrestored offset (R121), which
 * may point up to one dereference prefix past the argument; every other caret lies inside the
 * echoed command or at the virtual position after it (R165).
 */
const SHIFTABLE: ReadonlySet<ErrorKey> = new Set<ErrorKey>(['BAD_BITFIELD', 'BAD_STRING', 'BAD_SYMSTRING', 'TOO_MANY_OPS', 'BAD_TYPE4STR']);

describe('parser robustness (§15, §22)', () => {
  it('R159/R165: any line parses or fails with a table key and an in-range caret — never throws', () => {
    fc.assert(
      fc.property(anyLine, ctxArb, (line, ctx) => {
        const r = parseProbeCommand(line, ctx);
        if (r.ok) return;
        if (r.error === null) {
          expect(r.errno).toBeGreaterThan(0);
          return;
        }
        expect(isErrorKey(r.error.key)).toBe(true);
        expect(r.error.errno).toBeGreaterThan(0);
        expect(r.logged.length).toBeGreaterThan(0);
        expect(r.logged[0]?.error.key).toBe(r.error.key);
        for (const { error, command } of r.logged) {
          expect(isErrorKey(error.key)).toBe(true);
          expect(error.offset).toBeGreaterThanOrEqual(0);
          const bound = command.length + 1 + (SHIFTABLE.has(error.key) ? 63 : 0);
          expect(error.offset).toBeLessThanOrEqual(bound);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('R102: any write keeps the store consistent and reads back only canonical lines', () => {
    const env = { parse: CTXS.x86 as ParseContext, isEnabled: () => false };
    fc.assert(
      fc.property(fc.array(fc.oneof(grammarish, fc.constant('p:a vfs_read'), fc.constant('-:a')), { maxLength: 6 }), (lines) => {
        const r = writeEventsFile(EMPTY_EVENTS_FILE, lines.join('\n'), env);
        expect(r.errno === 0 || r.failedLine !== null).toBe(true);
        for (const l of readEventsFile(r.state).split('\n').filter((x) => x !== '')) {
          const again = parseProbeCommand(l, env.parse);
          expect(again.ok).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

const FILTER_FRAGMENTS = [
  ' ', '(', ')', '!', '&&', '||', '&', '|', '==', '!=', '<', '<=', '>', '>=', '~', '=', 'n', 'f', 'comm', 'CPU',
  'common_pid', 'nosuch', '1', '-5', '0x10', '"a*"', "'b'", '"', 'CPUS{1,2}', 'CPUS{', '.function', '12z',
];
const filterish = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.array(fc.constantFrom(...FILTER_FRAGMENTS), { maxLength: 20 }).map((a) => a.join('')),
);

describe('filter robustness (§17)', () => {
  const r = parseProbeCommand('p:ev vfs_read n=%ax:u32 s=%bx:s16 f=+0(%di):string', CTXS.x86 as ParseContext);
  if (!r.ok || r.command.kind !== 'define') throw new Error('setup');
  const findField = filterFieldTable(r.command.probe);
  it('R149: any expression parses or fails with a message and a position; evaluation never throws', () => {
    fc.assert(
      fc.property(filterish, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.string({ maxLength: 20 }), (expr, v, str) => {
        const p = parseFilter(expr, { findField });
        if (p.ok) {
          expect(typeof evaluateFilter(p.filter, { fields: { n: v, s: v, f: str, common_pid: v }, cpu: 1, comm: str })).toBe('boolean');
        } else if (p.error) {
          expect(p.error.pos).toBeGreaterThanOrEqual(0);
          expect(p.error.pos).toBeLessThanOrEqual(expr.length + 2);
        }
        const w = writeFilterFile(NO_FILTER, expr, { findField });
        expect(readFilterFile(w.state).endsWith('\n')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

// ── R136 round trip ──────────────────────────────────────────────────────────────────────────

const leaf = fc.constantFrom(
  '%ax', '%di', '%sp', '%r8', '%flags', '%x0', '%x30', '%pstate', '$stack', '$stack0', '$stack7', '$arg1', '$arg2',
  '@0x1000', '@jiffies', '@jiffies+8', '@jiffies-0x10', '\\1', '\\-5', '\\0x10', '\\+7', '$comm', '\\"str"', '$retval',
  'file', 'count', 'file->f_flags',
);
const body: fc.Arbitrary<string> = fc.letrec<{ body: string }>((tie) => ({
  body: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.tuple(fc.constantFrom('+0', '+8', '-16', '+u4', '+0x10', '-u0'), tie('body')).map(([o, b]) => `${o}(${b})`),
  ),
})).body;
const typeSuffix = fc.option(
  fc.constantFrom('u8', 'u16', 's32', 's64', 'x8', 'x64', 'char', 'symbol', 'string', 'ustring', 'symstr', 'b4@2/8', 'b1@0/64',
    'b3@5/0x20', 'u8[4]', 'x16[2]', 'string[2]', '%pd', '%pD'),
  { nil: null },
);
const argName = fc.option(fc.constantFrom('a', 'b', 'val', 'x_1', 'arg9'), { nil: null });
const fetchArg = fc.tuple(argName, body, typeSuffix).map(([n, b, t]) => `${n !== null ? `${n}=` : ''}${b}${t !== null ? `:${t}` : ''}`);
const head = fc.tuple(
  fc.constantFrom('p', 'r'),
  fc.option(fc.constantFrom(1, 8, 4096), { nil: null }),
  fc.option(fc.constantFrom('ev', 'grp/ev', 'grp.ev', 'grp/', 'my-grp/e_1', `e${'x'.repeat(62)}`), { nil: null }),
).map(([k, m, e]) => `${k}${k === 'r' && m !== null ? m : ''}${e !== null ? `:${e}` : ''}`);
const location = fc.oneof(
  fc.tuple(
    fc.constantFrom('vfs_read', 'kfree', 'kernel_clone', 'foo.isra.0', 'mymod:mod_func', 'nomod:thing'),
    fc.constantFrom('', '+0', '+4', '+0x10', '+4294967295'),
    fc.constantFrom('', '', '%return'),
  ).map(([s, o, r]) => `${s}${o}${r}`),
  fc.constantFrom('0x1000', '0xffffffff81000000', '4096', '0'),
);
const defineLine = fc
  .tuple(head, location, fc.array(fc.oneof(fetchArg, fc.constant('$arg*')), { maxLength: 5 }))
  .map(([h, l, args]) => [h, l, ...args].join(' '));

describe('R136 read-back', () => {
  it('R136: every accepted define line, rendered canonically, re-parses to an equal definition', () => {
    fc.assert(
      fc.property(defineLine, ctxArb, (line, ctx) => {
        const r = parseProbeCommand(line, ctx);
        if (!r.ok || r.command.kind !== 'define') return;
        const text = renderProbe(r.command.probe);
        const again = parseProbeCommand(text, ctx);
        if (!again.ok) throw new Error(`${line} → ${text} was rejected: ${again.error ? again.error.key : again.reason}`);
        if (again.command.kind !== 'define') throw new Error(`${text} is not a define`);
        expect(again.command.probe).toEqual(r.command.probe);
        expect(renderProbe(again.command.probe)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('the read-back generator is not vacuous (a good share of lines is accepted)', () => {
    const sample = fc.sample(fc.tuple(defineLine, ctxArb), { numRuns: 400, seed: 42 });
    const accepted = sample.filter(([l, c]) => parseProbeCommand(l, c).ok).length;
    expect(accepted).toBeGreaterThan(60);
  });
});
