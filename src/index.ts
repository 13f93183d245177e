// kprobesim as a library: build a scenario, run it, read its log, fold it, check invariants.

export { Simulation, type EndReason, type SimulationOptions } from './actors/simulation.ts';
export type { HandlerCallback, HandlerContext } from './kprobes/callbacks.ts';
export { recordRun, makeHeader, type RunOptions, type RunResult } from './run/record.ts';
export { replayLog, type ReplayResult } from './replay/replay.ts';
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
export { ExpectMonitor, checkExpectations, compileExpectations, type ExpectFailure, type CompiledExpectation } from './expect/monitor.ts';
export { compileExpr, parseExpr, ExprError, type CompiledExpr } from './expect/compile.ts';
export { MUTANTS, MUTANT_INFO, isMutant, parseMutant, type MutantName, type MutantInfo } from './kprobes/mutants.ts';
export { LogWriter, MemoryLog } from './log/writer.ts';
export { readLog, parseLogText } from './log/reader.ts';
export { BUILTIN_SYMBOLS, SymbolTable, X86_64_IMAGE } from './kernel/index.ts';
