// The state behind the simulated tracefs (one top-level tracing instance): the `kprobe_events`
// store, per-event ids/enable flags/filters, `error_log`, trace options and the trace ring
// buffer. Mutable (the session is stateful), deterministic, no I/O. The file handlers in files/
// read and change it; the kernel is reached only through the KernelBackend.

import {
  appendErrorLog,
  appendLogged,
  EMPTY_ERROR_LOG,
  EMPTY_EVENTS_FILE,
  filterAccepts,
  listEvents,
  NO_FILTER,
  type ErrorLog,
  type EventsEnv,
  type EventsFile,
  type FilterFileState,
  type LoggedError,
  type ProbeDefinition,
  type StoredProbe,
} from '../tracefs/index.ts';
import type { KernelBackend } from './backend.ts';
import { eventText, filterRecordOf, linePrefix, stackText } from './trace-output.ts';
import { DEFAULT_KERNEL } from '../kernel/releases.ts';
import { traceLayout, type TraceLayout } from '../tracefs/trace-layout.ts';

export interface EventState {
  /** The event type id (`id` file, `common_type`), R139. */
  readonly id: number;
  enabled: boolean;
  filter: FilterFileState;
}

/** One entry of the ring buffer, already rendered (ftrace prints records at read time, but the
 *  text depends only on values fixed when the record was written). */
export interface TraceEntry {
  readonly cpu: number;
  readonly timestampNs: bigint;
  /** Write order, to keep a CPU's entries in order. */
  readonly seq: number;
  /** The entry's text including its trailing newline (several lines for a stack trace). */
  readonly text: string;
}

/**
 * Trace options, in the order `trace_options` lists them (the core TRACE_FLAGS of v6.x), with
 * their defaults. Only `stacktrace` changes what the simulator records; the others are kept so
 * that reading and writing them behaves like the kernel.
 */
export const TRACE_OPTIONS: readonly (readonly [string, boolean])[] = [
  ['print-parent', true],
  ['sym-offset', false],
  ['sym-addr', false],
  ['verbose', false],
  ['raw', false],
  ['hex', false],
  ['bin', false],
  ['block', false],
  ['trace_printk', true],
  ['annotate', true],
  ['userstacktrace', false],
  ['sym-userobj', false],
  ['printk-msg-only', false],
  ['context-info', true],
  ['latency-format', false],
  ['record-cmd', true],
  ['record-tgid', false],
  ['overwrite', true],
  ['disable_on_free', false],
  ['irq-info', true],
  ['markers', true],
  ['event-fork', false],
  ['pause-on-trace', false],
  ['hash-ptr', true],
  ['function-trace', true],
  ['function-fork', false],
  ['display-graph', false],
  ['stacktrace', false],
];

export interface TracingOptions {
  /** First dynamic event id handed out (the seed's arm64 kernel gave 1333). Default 1333. */
  readonly firstEventId?: number;
  /** Ring buffer capacity in entries (all CPUs); the oldest are overwritten. Default 65536. */
  readonly bufferEntries?: number;
}

export const DEFAULT_FIRST_EVENT_ID = 1333;
export const DEFAULT_BUFFER_ENTRIES = 65536;

export function eventKey(group: string, event: string): string {
  return `${group}/${event}`;
}

export class Tracing {
  events: EventsFile = EMPTY_EVENTS_FILE;
  errorLog: ErrorLog = EMPTY_ERROR_LOG;
  readonly perEvent = new Map<string, EventState>();
  readonly options = new Map<string, boolean>(TRACE_OPTIONS.map(([n, v]) => [n, v]));
  /** Entries in the buffer, in write order. */
  buffer: TraceEntry[] = [];
  /** Entries lost to overwriting since the last reset (entries-written = in buffer + overrun). */
  overrun = 0;
  private seq = 0;
  /** The `trace` file's header and line layout of the backend's kernel release (R154). */
  readonly layout: TraceLayout;
  private readonly firstEventId: number;
  private readonly capacity: number;

  constructor(
    readonly backend: KernelBackend,
    options: TracingOptions = {},
  ) {
    this.layout = traceLayout(backend.kernel ?? DEFAULT_KERNEL);
    this.firstEventId = options.firstEventId ?? DEFAULT_FIRST_EVENT_ID;
    this.capacity = options.bufferEntries ?? DEFAULT_BUFFER_ENTRIES;
  }

  /** What the tracefs events store needs (src/tracefs/README.md, "Wiring"). */
  eventsEnv(): EventsEnv {
    const isEnabled = (group: string, event: string): boolean => this.perEvent.get(eventKey(group, event))?.enabled ?? false;
    return {
      parse: this.backend.parseContext,
      isEnabled,
      register: (probe: ProbeDefinition) => this.backend.registerProbe(probe, { enabled: isEnabled(probe.group, probe.event) }),
      defaultMaxactive: Math.max(10, 2 * this.backend.cpus),
    };
  }

  /** Apply what a kprobe_events open/write changed: unregister removed probes, create/remove event state. */
  applyChanges(state: EventsFile, added: readonly StoredProbe[], removed: readonly StoredProbe[]): void {
    this.events = state;
    for (const p of removed) if (p.registered) this.backend.unregisterProbe(p.probe);
    const live = new Set(state.probes.map((p) => eventKey(p.probe.group, p.probe.event)));
    for (const key of [...this.perEvent.keys()]) if (!live.has(key)) this.perEvent.delete(key);
    for (const p of added) {
      const key = eventKey(p.probe.group, p.probe.event);
      if (!this.perEvent.has(key)) this.perEvent.set(key, { id: this.allocateId(), enabled: false, filter: NO_FILTER });
    }
  }

  /** The smallest free id at or above the first dynamic id (the kernel's ida allocation). */
  private allocateId(): number {
    const used = new Set([...this.perEvent.values()].map((e) => e.id));
    let id = this.firstEventId;
    while (used.has(id)) id++;
    return id;
  }

  logKprobeErrors(logged: readonly LoggedError[]): void {
    if (logged.length > 0) this.errorLog = appendLogged(this.errorLog, logged, this.backend.nowNs());
  }

  logError(loc: string, message: string, command: string, pos: number): void {
    this.errorLog = appendErrorLog(this.errorLog, { timestampNs: this.backend.nowNs(), loc, message, command, pos });
  }

  /** Group names in order of their first event. */
  groups(): string[] {
    return [...new Set(listEvents(this.events).map((e) => e.group))];
  }

  /** Event names of a group, in creation order. */
  eventsOf(group: string): string[] {
    return listEvents(this.events)
      .filter((e) => e.group === group)
      .map((e) => e.event);
  }

  /** The event's probes (the first is the primary one, whose fields the format/filter use). */
  probesOf(group: string, event: string): StoredProbe[] {
    return this.events.probes.filter((p) => p.probe.group === group && p.probe.event === event);
  }

  eventState(group: string, event: string): EventState | undefined {
    return this.perEvent.get(eventKey(group, event));
  }

  /**
   * Move what the kernel produced into the ring buffer: records of enabled events that pass the
   * event's filter (R144), each followed by a `<stack trace>` entry when the stacktrace option
   * is on (that is the state at the time the record is written).
   */
  pull(): void {
    const records = this.backend.traceRecords();
    for (const r of records) {
      const st = this.eventState(r.group, r.event);
      const primary = this.probesOf(r.group, r.event)[0];
      if (!st || !st.enabled || !primary) continue;
      if (!filterAccepts(st.filter, filterRecordOf(primary.probe, r, st.id))) continue;
      const symbolize = (a: bigint): string | null => this.backend.symbolize(a);
      this.push(r.cpu, r.timestampNs, `${linePrefix(r, this.layout)}${eventText(primary.probe, r, symbolize)}\n`);
      if (this.options.get('stacktrace')) this.push(r.cpu, r.timestampNs, stackText(r, this.layout));
    }
  }

  private push(cpu: number, timestampNs: bigint, text: string): void {
    this.buffer.push({ cpu, timestampNs, seq: this.seq++, text });
    if (this.buffer.length > this.capacity) {
      this.buffer.shift();
      this.overrun++;
    }
  }

  /** The buffer in the order ftrace's iterator reads it: merged by timestamp across CPUs. */
  orderedEntries(): TraceEntry[] {
    return [...this.buffer].sort((a, b) =>
      a.timestampNs < b.timestampNs ? -1 : a.timestampNs > b.timestampNs ? 1 : a.cpu !== b.cpu ? a.cpu - b.cpu : a.seq - b.seq,
    );
  }

  /** `echo > trace`: empty the buffer (tracing_reset_online_cpus). */
  resetBuffer(): void {
    this.buffer = [];
    this.overrun = 0;
  }

  /** trace_pipe: hand out everything buffered and remove it. */
  consumeAll(): TraceEntry[] {
    const out = this.orderedEntries();
    this.buffer = [];
    return out;
  }
}
