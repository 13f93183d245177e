// The typed model of one `kprobe_events` command (spec §15) and of the fetch types (§15.7).

import type { LoggedError, ProbeError } from './errors.ts';

// ── fetch types (R118, the kernel's probe_fetch_types table) ─────────────────────────────────

export type BasicTypeName =
  | 'u8' | 'u16' | 'u32' | 'u64'
  | 's8' | 's16' | 's32' | 's64'
  | 'x8' | 'x16' | 'x32' | 'x64';
export type StringTypeName = 'string' | 'ustring' | 'symstr';
/** Names of the kernel's fetch_type table entries. */
export type FetchTypeName = BasicTypeName | 'char' | 'symbol' | StringTypeName;

export interface FetchTypeInfo {
  readonly name: FetchTypeName;
  /** Bytes in the record (4 = data-location word for strings). */
  readonly size: number;
  readonly signed: boolean;
  readonly isString: boolean;
  /** printf format used in `print fmt` (R143). */
  readonly fmt: string;
  /** Type name shown in the `format` file (R118/R142). */
  readonly fmttype: string;
}

function t(name: FetchTypeName, size: number, signed: boolean, fmt: string, fmttype: string): FetchTypeInfo {
  return { name, size, signed, isString: false, fmt, fmttype };
}
function s(name: StringTypeName): FetchTypeInfo {
  return { name, size: 4, signed: true, isString: true, fmt: '\\"%s\\"', fmttype: '__data_loc char[]' };
}

/** The fetch type table in the kernel's order (lookup is by exact name). */
export const FETCH_TYPES: readonly FetchTypeInfo[] = [
  s('string'),
  s('ustring'),
  s('symstr'),
  t('u8', 1, false, '%u', 'u8'),
  t('u16', 2, false, '%u', 'u16'),
  t('u32', 4, false, '%u', 'u32'),
  t('u64', 8, false, '%Lu', 'u64'),
  t('s8', 1, true, '%d', 's8'),
  t('s16', 2, true, '%d', 's16'),
  t('s32', 4, true, '%d', 's32'),
  t('s64', 8, true, '%Ld', 's64'),
  t('x8', 1, false, '0x%x', 'u8'),
  t('x16', 2, false, '0x%x', 'u16'),
  t('x32', 4, false, '0x%x', 'u32'),
  t('x64', 8, false, '0x%Lx', 'u64'),
  t('char', 1, false, "'%c'", 'u8'),
  t('symbol', 8, false, '%pS', 'u64'),
];

export function fetchTypeInfo(name: FetchTypeName): FetchTypeInfo {
  const f = FETCH_TYPES.find((x) => x.name === name);
  if (!f) throw new Error(`unknown fetch type ${name}`);
  return f;
}

/** The element type of an argument. */
export type ElementType =
  /** A non-string table type (`u8` … `x64`, `char`, `symbol`). */
  | { readonly kind: 'scalar'; readonly name: Exclude<FetchTypeName, StringTypeName> }
  /** `string`, `ustring` or `symstr` (stored as a data-location word + payload). */
  | { readonly kind: 'string'; readonly name: StringTypeName }
  /**
   * Bitfield `b<width>@<offset>/<container>` (R121); also used for BTF bitfields (container 64).
   * Values are those the kernel computed (simple_strtoul, so absurd inputs wrap; see R121).
   */
  | { readonly kind: 'bitfield'; readonly width: number; readonly offset: number; readonly container: 8 | 16 | 32 | 64 };

/** A full argument type: an element type, or a fixed-size array of one (R122). */
export type ArgType =
  | ElementType
  | { readonly kind: 'array'; readonly element: ElementType; readonly length: number };

/** The kernel fetch_type an argument type maps to (what DIFF_ARG_TYPE compares, R131). */
export function fetchTypeNameOf(type: ArgType): FetchTypeName {
  const el = type.kind === 'array' ? type.element : type;
  if (el.kind === 'bitfield') return `u${el.container}` as BasicTypeName;
  return el.name;
}

export function arrayLengthOf(type: ArgType): number {
  return type.kind === 'array' ? type.length : 0;
}

// ── fetch programs (§15.6) ──────────────────────────────────────────────────────────────────

/**
 * Where a value comes from. A tree: dereferences wrap the fetch they read through.
 * `@ADDR` and `@SYM` are memory reads (they are a load of the address plus a dereference in the
 * kernel's fetch program).
 */
export type FetchNode =
  /** `%REG`: a register of the probed context; `reg` is the name without `%`. */
  | { readonly kind: 'reg'; readonly reg: string }
  /** `$stack`: the stack pointer value. */
  | { readonly kind: 'stack-pointer' }
  /** `$stackN`: the N-th word on the kernel stack. */
  | { readonly kind: 'stack'; readonly index: number }
  /** `$retval` (return probes only). */
  | { readonly kind: 'retval' }
  /** `$comm` / `$COMM`: the current task's name. */
  | { readonly kind: 'comm' }
  /**
   * `$argN` (1-based `index`), or a BTF parameter resolved to its position. `fromEntry`: on a
   * return probe the value is captured at function entry and read back at return (R119).
   */
  | { readonly kind: 'arg'; readonly index: number; readonly fromEntry: boolean }
  /** `@ADDR`: memory at a numeric kernel address. */
  | { readonly kind: 'mem-addr'; readonly address: bigint }
  /**
   * `@SYM[+|-OFF]`: memory at a data symbol; resolved when the probe is registered (R150 step 10).
   * `text` is everything after `@`; `symbol`/`offset` are null when the text cannot be split
   * (registration then fails with -EINVAL → FAIL_REG_PROBE).
   */
  | { readonly kind: 'mem-symbol'; readonly text: string; readonly symbol: string | null; readonly offset: bigint | null }
  /** `\IMM`: an immediate number (stored as the unsigned 64-bit pattern). */
  | { readonly kind: 'imm'; readonly value: bigint }
  /** `\"text"`: an immediate string. */
  | { readonly kind: 'imm-string'; readonly value: string }
  /** `+OFF(…)`, `-OFF(…)`, `+uOFF(…)`: memory at the inner value + offset (`user`: user memory). */
  | { readonly kind: 'deref'; readonly offset: bigint; readonly user: boolean; readonly inner: FetchNode };

export interface ProbeArg {
  /** Field name (explicit `NAME=`, a BTF name, or `arg<K>`, R127). */
  readonly name: string;
  /** The body text as recorded by the kernel (after rewrites), shown in the listing (R136). */
  readonly text: string;
  readonly fetch: FetchNode;
  readonly type: ArgType;
  /**
   * A BTF bitfield member read without an explicit type: the kernel extracts `width` bits at bit
   * `offset` of a 64-bit load after the store (parse_btf_bitfield). Absent otherwise.
   */
  readonly btfBitfield?: { readonly width: number; readonly offset: number };
}

export type ProbeLocation =
  | {
      readonly kind: 'symbol';
      /** The symbol without any `MOD:` prefix. */
      readonly symbol: string;
      /** `MOD` of `MOD:SYM`, or null. */
      readonly module: string | null;
      /** Byte offset from the symbol (0 … 4294967295). */
      readonly offset: number;
    }
  | { readonly kind: 'address'; readonly address: bigint };

export type ProbeKind = 'kprobe' | 'kretprobe';

/** A fully parsed probe definition (one line of the listing). */
export interface ProbeDefinition {
  readonly kind: ProbeKind;
  readonly group: string;
  readonly event: string;
  readonly location: ProbeLocation;
  /** The maxactive given in the head (`r16:`), 0 when none was given (R110). */
  readonly maxactive: number;
  readonly args: readonly ProbeArg[];
}

export type ProbeCommand =
  /** A blank or comment-only line: a successful no-op (R104). */
  | { readonly kind: 'noop' }
  /**
   * Create (or append to) an event. `tokens` are the command's tokens as the kernel echoes them in
   * error_log (after the `%pd` rewrite when it applies, R124) — the events-file layer reports the
   * later (registration/append) errors against them.
   */
  | { readonly kind: 'define'; readonly probe: ProbeDefinition; readonly tokens: readonly string[] }
  /**
   * `-:[GROUP/]EVENT [match…]` (R133). `group` null = any group; `event` '' = every event of the
   * group. `match` are the extra tokens (location, then `name=text` per argument).
   */
  | { readonly kind: 'delete'; readonly group: string | null; readonly event: string; readonly match: readonly string[] };

/** Why a line was refused without an error_log entry (R105, R112.1, R133, R159, R161). */
export type SilentReason =
  | 'not-a-probe-command' // R105: first character not p/r, or fewer than two tokens
  | 'uprobe-target' // R112.1: location contains both '/' and ':'
  | 'bad-delete-syntax' // R133: `-x…` or `-:` without an event
  | 'no-memory' // R159: %pd/%pD rewrite overflowed its 256-byte buffer (-ENOMEM)
  | 'line-too-long'; // R102

export type ParseResult =
  | { readonly ok: true; readonly command: ProbeCommand }
  /**
   * A refused create command. `error` is the first error logged (the one the spec says wins);
   * `error.errno` is what write(2) fails with. `logged` lists every error_log entry the kernel
   * makes for the line, in order (normally just `[error]`; see grammar.ts for the `$arg*` case).
   * `command` is the echoed command text (tokens joined by single spaces, R160).
   */
  | { readonly ok: false; readonly error: ProbeError; readonly logged: readonly LoggedError[]; readonly command: string }
  /** Refused without any error_log entry. */
  | { readonly ok: false; readonly error: null; readonly errno: number; readonly reason: SilentReason };

// ── what the parser needs from the kernel ─────────────────────────────────────────────────

export type Arch = 'x86_64' | 'arm64';

/** A BTF type, reduced to what the probe parser looks at (R129, R130). */
export type BtfType =
  | { readonly kind: 'int'; readonly bits: number; readonly signed: boolean; readonly bitOffset?: number }
  | { readonly kind: 'enum'; readonly size: 4 | 8 }
  | { readonly kind: 'ptr'; readonly target: BtfType | null /* null: void * */ }
  | { readonly kind: 'struct' | 'union'; readonly name: string; readonly members: readonly BtfMember[] }
  | { readonly kind: 'array'; readonly element: BtfType; readonly length: number }
  | { readonly kind: 'other'; readonly name: string };

export interface BtfMember {
  /** '' for an anonymous struct/union member (searched recursively). */
  readonly name: string;
  readonly type: BtfType;
  /** Offset from the start of the containing struct, in bits. */
  readonly bitOffset: number;
  /** Width for a bitfield member, else 0/undefined. */
  readonly bitfieldSize?: number;
}

export interface BtfFuncProto {
  /** null: the function returns void. */
  readonly returnType: BtfType | null;
  readonly params: readonly { readonly name: string; readonly type: BtfType }[];
}

export interface BtfProvider {
  /** The BTF prototype of a function, or undefined when BTF has no entry for it. */
  funcProto(name: string): BtfFuncProto | undefined;
}

/**
 * Everything the pure parser asks the (simulated) kernel. The simulator implements it over its
 * kernel image; tests use a small double.
 */
export interface ParseContext {
  readonly arch: Arch;
  /** Is `name` a known symbol (in the kernel or any loaded module; in `module` when given)? */
  symbolExists(name: string, module?: string): boolean;
  /**
   * How many symbols carry this name (kernel + all loaded modules, or only `module` when given);
   * more than one → NON_UNIQ_SYMBOL (R112.4). Defaults to symbolExists ? 1 : 0.
   */
  symbolCount?(name: string, module?: string): number;
  /** Is the module loaded? When `MOD:` names a module that is not, the symbol checks are skipped (R98). */
  isModuleLoaded(module: string): boolean;
  /**
   * kprobe_on_func_entry(): is SYM+offset a function entry (R24)? undefined when the address cannot
   * be resolved (e.g. module not loaded). Default: offset === 0 when the symbol exists.
   */
  isFunctionEntry?(symbol: string, module: string | null, offset: number): boolean | undefined;
  /** Upper bound for `rN:` (R110); default 4096. */
  readonly maxactiveLimit?: number;
  /** THREAD_SIZE in bytes (bounds $stackN and $argN, R114); default 16384. */
  readonly threadSize?: number;
  /**
   * BTF argument support (CONFIG_PROBE_EVENTS_BTF_ARGS). Absent: the kernel has none, so `$arg*`
   * and BTF names fail with NOSUP_BTFARG and `$argN` is parsed by register position.
   */
  readonly btf?: BtfProvider;
  /**
   * The release screens and expands `$arg*` (argv_has_var_arg(), traceprobe_expand_meta_args():
   * v6.5+). false: `$arg*` is an unknown $-variable (BAD_VAR) and NOSUP_BTFARG does not exist.
   * Default true (the reference kernel).
   */
  readonly metaArgs?: boolean;
  /** The release has `$argN` (v4.20+, "tracing: probeevent: Add $argN"). false: BAD_VAR. Default true. */
  readonly argN?: boolean;
  /** Build-specific offsets used by the `%pd`/`%pD` rewrite (R124). */
  readonly dentryNameOffset?: number;
  readonly fileDentryOffset?: number;
}
