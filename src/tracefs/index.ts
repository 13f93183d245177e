// Public API of the pure `kprobe_events` text-interface core (spec §15–§22). No I/O, no simulator.

export * from './errors.ts';
export * from './types.ts';
export { parseProbeCommand, stripComment, generateEventName, KPROBE_EVENT_SYSTEM, KRETPROBE_MAXACTIVE_MAX } from './grammar.ts';
export { findFetchType, RESERVED_FIELD_NAMES, splitMemSymbol } from './fetchargs.ts';
export { isRegisterName, REGISTER_NAMES } from './registers.ts';
export { errorColumn } from './probe-log.ts';
export * from './canonical.ts';
export * from './events-file.ts';
export * from './error-log.ts';
export * from './format.ts';
export * from './filter.ts';
export { simpleContext, type SimpleContextOptions, type SimpleSymbol } from './simple-context.ts';
