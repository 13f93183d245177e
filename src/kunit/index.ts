// KUnit for modules in C (issue 11): the executor of a module's suites and the KTAP it prints.
export { formatKtap, formatSuite, formatLog, failureReport, resultLine, ktapDialect, type KtapDialect } from './ktap.ts';
export { runKunit, failedCheck, type KunitCall, type KunitEvent, type KunitTarget, type KunitTest } from './run.ts';
export { allPassed, suiteStatus, type CaseLog, type CaseResult, type CaseStatus, type FailedCheck, type KunitRunResult, type SuiteResult } from './results.ts';
export { evaluateCheck, type CheckEvaluator, type CheckOutcome } from './check.ts';
