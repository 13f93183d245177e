// `kprobe_events` (spec §15): `>` truncates at open time (deleting every kprobe event, EBUSY if one
// is enabled, R103), each write(2) runs its lines in order (R102), failures are logged to
// error_log by the tracefs library (R159). Read back per R136.

import { openEventsFile, readEventsFile, writeEventsFile } from '../../tracefs/index.ts';
import type { Tracing } from '../tracing.ts';
import { ok, type FileOps } from './types.ts';

export function kprobeEventsFile(t: Tracing): FileOps {
  return {
    readable: true,
    writable: true,
    open(flags) {
      if (!flags.write || !flags.truncate) return 0;
      const r = openEventsFile(t.events, { truncate: true }, t.eventsEnv());
      t.applyChanges(r.state, r.added, r.removed);
      return r.errno;
    },
    read: () => ok(readEventsFile(t.events)),
    write(data) {
      const r = writeEventsFile(t.events, data, t.eventsEnv());
      t.applyChanges(r.state, r.added, r.removed);
      t.logKprobeErrors(r.logged);
      return r.errno;
    },
  };
}
