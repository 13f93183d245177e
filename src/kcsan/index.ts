// KCSAN for module memory (issue 12): data races found by happens-before over a run's events.
// ./checker.ts is the projection (`kprobesim run` prints its reports in dmesg and its summary;
// explore's `kcsan` failures come from it); ./happens-before.ts says which kernel events order
// what; ./shadow.ts keeps the accesses; ./report.ts lays a report out as the kernel does.

export { KcsanMonitor } from './checker.ts';
export { accessLine, type KcsanReport, type RaceAccess } from './report.ts';
