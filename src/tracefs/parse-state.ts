// Mutable state of one create-command parse (the kernel's traceprobe_parse_context plus the
// fetch_insn buffer being filled). Internal to the tracefs parser.

import type { ProbeLog } from './probe-log.ts';
import type { BtfFuncProto, BtfType, ParseContext, ProbeArg } from './types.ts';

/** Kernel fetch_insn opcodes (trace_probe.h); only what the parser's checks look at. */
export type Op =
  | 'NOP'
  | 'REG'
  | 'STACK'
  | 'STACKP'
  | 'RETVAL'
  | 'IMM'
  | 'COMM'
  | 'ARG'
  | 'DATA'
  | 'EDATA'
  | 'DEREF'
  | 'UDEREF'
  | 'ST_RAW'
  | 'ST_MEM'
  | 'ST_UMEM'
  | 'ST_STRING'
  | 'ST_USTRING'
  | 'ST_SYMSTR'
  | 'MOD_BF'
  | 'LP_ARRAY'
  | 'END'
  | 'NOP_SYMBOL';

/** FETCH_INSN_MAX: a fetch program has 16 slots, the last one reserved for END (R116). */
export const FETCH_INSN_MAX = 16;
export const MAX_TRACE_ARGS = 128;
export const MAX_ARGSTR_LEN = 63;
export const MAX_ARRAY_LEN = 64;
export const MAX_ARG_NAME_LEN = 32;
export const MAX_EVENT_NAME_LEN = 64;
export const MAX_BTF_ARGS_LEN = 128;
export const MAX_DENTRY_ARGS_LEN = 256;

export interface Box {
  i: number;
}

export interface ParserState {
  readonly ctx: ParseContext;
  readonly log: ProbeLog;
  /** TPARG_FL_RETURN: a return probe on a symbol (R111). */
  readonly isReturnCtx: boolean;
  /** TPARG_FL_FENTRY: a `p` probe at a function entry (R128). */
  readonly isEntryCtx: boolean;
  /** ctx->funcname: the location symbol text (with any `MOD:`), null for an address. */
  readonly funcname: string | null;
  /** PARAM_MAX_STACK = THREAD_SIZE / sizeof(long). */
  readonly paramMaxStack: number;
  /** Cached BTF prototype once query_btf_context() succeeded. */
  btfProto: BtfFuncProto | null;
  // per-argument state
  offset: number;
  code: Op[];
  lastType: BtfType | null;
  lastBitoffs: number;
  lastBitsize: number;
  /** Arguments parsed so far (names are checked for conflicts, R127). */
  readonly args: ProbeArg[];
}

export function freshCode(): Op[] {
  const code: Op[] = new Array<Op>(FETCH_INSN_MAX).fill('NOP');
  code[FETCH_INSN_MAX - 1] = 'END';
  return code;
}

export function opAt(st: ParserState, i: number): Op {
  return st.code[i] ?? 'END';
}
