// Which handler serves which file of the tree.

import type { Tracing } from '../tracing.ts';
import type { FileRef } from '../vfs.ts';
import { devNull } from './dev-null.ts';
import { errorLogFile } from './error-log.ts';
import { eventEnableFile, eventFilterFile, eventFormatFile, eventIdFile, multiEnableFile } from './event-files.ts';
import { kprobeEventsFile } from './kprobe-events.ts';
import { kprobeProfileFile } from './kprobe-profile.ts';
import { optionFile, traceOptionsFile } from './options.ts';
import { traceFile, tracePipeFile } from './trace.ts';
import { kprobesEnabledFile } from './kprobes-enabled.ts';
import { readOnly } from './read-only.ts';
import { hostFile } from './host-file.ts';
import type { FileOps } from './types.ts';

export type { FileOps, OpenFlags, ReadResult } from './types.ts';

export function fileOps(t: Tracing, ref: FileRef): FileOps {
  switch (ref.kind) {
    case 'dev-null':
      return devNull();
    case 'kallsyms':
      return readOnly(() => t.backend.kallsyms?.() ?? '');
    case 'proc-modules':
      return readOnly(() => t.backend.procModules?.() ?? '');
    case 'proc-tainted':
      return readOnly(() => `${t.backend.tainted?.() ?? 0}\n`);
    case 'available_filter_functions':
      return readOnly(() => t.backend.availableFilterFunctions?.() ?? '');
    case 'kprobes-file':
      return ref.name === 'enabled' ? kprobesEnabledFile(t) : readOnly(() => t.backend.kprobesFile?.(ref.name) ?? '');
    case 'kprobe_events':
      return kprobeEventsFile(t);
    case 'error_log':
      return errorLogFile(t);
    case 'trace':
      return traceFile(t);
    case 'trace_pipe':
      return tracePipeFile(t);
    case 'kprobe_profile':
      return kprobeProfileFile(t);
    case 'trace_options':
      return traceOptionsFile(t);
    case 'option':
      return optionFile(t, ref.name);
    case 'events-enable':
      return multiEnableFile(t, null);
    case 'group-enable':
      return multiEnableFile(t, ref.group);
    case 'event-enable':
      return eventEnableFile(t, ref.group, ref.event);
    case 'event-filter':
      return eventFilterFile(t, ref.group, ref.event);
    case 'event-format':
      return eventFormatFile(t, ref.group, ref.event);
    case 'event-id':
      return eventIdFile(t, ref.group, ref.event);
    case 'host-file':
      return hostFile(ref.source, ref.rel, ref.peek);
  }
}
