import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { SCENARIO_SCHEMA_ID, scenarioFileText } from '../src/scenario/format.ts';
import { scenarioJsonSchemaText } from '../src/scenario/json-schema.ts';

// schema/scenario.schema.json is generated from the zod schema (scripts/schema.ts) and shipped,
// so editors complete and explain scenario files. No JSON Schema library is installed, so a
// small checker of the draft-07 keywords the file uses stands in for one; it refuses any other
// keyword, so the file cannot grow one the check would silently skip.

type Schema = Record<string, unknown>;
const committed = readFileSync('schema/scenario.schema.json', 'utf8');
const root = JSON.parse(committed) as Schema;

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'default', 'definitions']);

/** The problems of `v` against `s` (draft-07 subset), each with its JSON path. */
function check(s: Schema, v: unknown, at = '$'): string[] {
  const errs: string[] = [];
  const typeOf = (x: unknown) => (x === null ? 'null' : Array.isArray(x) ? 'array' : Number.isInteger(x) ? 'integer' : typeof x);
  for (const [k, arg] of Object.entries(s)) {
    switch (k) {
      case '$ref': {
        const m = /^#\/definitions\/(.+)$/.exec(arg as string);
        if (m === null) throw new Error(`unsupported $ref ${String(arg)}`);
        errs.push(...check((root.definitions as Record<string, Schema>)[m[1]!]!, v, at));
        break;
      }
      case 'type': {
        const t = typeOf(v);
        if (!(t === arg || (arg === 'number' && t === 'integer'))) errs.push(`${at}: expected ${String(arg)}, got ${t}`);
        break;
      }
      case 'enum':
        if (!(arg as unknown[]).includes(v)) errs.push(`${at}: not one of ${JSON.stringify(arg)}`);
        break;
      case 'const':
        if (v !== arg) errs.push(`${at}: expected ${JSON.stringify(arg)}`);
        break;
      case 'minLength':
        if (typeof v === 'string' && v.length < (arg as number)) errs.push(`${at}: shorter than ${String(arg)}`);
        break;
      case 'maxLength':
        if (typeof v === 'string' && v.length > (arg as number)) errs.push(`${at}: longer than ${String(arg)}`);
        break;
      case 'pattern':
        if (typeof v === 'string' && !new RegExp(arg as string, 'u').test(v)) errs.push(`${at}: does not match ${String(arg)}`);
        break;
      case 'minimum':
        if (typeof v === 'number' && v < (arg as number)) errs.push(`${at}: below ${String(arg)}`);
        break;
      case 'maximum':
        if (typeof v === 'number' && v > (arg as number)) errs.push(`${at}: above ${String(arg)}`);
        break;
      case 'minItems':
        if (Array.isArray(v) && v.length < (arg as number)) errs.push(`${at}: fewer than ${String(arg)} items`);
        break;
      case 'maxItems':
        if (Array.isArray(v) && v.length > (arg as number)) errs.push(`${at}: more than ${String(arg)} items`);
        break;
      case 'items':
        if (Array.isArray(v)) v.forEach((x, i) => errs.push(...check(arg as Schema, x, `${at}[${i}]`)));
        break;
      case 'properties':
        if (typeOf(v) === 'object') {
          for (const [p, ps] of Object.entries(arg as Record<string, Schema>)) {
            if (Object.hasOwn(v as object, p)) errs.push(...check(ps, (v as Record<string, unknown>)[p], `${at}.${p}`));
          }
        }
        break;
      case 'required':
        if (typeOf(v) === 'object') for (const p of arg as string[]) if (!Object.hasOwn(v as object, p)) errs.push(`${at}: missing ${p}`);
        break;
      case 'additionalProperties':
        if (arg !== false) throw new Error('unsupported additionalProperties');
        if (typeOf(v) === 'object') {
          for (const p of Object.keys(v as object)) if (!Object.hasOwn((s.properties ?? {}) as object, p)) errs.push(`${at}: unknown field ${p}`);
        }
        break;
      case 'oneOf': {
        const ok = (arg as Schema[]).filter((o) => check(o, v, at).length === 0).length;
        if (ok !== 1) errs.push(`${at}: matches ${ok} of the oneOf forms, not exactly one`);
        break;
      }
      case 'anyOf':
        if (!(arg as Schema[]).some((o) => check(o, v, at).length === 0)) errs.push(`${at}: matches none of the anyOf forms`);
        break;
      default:
        if (!ANNOTATIONS.has(k)) throw new Error(`the checker does not know the keyword ${k}`);
    }
  }
  return errs;
}

describe('schema/scenario.schema.json', () => {
  it('is what scripts/schema.ts generates from the zod schema (regenerate with `npx tsx scripts/schema.ts`)', () => {
    expect(committed).toBe(scenarioJsonSchemaText());
  });

  it('is a draft-07 schema with an $id, a title, and a description on every field', () => {
    expect(root).toMatchObject({ $schema: 'http://json-schema.org/draft-07/schema#', $id: SCENARIO_SCHEMA_ID, title: 'kprobesim scenario' });
    const undescribed: string[] = [];
    const walk = (s: Schema, at: string) => {
      for (const [p, ps] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
        // A discriminator ("do", "op") is explained by its variant's description.
        if (ps.description === undefined && ps.const === undefined) undescribed.push(`${at}.${p}`);
        walk(ps, `${at}.${p}`);
        if (ps.items !== undefined) walk(ps.items as Schema, `${at}.${p}[]`);
      }
      for (const o of (s.oneOf ?? []) as Schema[]) {
        if (o.description === undefined) undescribed.push(`${at} (${JSON.stringify(o.properties)})`);
        walk(o, at);
      }
    };
    walk(root, 'scenario');
    for (const [n, d] of Object.entries(root.definitions as Record<string, Schema>)) {
      expect(d.description, n).toBeDefined();
      walk(d, n);
    }
    expect(undescribed).toEqual([]);
  });

  it('every built-in scenario, as `scenarios --show` prints it, validates against it', () => {
    for (const s of BUILTIN_SCENARIOS.values()) expect(check(root, JSON.parse(scenarioFileText(s))), s.name).toEqual([]);
  });

  it('every example scenario file validates against it', () => {
    for (const f of readdirSync('examples').filter((n) => n.endsWith('.json'))) {
      expect(check(root, JSON.parse(readFileSync(`examples/${f}`, 'utf8'))), f).toEqual([]);
    }
  });

  it('refuses what validation refuses in structure: unknown fields, wrong types, unknown ops, out-of-range numbers', () => {
    const base = { name: 'x', tasks: [{ comm: 'sh', program: [] }] };
    expect(check(root, base)).toEqual([]);
    expect(check(root, { ...base, cpu: 2 })).toEqual(['$: unknown field cpu']);
    expect(check(root, { ...base, cpus: 0 })).toEqual(['$.cpus: below 1']);
    expect(check(root, { ...base, tasks: [{ comm: 'sh', program: [{ op: 'fly' }] }] })).toEqual(['$.tasks[0].program[0]: matches 0 of the oneOf forms, not exactly one']);
    expect(check(root, { ...base, probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'spin', steps: '3' }] }] })).toEqual(['$.probes[0].pre[0]: matches 0 of the oneOf forms, not exactly one']);
    expect(check(root, { name: 'x' })).toEqual(['$: missing tasks']);
  });

  it('an expectation is {"always": …} or {"at_end": …} with an optional name, as validation says', () => {
    const base = { name: 'x', tasks: [{ comm: 'sh', program: [] }] };
    expect(check(root, { ...base, expect: [{ always: 'true', name: 'n' }, { at_end: 'halted' }] })).toEqual([]);
    // Both, neither, or another field: none of the two forms.
    for (const bad of [{ always: 'true', at_end: 'true' }, { name: 'n' }, { always: 'true', when: 'now' }, { always: '' }]) {
      expect(check(root, { ...base, expect: [bad] }), JSON.stringify(bad)).toEqual(['$.expect[0]: matches none of the anyOf forms']);
    }
  });
});
