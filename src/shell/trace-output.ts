// kernel/trace/trace_output.c's part: a kernel TraceRecord as ftrace text (spec §19 R152–R154), and
// the field values a filter sees (§17). Pure functions.

import type { ArgType, ElementType, FilterRecord, ProbeDefinition } from '../tracefs/index.ts';
import type { ArgValue, TraceRecord } from './backend.ts';
import { DEFAULT_KERNEL } from '../kernel/releases.ts';
import { tracePrefix, traceLayout, traceTimestamp, type TraceLayout } from '../tracefs/trace-layout.ts';

/** `%5lu.%06lu`: seconds right-aligned in 5 columns, microseconds zero-padded to 6 digits. */
export const formatTraceTimestamp = traceTimestamp;

/**
 * The generic line prefix (R154) in the release's layout (src/tracefs/trace-layout.ts): comm
 * right-aligned in 16 columns, `-`, the pid left-aligned, the CPU in brackets, the record's flag
 * characters, the timestamp.
 */
export function linePrefix(r: Pick<TraceRecord, 'comm' | 'pid' | 'cpu' | 'flags' | 'timestampNs'>, layout: TraceLayout = traceLayout(DEFAULT_KERNEL)): string {
  return tracePrefix(layout, r);
}

function asBig(v: bigint | string | null | undefined): bigint {
  return typeof v === 'bigint' ? v : 0n;
}

function formatElement(el: ElementType, v: bigint | string | null | undefined, symbolize: (a: bigint) => string | null): string {
  if (el.kind === 'string') {
    if (v === null || v === undefined) return '(fault)';
    return `"${typeof v === 'string' ? v : ''}"`;
  }
  if (el.kind === 'bitfield') return BigInt.asUintN(el.container, asBig(v)).toString();
  const n = asBig(v);
  switch (el.name) {
    case 'char':
      return `'${String.fromCharCode(Number(BigInt.asUintN(8, n)))}'`;
    case 'symbol': {
      const a = BigInt.asUintN(64, n);
      return symbolize(a) ?? `0x${a.toString(16)}`;
    }
    default: {
      const bits = Number(el.name.slice(1));
      if (el.name.startsWith('s')) return BigInt.asIntN(bits, n).toString();
      if (el.name.startsWith('x')) return `0x${BigInt.asUintN(bits, n).toString(16)}`;
      return BigInt.asUintN(bits, n).toString();
    }
  }
}

/** One argument value as the kernel prints it (R118, R153): arrays as `{v1,v2}`. */
export function formatArgValue(type: ArgType, value: ArgValue | undefined, symbolize: (a: bigint) => string | null): string {
  if (type.kind === 'array') {
    const vals: readonly (bigint | string | null)[] = Array.isArray(value) ? value : [value as bigint | string | null];
    const out: string[] = [];
    for (let i = 0; i < type.length; i++) out.push(formatElement(type.element, vals[i], symbolize));
    return `{${out.join(',')}}`;
  }
  const v = Array.isArray(value) ? (value[0] as bigint | string | null | undefined) : (value as bigint | string | null | undefined);
  return formatElement(type, v, symbolize);
}

/** The event text after the prefix (R152): `EVENT: (LOCATION) name=value …`. */
export function eventText(probe: ProbeDefinition, r: TraceRecord, symbolize: (a: bigint) => string | null): string {
  let s = `${r.event}: (${r.location})`;
  probe.args.forEach((a, i) => {
    s += ` ${a.name}=${formatArgValue(a.type, r.args[i], symbolize)}`;
  });
  return s;
}

/** The ftrace `<stack trace>` entry: the prefix line, then ` => FUNC` per frame. */
export function stackText(r: TraceRecord, layout?: TraceLayout): string {
  return `${linePrefix(r, layout)}<stack trace>\n${(r.stack ?? []).map((f) => ` => ${f}\n`).join('')}`;
}

// TRACE_FLAG_* bits of `common_flags` (kernel/trace/trace.h).
const IRQS_OFF = 0x01;
const IRQS_NOSUPPORT = 0x02;
const NEED_RESCHED = 0x04;
const HARDIRQ = 0x08;
const SOFTIRQ = 0x10;
const PREEMPT_RESCHED = 0x20;
const NMI = 0x40;
const BH_OFF = 0x80;

/**
 * `common_flags` and `common_preempt_count` recovered from the five printed flag characters
 * (the inverse of trace_print_lat_fmt(); preempt depth in the low nibble, migrate-disable in the
 * high nibble).
 */
export function contextFields(flags: string): { readonly commonFlags: number; readonly preemptCount: number } {
  let f = 0;
  const c0 = flags[0];
  if (c0 === 'd') f |= IRQS_OFF;
  else if (c0 === 'D') f |= IRQS_OFF | BH_OFF;
  else if (c0 === 'b') f |= BH_OFF;
  else if (c0 === 'X') f |= IRQS_NOSUPPORT;
  const c1 = flags[1];
  if (c1 === 'N') f |= NEED_RESCHED | PREEMPT_RESCHED;
  else if (c1 === 'n') f |= NEED_RESCHED;
  else if (c1 === 'p') f |= PREEMPT_RESCHED;
  const c2 = flags[2];
  if (c2 === 'Z') f |= NMI | HARDIRQ;
  else if (c2 === 'z') f |= NMI;
  else if (c2 === 'H') f |= HARDIRQ | SOFTIRQ;
  else if (c2 === 'h') f |= HARDIRQ;
  else if (c2 === 's') f |= SOFTIRQ;
  const digit = (c: string | undefined): number => (c === undefined || c === '.' ? 0 : parseInt(c, 16) & 0xf || 0);
  return { commonFlags: f, preemptCount: (digit(flags[4]) << 4) | digit(flags[3]) };
}

/** What the event's filter sees for this record (R146–R148). */
export function filterRecordOf(probe: ProbeDefinition, r: TraceRecord, eventId: number): FilterRecord {
  const { commonFlags, preemptCount } = contextFields(r.flags);
  const fields: Record<string, bigint | number | string | null | undefined> = {
    common_type: eventId,
    common_flags: commonFlags,
    common_preempt_count: preemptCount,
    common_pid: r.pid,
  };
  if (probe.kind === 'kprobe') {
    fields['__probe_ip'] = r.ip;
  } else {
    fields['__probe_func'] = r.ip;
    fields['__probe_ret_ip'] = r.retIp ?? 0n;
  }
  probe.args.forEach((a, i) => {
    const v = r.args[i];
    fields[a.name] = Array.isArray(v) ? (v[0] as bigint | string | null | undefined) : (v as bigint | string | null | undefined);
  });
  return { fields, cpu: r.cpu, comm: r.comm };
}
