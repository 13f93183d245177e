// The C front end of kernel modules (issue 11): compileModule and what it returns.
export { compileModule, checkParams, type CompileOptions, type CompileResult } from './compile.ts';
export { formatDiagnostics, diagnosticHeadline, isError, type Diagnostic } from './diagnostics.ts';
export type * from './program.ts';
export type { CType } from './types.ts';
export { kernelConfig, werrorOptions, type CArch } from './kernel-api.ts';
export { KNOWN_HEADERS } from './kernel-api-headers.ts';
