// kprobesim as a library: build a scenario, run it, read its log, fold it, check invariants.

export { Simulation, type EndReason, type SimulationOptions } from './actors/simulation.ts';
export type { HandlerCallback, HandlerContext } from './kprobes/callbacks.ts';
export { recordRun, makeHeader, type RunOptions, type RunResult } from './run/record.ts';
export { replayLog, type ReplayResult } from './replay/replay.ts';
export { replayByLabels, type ByLabelsResult } from './replay/by-labels.ts';
export { scheduleMessage, type ScheduleReport } from './replay/schedule.ts';
export { decisionLabel } from './scheduler/label.ts';
export { foldLog } from './replay/fold-log.ts';
export { evolve, FoldError } from './model/evolve.ts';
export { initialState } from './model/initial.ts';
export { digestState, canonicalJson } from './model/digest.ts';
export type * from './model/state.ts';
export { EVENT_FIELDS, EVENT_TYPES, type DomainEvent, type LoggedEvent, type EventType, type Hex } from './model/events.ts';
export type * from './scenario/types.ts';
export { validateScenario } from './scenario/validate.ts';
export { loadScenario, parseScenarioText } from './scenario/load.ts';
export { BUILTIN_SCENARIOS } from './scenario/builtin/index.ts';
export { scenarioArbitrary, seedArbitrary, PROBEABLE_FUNCTIONS } from './scenario/arbitrary.ts';
export { formatCounterexample, scenarioFileText, SCENARIO_SCHEMA_ID } from './scenario/format.ts';
export { counterexampleNote, counterexampleReporter } from './scenario/counterexample.ts';
export { scenarioJsonSchema } from './scenario/json-schema.ts';
export { randomStrategy, roundRobinStrategy, replayStrategy, type Strategy } from './scheduler/strategies.ts';
export { InvariantMonitor, INVARIANTS, type Violation } from './monitors/invariants.ts';
export { explore, type ExploreOptions } from './explore/explore.ts';
export { mergeReports } from './explore/merge.ts';
export { scheduleArbitrary, runSchedule, type Preempt } from './explore/arbitrary.ts';
export { strategyScheduleArbitrary, runStrategySchedule, exploreCommand, SCHEDULE_STRATEGIES, type StrategySchedule, type StrategyScheduleOptions, type ScheduleStrategyName } from './explore/strategy-schedule.ts';
export type { ExploreReport, FailureReport, ExploreStrategyName } from './explore/report.ts';
export { DETECTORS, type Failure, type FailureDetector, type DetectorFactory } from './explore/detectors.ts';
export { ExpectMonitor, checkExpectations, compileExpectations, type ExpectFailure, type CompiledExpectation } from './expect/monitor.ts';
export { compileExpr, parseExpr, ExprError, type CompiledExpr } from './expect/compile.ts';
export { MUTANTS, MUTANT_INFO, isMutant, parseMutant, type MutantName, type MutantInfo } from './kprobes/mutants.ts';
export { LogWriter, MemoryLog } from './log/writer.ts';
export { readLog, parseLogText } from './log/reader.ts';
export { BUILTIN_SYMBOLS, SymbolTable, X86_64_IMAGE } from './kernel/index.ts';
// Kernel modules in C (README "Your module in C"): compile with gcc-style diagnostics, then run a
// scenario with the module loaded by its first task.
export { compileModule, formatDiagnostics, type CompileOptions, type CompileResult, type Diagnostic } from './c/index.ts';
export { cModuleSpec, loadModuleSpec, withCModules, defaultWorkload, ModuleLoadError } from './cexec/index.ts';
// Pictures of a run (README "Timelines"): the timeline model and its Perfetto JSON.
export { buildTimeline, TimelineBuilder } from './timeline/index.ts';
export type { Timeline, Track, Slice, Instant, CounterSeries, Flow } from './timeline/index.ts';
export { perfettoJson } from './timeline/perfetto.ts';
