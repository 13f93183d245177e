// `error_log` (spec §21): opening with truncation (`echo > error_log`) clears it (R162); what is
// written is ignored; reading shows the entries in the kernel's layout (R159, R160).

import { openErrorLog, renderErrorLog } from '../../tracefs/index.ts';
import type { Tracing } from '../tracing.ts';
import { ok, type FileOps } from './types.ts';

export function errorLogFile(t: Tracing): FileOps {
  return {
    readable: true,
    writable: true,
    open(flags) {
      if (flags.write) t.errorLog = openErrorLog(t.errorLog, { truncate: flags.truncate });
      return 0;
    },
    read: () => ok(renderErrorLog(t.errorLog)),
    write: () => 0,
  };
}
