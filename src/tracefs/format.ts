// The event directory's `format` file (spec R141–R143): common fields, the probe's own fields with
// packed offsets, and the `print fmt` line. Also the field table the filter and record layers use.

import { arrayLengthOf, fetchTypeInfo, fetchTypeNameOf, type ArgType, type ProbeDefinition } from './types.ts';

export interface EventField {
  readonly name: string;
  /** Type as shown in `format` (e.g. `u64`, `__data_loc char[]`, `u8[4]`, `unsigned long`). */
  readonly type: string;
  readonly offset: number;
  readonly size: number;
  readonly signed: boolean;
  /** For probe arguments: index into ProbeDefinition.args. */
  readonly argIndex?: number;
  /** A string field (`string`/`ustring`/`symstr`, or the __data_loc of a string array). */
  readonly isString: boolean;
}

/** The common fields every event starts with (R141). */
export const COMMON_FIELDS: readonly EventField[] = [
  { name: 'common_type', type: 'unsigned short', offset: 0, size: 2, signed: false, isString: false },
  { name: 'common_flags', type: 'unsigned char', offset: 2, size: 1, signed: false, isString: false },
  { name: 'common_preempt_count', type: 'unsigned char', offset: 3, size: 1, signed: false, isString: false },
  { name: 'common_pid', type: 'int', offset: 4, size: 4, signed: true, isString: false },
];

/** Size of an argument in the record: type size × array length (R142). */
export function argSize(type: ArgType): number {
  const n = arrayLengthOf(type);
  return fetchTypeInfo(fetchTypeNameOf(type)).size * (n === 0 ? 1 : n);
}

/** The event's own fields (x86-64 / arm64 layout, R142): probe fields, then packed arguments. */
export function eventFields(probe: ProbeDefinition): EventField[] {
  const out: EventField[] = [];
  let offset: number;
  if (probe.kind === 'kprobe') {
    out.push({ name: '__probe_ip', type: 'unsigned long', offset: 8, size: 8, signed: false, isString: false });
    offset = 16;
  } else {
    out.push({ name: '__probe_func', type: 'unsigned long', offset: 8, size: 8, signed: false, isString: false });
    out.push({ name: '__probe_ret_ip', type: 'unsigned long', offset: 16, size: 8, signed: false, isString: false });
    offset = 24;
  }
  probe.args.forEach((a, i) => {
    const info = fetchTypeInfo(fetchTypeNameOf(a.type));
    const n = arrayLengthOf(a.type);
    const size = argSize(a.type);
    out.push({
      name: a.name,
      type: n !== 0 ? `${info.fmttype}[${n}]` : info.fmttype,
      offset,
      size,
      signed: info.signed,
      argIndex: i,
      isString: info.isString,
    });
    offset += size;
  });
  return out;
}

export interface FormatOptions {
  /**
   * How a fixed-size argument array is shown. 'spec' (default) follows R142 (`field:u8 name[4];`).
   * 'v6.17' is what f_show() prints for probe events in v6.17, whose fields are defined without a
   * length (`field:u8 name[];`).
   */
  readonly arrayStyle?: 'spec' | 'v6.17';
}

function fieldLine(f: EventField, options: FormatOptions): string {
  let decl: string;
  const bracket = f.type.indexOf('[');
  if (bracket < 0 || f.type.startsWith('__data_loc')) {
    decl = `${f.type} ${f.name}`;
  } else if (options.arrayStyle === 'v6.17') {
    decl = `${f.type.slice(0, bracket)} ${f.name}[]`;
  } else {
    decl = `${f.type.slice(0, bracket)} ${f.name}${f.type.slice(bracket)}`;
  }
  return `\tfield:${decl};\toffset:${f.offset};\tsize:${f.size};\tsigned:${f.signed ? 1 : 0};\n`;
}

/** The `print fmt` value (R143, __set_print_fmt()). */
export function printFmt(probe: ProbeDefinition): string {
  const isReturn = probe.kind === 'kretprobe';
  let fmt = `"${isReturn ? '(%lx <- %lx)' : '(%lx)'}`;
  let args = isReturn ? ', REC->__probe_func, REC->__probe_ret_ip' : ', REC->__probe_ip';
  for (const a of probe.args) {
    const info = fetchTypeInfo(fetchTypeNameOf(a.type));
    const n = arrayLengthOf(a.type);
    fmt += ` ${a.name}=`;
    if (n !== 0) {
      fmt += `{${Array(n).fill(info.fmt).join(',')}}`;
      for (let j = 0; j < n; j++) args += info.isString ? `, __get_str(${a.name}[${j}])` : `, REC->${a.name}[${j}]`;
    } else {
      fmt += info.fmt;
      args += info.isString ? `, __get_str(${a.name})` : `, REC->${a.name}`;
    }
  }
  return `${fmt}"${args}`;
}

/** The whole `format` file of an event whose primary probe is `probe` (R141). */
export function renderFormat(probe: ProbeDefinition, id: number, options: FormatOptions = {}): string {
  let s = `name: ${probe.event}\nID: ${id}\nformat:\n`;
  for (const f of COMMON_FIELDS) s += fieldLine(f, options);
  s += '\n';
  for (const f of eventFields(probe)) s += fieldLine(f, options);
  s += `\nprint fmt: ${printFmt(probe)}\n`;
  return s;
}
