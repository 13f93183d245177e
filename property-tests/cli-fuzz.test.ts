import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { tooDeep } from '../src/json-depth.ts';
import { MemoryLog } from '../src/log/writer.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { cliInProcess, type CliResult } from '../test/cli-in-process.ts';

// Issue 9 §2: whatever a user feeds the command line (a mangled scenario file, a corrupted or
// cut log, a path that is not a file), kprobesim answers with the contract's status (0, 1 or 2)
// and, on 2, one message naming the place (a file, a file:line, a field path or an option):
// never an internal error (70), a stack trace or an exception escaping main. The CLI runs in
// this process (src/cli/program.ts), so an escaping exception fails the property directly.

const dir = mkdtempSync(join(tmpdir(), 'kprobesim-fuzz-'));
let n = 0;
const fresh = (ext: string) => join(dir, `f${n++}${ext}`);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

/** Every path in a JSON value (it is a built-in scenario: small and shallow). */
function paths(v: Json, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

function parentOf(root: Json, path: Path): { parent: Json; key: string | number } | null {
  if (path.length === 0) return null;
  let v = root;
  for (const k of path.slice(0, -1)) v = (v as Record<string | number, Json>)[k]!;
  return { parent: v, key: path.at(-1)! };
}

const ODD_STRINGS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '', ' ', 'x'.repeat(5000), 'é\u0000\ud800', 'kernel_clone', 'do_fork', '-1', '0x0', '{nmissed:__proto__}'];
const oddValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(...ODD_STRINGS),
  fc.constantFrom<Json>(null, true, false, 0, -1, 1e308, -1e308, 2 ** 53 + 1, 0.5, 4_294_967_296, [], {}, [[]], { __proto__: 1 } as Json),
  fc.integer({ min: -5, max: 70 }),
  fc.integer({ min: 200, max: 800 }).map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as Json),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
);

type Mutation =
  | { kind: 'delete' | 'duplicate' | 'deepen'; at: number }
  | { kind: 'set' | 'set-string'; at: number; value: Json }
  | { kind: 'rename'; at: number; key: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('delete' as const, 'duplicate' as const, 'deepen' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: oddValue }),
  // A string field (a symbol, a probe or module name, an op) given an odd string.
  fc.record({ kind: fc.constant('set-string' as const), at: fc.nat(), value: fc.constantFrom<Json>(...ODD_STRINGS) }),
  fc.record({ kind: fc.constant('rename' as const), at: fc.nat(), key: fc.constantFrom(...ODD_STRINGS, 'probe', 'fn', 'cpus', 'op') }),
);

/** Stands for a value nested thousands of levels deep, spliced into the text (see toText). */
const DEEP = '\u0000deep\u0000';

/** The JSON text of a mutant: DEEP becomes arrays nested `depth` levels deep. */
function toText(v: Json, depth: number): string {
  return JSON.stringify(v).replaceAll(JSON.stringify(DEEP), '['.repeat(depth) + ']'.repeat(depth));
}

function valueAt(root: Json, path: Path): Json {
  let v = root;
  for (const k of path) v = (v as Record<string | number, Json>)[k]!;
  return v;
}

function mutate(root: Json, m: Mutation): Json {
  const all = paths(root).filter((p) => m.kind !== 'set-string' || typeof valueAt(root, p) === 'string');
  if (all.length === 0) return root;
  const path = all[m.at % all.length]!;
  const where = parentOf(root, path);
  if (where === null) return m.kind === 'set' ? m.value : root;
  const { parent, key } = where;
  const obj = parent as Record<string | number, Json>;
  if (Array.isArray(parent)) {
    const i = key as number;
    if (m.kind === 'delete') parent.splice(i, 1);
    else if (m.kind === 'duplicate') parent.splice(i, 0, structuredClone(parent[i]!));
    else if (m.kind === 'deepen') parent[i] = DEEP;
    else if (m.kind === 'set' || m.kind === 'set-string') parent[i] = m.value;
    else if (m.kind === 'rename') parent[i] = { [m.key]: parent[i]! };
    return root;
  }
  // Own properties only, defined (not assigned): "__proto__" becomes a key as in JSON.parse.
  const define = (k: string, v: Json) => Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
  if (m.kind === 'delete') delete obj[key];
  else if (m.kind === 'duplicate') define(`${String(key)}2`, structuredClone(obj[key]!));
  else if (m.kind === 'deepen') define(String(key), DEEP);
  else if (m.kind === 'set' || m.kind === 'set-string') define(String(key), m.value);
  else if (m.kind === 'rename') {
    const v = obj[key]!;
    delete obj[key];
    define(m.key, v);
  }
  return root;
}

/** The checks every answer must pass; `places` are the strings that may name the place. */
function wellBehaved(r: CliResult, places: readonly string[]): void {
  expect([0, 1, 2], r.err).toContain(r.code);
  expect(r.err).not.toMatch(/internal error/);
  expect(r.err).not.toMatch(/\n\s+at /);
  if (r.code === 2) {
    expect(r.err).toMatch(/^kprobesim: /);
    const named = places.some((p) => r.err.includes(p)) || /--[a-z]|scenario\.|^kprobesim: -:/.test(r.err);
    expect(named, r.err).toBe(true);
  }
}

const SCENARIOS = ['kunit-missed', 'registration-errors', 'enable-disable', 'aggregate', 'module-unload', 'kretprobe-pool'];

describe('the command line in the face of odd input', () => {
  it('mutated scenario files: run answers 0, 1 or 2, and 2 names the file and field', async () => {
    const statuses: number[] = [];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SCENARIOS), fc.array(mutation, { maxLength: 4 }), fc.nat(1000), fc.constantFrom(150, 6000, 20_000), async (name, mutations, seed, depth) => {
        let raw = JSON.parse(JSON.stringify(BUILTIN_SCENARIOS.get(name))) as Json;
        for (const m of mutations) raw = mutate(raw, m);
        // Runs stay short: a mutation may raise times or cpus, but max_steps bounds the run.
        if (raw !== null && typeof raw === 'object' && !Array.isArray(raw) && (raw.max_steps === undefined || (typeof raw.max_steps === 'number' && raw.max_steps > 3000))) raw.max_steps = 3000;
        const file = fresh('.json');
        writeFileSync(file, toText(raw, depth));
        const r = await cliInProcess(['run', file, '--no-log', '--seed', String(seed)]);
        wellBehaved(r, [file]);
        statuses.push(r.code);
      }),
      { numRuns: 150 },
    );
    // Not vacuous: some inputs get past validation and run (few mutants do; the unmutated ones do).
    expect(statuses.filter((c) => c !== 2).length).toBeGreaterThan(2);
  });

  const logs = new Map<string, string>();
  beforeAll(async () => {
    for (const name of ['kunit-missed', 'registration-errors', 'kretprobe-pool']) {
      const log = new MemoryLog();
      await recordRun(BUILTIN_SCENARIOS.get(name)!, { seed: 7, strategy: 'random' }, log);
      logs.set(name, log.text());
    }
  });

  type Corruption =
    | { kind: 'flip'; at: number; byte: number }
    | { kind: 'cut'; at: number }
    | { kind: 'dup-line' | 'drop-line'; line: number }
    | { kind: 'swap-lines'; line: number; other: number }
    | { kind: 'header'; mutation: Mutation };
  const corruption: fc.Arbitrary<Corruption> = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constantFrom('dup-line' as const, 'drop-line' as const), line: fc.nat() }),
    fc.record({ kind: fc.constant('swap-lines' as const), line: fc.nat(), other: fc.nat() }),
    fc.record({ kind: fc.constant('header' as const), mutation }),
  );

  function corrupt(text: string, c: Corruption): Buffer {
    const bytes = Buffer.from(text);
    const lines = text.split('\n').slice(0, -1);
    if (bytes.length === 0 || lines.length === 0) return bytes;
    switch (c.kind) {
      case 'flip':
        bytes[c.at % bytes.length] = c.byte;
        return bytes;
      case 'cut':
        return bytes.subarray(0, c.at % bytes.length);
      case 'dup-line':
      case 'drop-line': {
        const i = c.line % lines.length;
        if (c.kind === 'dup-line') lines.splice(i, 0, lines[i]!);
        else lines.splice(i, 1);
        return Buffer.from(lines.map((l) => `${l}\n`).join(''));
      }
      case 'swap-lines': {
        const [i, j] = [c.line % lines.length, c.other % lines.length];
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        return Buffer.from(lines.map((l) => `${l}\n`).join(''));
      }
      case 'header': {
        // Only a header that is still JSON can be mutated as JSON; else this corruption is moot.
        let header: Json;
        try {
          header = JSON.parse(lines[0] ?? '') as Json;
        } catch {
          return bytes;
        }
        // An earlier corruption nested it deeper than this harness's own recursion goes.
        if (tooDeep(header, 50) !== null) return bytes;
        lines[0] = toText(mutate(header, c.mutation), 6000);
        return Buffer.from(lines.map((l) => `${l}\n`).join(''));
      }
    }
  }

  const COMMANDS: ((log: string) => string[])[] = [
    (log) => ['replay', log],
    (log) => ['state', log],
    (log) => ['state', log, '--at', '40'],
    (log) => ['trace', log],
    (log) => ['why', log, '--probe', 'kp'],
    (log) => ['debugfs', log, 'list'],
  ];

  it('corrupted logs: replay, state, trace, why and debugfs answer 0, 1 or 2, and 2 names the file', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...logs.keys()), fc.array(corruption, { minLength: 1, maxLength: 3 }), fc.nat(COMMANDS.length - 1), async (name, corruptions, command) => {
        let bytes: Buffer = Buffer.from(logs.get(name)!);
        for (const c of corruptions) bytes = corrupt(bytes.toString('utf8'), c);
        const file = fresh('.jsonl');
        writeFileSync(file, bytes);
        wellBehaved(await cliInProcess(COMMANDS[command]!(file)), [file]);
      }),
      { numRuns: 150 },
    );
  });

  it('odd paths: directories, devices, missing files, "" and "-" with empty standard input, for every command', async () => {
    const sub = join(dir, 'a-directory');
    mkdirSync(sub);
    const paths = [dir, sub, '/dev/null', '/dev/zero', join(dir, 'missing.jsonl'), join(dir, 'missing', 'deeper.json'), '-', ''];
    const commands: ((p: string) => string[])[] = [...COMMANDS, (p) => ['run', p, '--no-log'], (p) => ['shell', '--replay', p], (p) => ['run', 'kunit-missed', '--log', p]];
    // Few enough to try every pair.
    for (const path of paths) {
      for (const command of commands) wellBehaved(await cliInProcess(command(path), ''), path === '' ? ['empty', 'no built-in scenario ""'] : [path]);
    }
  });
});
