// The catalog's payload and ownership rules (src/model/events.ts: checkPayload, expectedSource)
// compiled once per event type into a flat list of field tests, so that a valid line costs one
// Map lookup and one direct test per field instead of a generic walk over the catalog. It only
// answers "valid or not": on the first failing test the reader asks checkPayload and
// expectedSource themselves for the message, so messages come from one place.

import { EVENT_FIELDS, emitterOf, type EventType } from '../model/events.ts';

type Test = (v: unknown) => boolean;

interface Field {
  readonly name: string;
  readonly ok: Test;
}

export interface TypeCheck {
  readonly type: EventType;
  readonly fields: readonly Field[];
  /** The src every event of this type carries, or null for a CPU's ("cpu/N", N its payload's cpu). */
  readonly src: string | null;
}

const HEX_RE = /^0x[0-9a-f]{1,16}$/;

const isInt: Test = (v) => Number.isSafeInteger(v);
const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The same predicate as events.ts's kindOk for one kind, chosen once. */
function testFor(kind: unknown): Test {
  if (typeof kind !== 'string') {
    const allowed = new Set(kind as readonly string[]);
    return (v) => typeof v === 'string' && allowed.has(v);
  }
  switch (kind) {
    case 'int':
      return isInt;
    case 'int?':
      return (v) => v === null || Number.isSafeInteger(v);
    case 'hex':
      return (v) => typeof v === 'string' && HEX_RE.test(v);
    case 'hex?':
      return (v) => v === null || (typeof v === 'string' && HEX_RE.test(v));
    case 'str':
      return (v) => typeof v === 'string';
    case 'str?':
      return (v) => v === null || typeof v === 'string';
    case 'bool':
      return (v) => typeof v === 'boolean';
    case 'int[]':
      return (v) => {
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!Number.isSafeInteger(v[i])) return false;
        return true;
      };
    case 'str[]':
      return (v) => {
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
        return true;
      };
    case 'obj':
      return isObject;
    case 'obj[]':
      return (v) => {
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!isObject(v[i])) return false;
        return true;
      };
    default:
      throw new Error(`unknown field kind ${kind}`);
  }
}

const CHECKS: ReadonlyMap<string, TypeCheck> = new Map(
  (Object.keys(EVENT_FIELDS) as EventType[]).map((type) => {
    const spec = EVENT_FIELDS[type] as Record<string, unknown>;
    const fields = Object.keys(spec).map((name) => ({ name, ok: testFor(spec[name]) }));
    const who = emitterOf(type);
    return [type, { type, fields, src: who === 'cpu' ? null : who }];
  }),
);

/** The compiled check of an event type, or undefined when `type` is not a catalog type string. */
export function typeCheck(type: unknown): TypeCheck | undefined {
  return typeof type === 'string' ? CHECKS.get(type) : undefined;
}

/** Whether every payload field is present and of its kind (checkPayload would return null). */
export function payloadOk(check: TypeCheck, obj: Record<string, unknown>): boolean {
  const fields = check.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (!(f.name in obj) || !f.ok(obj[f.name])) return false;
  }
  return true;
}

const CPU_SOURCES = Array.from({ length: 64 }, (_, i) => `cpu/${i}`);

/** Whether `src` is the one expectedSource names for this event. */
export function sourceOk(check: TypeCheck, obj: Record<string, unknown>, src: string): boolean {
  if (check.src !== null) return src === check.src;
  const cpu = obj.cpu as number;
  return src === (CPU_SOURCES[cpu] ?? `cpu/${String(cpu)}`);
}
