// The event directory files (spec §16): `enable` (R134, R138), `filter` (R140, R149, R163),
// `format` (R141–R143), `id` (R139); and the group-level and top-level `enable` files (R138).
// A file whose event has disappeared since it was resolved fails with ENODEV, as in the kernel.

import {
  FILTER_LOG_LOC,
  filterFieldTable,
  readFilterFile,
  renderFormat,
  writeFilterFile,
} from '../../tracefs/index.ts';
import { E } from '../messages.ts';
import type { Tracing } from '../tracing.ts';
import { fail, ok, parseBool, type FileOps } from './types.ts';

/** Enable or disable one event through the kernel (its registered probes only, R134). */
export function setEventEnabled(t: Tracing, group: string, event: string, on: boolean): number {
  const st = t.eventState(group, event);
  if (!st) return E.ENODEV;
  if (st.enabled === on) return 0;
  const probes = t
    .probesOf(group, event)
    .filter((p) => p.registered)
    .map((p) => p.probe);
  if (on) {
    const ret = t.backend.enableEvent(probes);
    if (ret < 0) return -ret;
  } else {
    t.backend.disableEvent(probes);
  }
  st.enabled = on;
  return 0;
}

export function eventEnableFile(t: Tracing, group: string, event: string): FileOps {
  return {
    readable: true,
    writable: true,
    open: () => 0,
    read() {
      const st = t.eventState(group, event);
      return st ? ok(`${st.enabled ? 1 : 0}\n`) : fail(E.ENODEV);
    },
    write(data) {
      const v = parseBool(data);
      if (!v.ok) return v.errno;
      return setEventEnabled(t, group, event, v.value);
    },
  };
}

export function eventFilterFile(t: Tracing, group: string, event: string): FileOps {
  return {
    readable: true,
    writable: true,
    open: () => 0,
    read() {
      const st = t.eventState(group, event);
      return st ? ok(readFilterFile(st.filter)) : fail(E.ENODEV);
    },
    write(data) {
      const st = t.eventState(group, event);
      const primary = t.probesOf(group, event)[0];
      if (!st || !primary) return E.ENODEV;
      const r = writeFilterFile(st.filter, data, { findField: filterFieldTable(primary.probe) });
      st.filter = r.state;
      if (r.logged) t.logError(FILTER_LOG_LOC, r.logged.message, r.logged.command, r.logged.pos);
      return r.errno;
    },
  };
}

export function eventFormatFile(t: Tracing, group: string, event: string): FileOps {
  return {
    readable: true,
    writable: false,
    open: () => 0,
    read() {
      const st = t.eventState(group, event);
      const primary = t.probesOf(group, event)[0];
      return st && primary ? ok(renderFormat(primary.probe, st.id)) : fail(E.ENODEV);
    },
    write: () => E.EINVAL,
  };
}

export function eventIdFile(t: Tracing, group: string, event: string): FileOps {
  return {
    readable: true,
    writable: false,
    open: () => 0,
    read() {
      const st = t.eventState(group, event);
      return st ? ok(`${st.id}\n`) : fail(E.ENODEV);
    },
    write: () => E.EINVAL,
  };
}

/**
 * `events/<GROUP>/enable` (group !== null) or `events/enable`: reads `0`, `1`, `X` (mixed) or `?`
 * (no events); writing `0`/`1` applies to every event (the first failure is returned).
 */
export function multiEnableFile(t: Tracing, group: string | null): FileOps {
  const targets = (): [string, string][] => {
    const groups = group === null ? t.groups() : [group];
    return groups.flatMap((g) => t.eventsOf(g).map((e): [string, string] => [g, e]));
  };
  return {
    readable: true,
    writable: true,
    open: () => 0,
    read() {
      const states = targets().map(([g, e]) => t.eventState(g, e)?.enabled ?? false);
      if (states.length === 0) return ok('?\n');
      if (states.every((s) => s)) return ok('1\n');
      if (states.every((s) => !s)) return ok('0\n');
      return ok('X\n');
    },
    write(data) {
      const v = parseBool(data);
      if (!v.ok) return v.errno;
      let first = 0;
      for (const [g, e] of targets()) {
        const r = setEventEnabled(t, g, e, v.value);
        if (r !== 0 && first === 0) first = r;
      }
      return first;
    },
  };
}
