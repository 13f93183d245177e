// Public API of the `kprobesim shell` front end (see README.md).

export type { ArgValue, CommandResult, KernelBackend, KernelCommandInfo, TraceRecord } from './backend.ts';
export { ShellSession, splitScript, type RunResult, type ShellOptions } from './session.ts';
export { tokenize, type LexResult, type Token, type Word, type WordPart } from './lexer.ts';
export { parse, type AndOr, type ParseResult, type Pipeline, type Redirect, type SimpleCommand } from './parser.ts';
export { expandWords, expandWordNoSplit, type ExpandEnv } from './expand.ts';
export { Tracing, TRACE_OPTIONS, DEFAULT_FIRST_EVENT_ID, type TracingOptions } from './tracing.ts';
export { Vfs, type FileRef, type VNode } from './vfs.ts';
export { BUILTINS } from './builtins.ts';
export { msg, strerror } from './messages.ts';
export { formatTraceTimestamp, linePrefix } from './trace-output.ts';
export { traceHeader } from './files/trace.ts';
export { profileLine } from './files/kprobe-profile.ts';
