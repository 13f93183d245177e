// The catalog's payload and ownership rules (src/model/events.ts: checkPayload, expectedSource)
// compiled once per event type into a flat list of field tests, so that a valid line costs one
// Map lookup and one switch per field instead of a generic walk over the catalog. It only
// answers "valid or not": on the first failing test the reader asks checkPayload and
// expectedSource themselves for the message, so messages come from one place.

import { EVENT_FIELDS, emitterOf, type EventType } from '../model/events.ts';

// Field kinds as small integers: one switch in payloadOk, no call through a closure per field.
const INT = 0, INT_OR_NULL = 1, HEX = 2, HEX_OR_NULL = 3, STR = 4, STR_OR_NULL = 5, BOOL = 6, INTS = 7, STRS = 8, OBJ = 9, OBJS = 10, ENUM = 11;

const KIND_CODES: Readonly<Record<string, number>> = {
  int: INT,
  'int?': INT_OR_NULL,
  hex: HEX,
  'hex?': HEX_OR_NULL,
  str: STR,
  'str?': STR_OR_NULL,
  bool: BOOL,
  'int[]': INTS,
  'str[]': STRS,
  obj: OBJ,
  'obj[]': OBJS,
};

interface Field {
  readonly name: string;
  readonly kind: number;
  /** The allowed strings of an enumeration (kind ENUM), else null. */
  readonly allowed: ReadonlySet<string> | null;
}

export interface TypeCheck {
  readonly type: EventType;
  readonly fields: readonly Field[];
  /** The src every event of this type carries, or null for a CPU's ("cpu/N", N its payload's cpu). */
  readonly src: string | null;
}

/** HEX_RE.test(v) of events.ts (/^0x[0-9a-f]{1,16}$/) as a loop: most CPU events carry an address. */
function isHex(v: string): boolean {
  const n = v.length;
  if (n < 3 || n > 18 || v.charCodeAt(0) !== 0x30 || v.charCodeAt(1) !== 0x78) return false;
  for (let i = 2; i < n; i++) {
    const c = v.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(name: string, kind: unknown): Field {
  if (typeof kind !== 'string') return { name, kind: ENUM, allowed: new Set(kind as readonly string[]) };
  const code = KIND_CODES[kind];
  if (code === undefined) throw new Error(`unknown field kind ${kind}`);
  return { name, kind: code, allowed: null };
}

/** The same predicate as events.ts's kindOk. */
function kindOk(f: Field, v: unknown): boolean {
  switch (f.kind) {
    case INT:
      return Number.isSafeInteger(v);
    case INT_OR_NULL:
      return v === null || Number.isSafeInteger(v);
    case HEX:
      return typeof v === 'string' && isHex(v);
    case HEX_OR_NULL:
      return v === null || (typeof v === 'string' && isHex(v));
    case STR:
      return typeof v === 'string';
    case STR_OR_NULL:
      return v === null || typeof v === 'string';
    case BOOL:
      return typeof v === 'boolean';
    case INTS:
      if (!Array.isArray(v)) return false;
      for (let i = 0; i < v.length; i++) if (!Number.isSafeInteger(v[i])) return false;
      return true;
    case STRS:
      if (!Array.isArray(v)) return false;
      for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
      return true;
    case OBJ:
      return isObject(v);
    case OBJS:
      if (!Array.isArray(v)) return false;
      for (let i = 0; i < v.length; i++) if (!isObject(v[i])) return false;
      return true;
    default:
      return typeof v === 'string' && f.allowed!.has(v);
  }
}

const CHECKS: ReadonlyMap<string, TypeCheck> = new Map(
  (Object.keys(EVENT_FIELDS) as EventType[]).map((type) => {
    const spec = EVENT_FIELDS[type] as Record<string, unknown>;
    const fields = Object.keys(spec).map((name) => field(name, spec[name]));
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
    if (!(f.name in obj) || !kindOk(f, obj[f.name])) return false;
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
