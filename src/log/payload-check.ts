// The catalog's payload rules (src/model/events.ts: EVENT_FIELDS, kindOk) laid out once per event
// type as a flat list of fields, so that a valid line costs one Map lookup and one kindOk per
// field instead of a walk over the catalog. It only answers "valid or not": on a failure the
// reader asks checkPayload and expectedSource for the message, so messages come from one place.

import { EVENT_FIELDS, emitterOf, expectedSource, kindOk, type EventType, type FieldKind } from '../model/events.ts';

interface Field {
  readonly name: string;
  readonly kind: FieldKind;
}

export interface TypeCheck {
  readonly type: EventType;
  readonly fields: readonly Field[];
  /** The src every event of this type carries, or null for a CPU's ("cpu/N", N its payload's cpu). */
  readonly src: string | null;
}

const CHECKS: ReadonlyMap<string, TypeCheck> = new Map(
  (Object.keys(EVENT_FIELDS) as EventType[]).map((type) => {
    const spec = EVENT_FIELDS[type] as Record<string, FieldKind>;
    const fields = Object.keys(spec).map((name) => ({ name, kind: spec[name]! }));
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
    if (!(f.name in obj)) {
      if (f.kind === 'str|absent') continue;
      return false;
    }
    if (!kindOk(f.kind, obj[f.name])) return false;
  }
  return true;
}

/** Whether `src` is the one expectedSource names for this event. */
export function sourceOk(check: TypeCheck, obj: Record<string, unknown>, src: string): boolean {
  return src === (check.src ?? expectedSource(check.type, obj));
}
