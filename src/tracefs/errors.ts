// The ERRORS table of the kernel's probe-event parser (kernel/trace/trace_probe.h, v6.17), spec §22,
// and the error value the tracefs parser hands back. Keys are the TP_ERR_* suffixes; messages are
// interface data (printed verbatim by error_log, kernel typos included). The table order is the
// order of the numeric codes (R167).

/** Every (key, message) pair of §22, in code order. */
export const ERRORS = [
  ['FILE_NOT_FOUND', 'Failed to find the given file'],
  ['NO_REGULAR_FILE', 'Not a regular file'],
  ['BAD_REFCNT', 'Invalid reference counter offset'],
  ['REFCNT_OPEN_BRACE', 'Reference counter brace is not closed'],
  ['BAD_REFCNT_SUFFIX', 'Reference counter has wrong suffix'],
  ['BAD_UPROBE_OFFS', 'Invalid uprobe offset'],
  ['BAD_MAXACT_TYPE', 'Maxactive is only for function exit'],
  ['BAD_MAXACT', 'Invalid maxactive number'],
  ['MAXACT_TOO_BIG', 'Maxactive is too big'],
  ['BAD_PROBE_ADDR', 'Invalid probed address or symbol'],
  ['NON_UNIQ_SYMBOL', 'The symbol is not unique'],
  ['BAD_RETPROBE', 'Retprobe address must be an function entry'],
  ['NO_TRACEPOINT', 'Tracepoint is not found'],
  ['BAD_TP_NAME', 'Invalid character in tracepoint name'],
  ['BAD_ADDR_SUFFIX', 'Invalid probed address suffix'],
  ['NO_GROUP_NAME', 'Group name is not specified'],
  ['GROUP_TOO_LONG', 'Group name is too long'],
  ['BAD_GROUP_NAME', 'Group name must follow the same rules as C identifiers'],
  ['NO_EVENT_NAME', 'Event name is not specified'],
  ['EVENT_TOO_LONG', 'Event name is too long'],
  ['BAD_EVENT_NAME', 'Event name must follow the same rules as C identifiers'],
  ['EVENT_EXIST', 'Given group/event name is already used by another event'],
  ['RETVAL_ON_PROBE', '$retval is not available on probe'],
  ['NO_RETVAL', 'This function returns \'void\' type'],
  ['BAD_STACK_NUM', 'Invalid stack number'],
  ['BAD_ARG_NUM', 'Invalid argument number'],
  ['BAD_VAR', 'Invalid $-valiable specified'],
  ['BAD_REG_NAME', 'Invalid register name'],
  ['BAD_MEM_ADDR', 'Invalid memory address'],
  ['BAD_IMM', 'Invalid immediate value'],
  ['IMMSTR_NO_CLOSE', 'String is not closed with \'"\''],
  ['FILE_ON_KPROBE', 'File offset is not available with kprobe'],
  ['BAD_FILE_OFFS', 'Invalid file offset value'],
  ['SYM_ON_UPROBE', 'Symbol is not available with uprobe'],
  ['TOO_MANY_OPS', 'Dereference is too much nested'],
  ['DEREF_NEED_BRACE', 'Dereference needs a brace'],
  ['BAD_DEREF_OFFS', 'Invalid dereference offset'],
  ['DEREF_OPEN_BRACE', 'Dereference brace is not closed'],
  ['COMM_CANT_DEREF', '$comm can not be dereferenced'],
  ['BAD_FETCH_ARG', 'Invalid fetch argument'],
  ['ARRAY_NO_CLOSE', 'Array is not closed'],
  ['BAD_ARRAY_SUFFIX', 'Array has wrong suffix'],
  ['BAD_ARRAY_NUM', 'Invalid array size'],
  ['ARRAY_TOO_BIG', 'Array number is too big'],
  ['BAD_TYPE', 'Unknown type is specified'],
  ['BAD_STRING', 'String accepts only memory argument'],
  ['BAD_SYMSTRING', 'Symbol String doesn\'t accept data/userdata'],
  ['BAD_BITFIELD', 'Invalid bitfield'],
  ['ARG_NAME_TOO_LONG', 'Argument name is too long'],
  ['NO_ARG_NAME', 'Argument name is not specified'],
  ['BAD_ARG_NAME', 'Argument name must follow the same rules as C identifiers'],
  ['USED_ARG_NAME', 'This argument name is already used'],
  ['ARG_TOO_LONG', 'Argument expression is too long'],
  ['NO_ARG_BODY', 'No argument expression'],
  ['BAD_INSN_BNDRY', 'Probe point is not an instruction boundary'],
  ['FAIL_REG_PROBE', 'Failed to register probe event'],
  ['DIFF_PROBE_TYPE', 'Probe type is different from existing probe'],
  ['DIFF_ARG_TYPE', 'Argument type or name is different from existing probe'],
  ['SAME_PROBE', 'There is already the exact same probe event'],
  ['NO_EVENT_INFO', 'This requires both group and event name to attach'],
  ['BAD_ATTACH_EVENT', 'Attached event does not exist'],
  ['BAD_ATTACH_ARG', 'Attached event does not have this field'],
  ['NO_EP_FILTER', 'No filter rule after \'if\''],
  ['NOSUP_BTFARG', 'BTF is not available or not supported'],
  ['NO_BTFARG', 'This variable is not found at this probe point'],
  ['NO_BTF_ENTRY', 'No BTF entry for this probe point'],
  ['BAD_VAR_ARGS', '$arg* must be an independent parameter without name etc.'],
  ['NOFENTRY_ARGS', '$arg* can be used only on function entry or exit'],
  ['DOUBLE_ARGS', '$arg* can be used only once in the parameters'],
  ['ARGS_2LONG', '$arg* failed because the argument list is too long'],
  ['ARGIDX_2BIG', '$argN index is too big'],
  ['NO_PTR_STRCT', 'This is not a pointer to union/structure.'],
  ['NOSUP_DAT_ARG', 'Non pointer structure/union argument is not supported.'],
  ['BAD_HYPHEN', 'Failed to parse single hyphen. Forgot \'>\'?'],
  ['NO_BTF_FIELD', 'This field is not found.'],
  ['BAD_BTF_TID', 'Failed to get BTF type info.'],
  ['BAD_TYPE4STR', 'This type does not fit for string.'],
  ['NEED_STRING_TYPE', '$comm and immediate-string only accepts string type'],
  ['TOO_MANY_ARGS', 'Too many arguments are specified'],
  ['TOO_MANY_EARGS', 'Too many entry arguments specified'],
] as const;

export type ErrorKey = (typeof ERRORS)[number][0];

/** key → message, verbatim (§22). */
export const ERROR_MESSAGES: Readonly<Record<ErrorKey, string>> = Object.freeze(
  Object.fromEntries(ERRORS.map(([k, m]) => [k, m])) as Record<ErrorKey, string>,
);

/** key → numeric code (index in the table, R167). */
export const ERROR_CODES: Readonly<Record<ErrorKey, number>> = Object.freeze(
  Object.fromEntries(ERRORS.map(([k], i) => [k, i])) as Record<ErrorKey, number>,
);

export function isErrorKey(key: string): key is ErrorKey {
  return Object.prototype.hasOwnProperty.call(ERROR_MESSAGES, key);
}

/** Positive errno values (x86-64 numbering, spec §0): the project's one table. */
export { Errno } from '../errno.ts';
import { Errno } from '../errno.ts';

/**
 * One error the parser reports (and error_log records, R159).
 * `offset` is the caret column: 0-based, counted from the first character of the echoed command
 * (the tokens joined by single spaces, R160/R165). `errno` is the positive errno the write(2)
 * fails with.
 */
export interface ProbeError {
  readonly key: ErrorKey;
  readonly message: string;
  readonly offset: number;
  readonly errno: number;
}

export function probeError(key: ErrorKey, offset: number, errno: number): ProbeError {
  return { key, message: ERROR_MESSAGES[key], offset, errno };
}

/** An error together with the command text error_log echoes for it (R160). */
export interface LoggedError {
  readonly error: ProbeError;
  /** The echoed command: the tokens joined by single spaces, at the time of logging. */
  readonly command: string;
}
