// `trace_options` and `options/<name>`: the trace options (see TRACE_OPTIONS in tracing.ts).
// `trace_options` lists each option as `name` or `noname`; writing `name` sets it, `noname`
// clears it, anything else is EINVAL. `options/<name>` reads `0`/`1` and accepts `0`/`1`.
// Only `stacktrace` changes what is recorded (a `<stack trace>` entry after each event record).

import type { Tracing } from '../tracing.ts';
import { E } from '../messages.ts';
import { ok, parseBool, type FileOps } from './types.ts';

export function traceOptionsFile(t: Tracing): FileOps {
  return {
    readable: true,
    writable: true,
    open: () => 0,
    read: () => ok([...t.options].map(([name, on]) => `${on ? '' : 'no'}${name}\n`).join('')),
    write(data) {
      // tracing_trace_options_write(): strstrip(), then one option name, optionally `no`-prefixed.
      const cmp = data.trim();
      const neg = cmp.startsWith('no');
      const name = neg ? cmp.slice(2) : cmp;
      if (t.options.has(name)) {
        t.options.set(name, !neg);
        return 0;
      }
      return E.EINVAL;
    },
  };
}

export function optionFile(t: Tracing, name: string): FileOps {
  return {
    readable: true,
    writable: true,
    open: () => 0,
    read: () => ok(`${t.options.get(name) ? 1 : 0}\n`),
    write(data) {
      const v = parseBool(data);
      if (!v.ok) return v.errno;
      t.options.set(name, v.value);
      return 0;
    },
  };
}
