import { Simulation, type EndReason } from '../actors/simulation.ts';
import { canonicalJson } from '../model/digest.ts';
import { LOG_FORMAT, LOG_VERSION, type LogHeader } from '../log/header.ts';
import type { LineSink } from '../log/writer.ts';
import type { KernelState } from '../model/state.ts';
import type { MutantName } from '../kprobes/mutants.ts';
import { InvariantMonitor, type Violation } from '../monitors/invariants.ts';
import { ExpectMonitor, type ExpectFailure } from '../expect/monitor.ts';
import type { Scenario } from '../scenario/types.ts';
import { seededIds } from '../scheduler/rng.ts';
import { strategyByName } from '../scheduler/strategies.ts';
import { DmesgView } from '../views/dmesg.ts';
import { KcsanMonitor, type KcsanReport } from '../kcsan/index.ts';
import { TraceView } from '../views/trace.ts';

// One run from scenario to log: header line, then every event as the bus stamps it, written with
// backpressure (the loop waits for the sink to drain; the model itself never waits on I/O, so
// timing cannot change what it does).

export interface RunOptions {
  readonly seed: number;
  readonly strategy: 'random' | 'round-robin';
  /** A planted-bug kernel (src/kprobes/mutants.ts); absent: the correct kernel. */
  readonly mutant?: MutantName;
}

/** Raised when a run is stopped from outside (Ctrl-C); its log so far stays readable. */
export class RunInterrupted extends Error {
  constructor(readonly seq: number) {
    super(`interrupted after event seq ${seq}`);
  }
}

/** How often an interruptible run lets the event loop see signals (never changes decisions). */
const YIELD_EVERY = 8192;

export interface RunResult {
  readonly endReason: EndReason;
  readonly state: KernelState;
  readonly events: number;
  readonly violations: readonly Violation[];
  /** The scenario's `expect` assertions that failed, each at its first false state. */
  readonly expectFailures: readonly ExpectFailure[];
  readonly dmesg: readonly string[];
  /** KCSAN's data-race reports on module memory (runs with C modules; src/kcsan), also in dmesg. */
  readonly kcsan: readonly KcsanReport[];
  readonly trace: TraceView;
  readonly digest: string;
}

export function makeHeader(scenario: Scenario, opts: RunOptions): LogHeader {
  return {
    format: LOG_FORMAT,
    version: LOG_VERSION,
    seed: opts.seed,
    scenario,
    cpus: scenario.cpus,
    strategy: { name: opts.strategy },
    // The run id is a function of what the run is, so equal runs have equal bytes.
    run: seededIds(opts.seed ^ canonicalJson(scenario).length, 'run')(),
    // Only a mutant run has the field: the correct kernel's logs keep their bytes.
    ...(opts.mutant !== undefined ? { mutant: opts.mutant } : {}),
  };
}

export async function recordRun(scenario: Scenario, opts: RunOptions, sink: LineSink | null, signal?: AbortSignal): Promise<RunResult> {
  const monitor = new InvariantMonitor();
  const expectations = ExpectMonitor.of(scenario);
  const dmesg = new DmesgView();
  // KCSAN prints its reports in the kernel log, where the race showed.
  const kcsan = KcsanMonitor.of(scenario);
  if (kcsan !== null) kcsan.onReport = (r) => r.lines.forEach((l) => dmesg.print(r.t, l));
  // A scenario's probes are a module's: no trace event, so the trace file is only its header.
  const trace = new TraceView(scenario);
  const sim = new Simulation(scenario, {
    seed: opts.seed,
    strategy: strategyByName(opts.strategy, opts.seed),
    projections: [monitor, ...(expectations === null ? [] : [expectations]), ...(kcsan === null ? [] : [kcsan]), dmesg],
    // A log carries each decision's label (what its step did), so it replays by labels after the model changed.
    labels: sink !== null,
    ...(opts.mutant !== undefined ? { mutant: opts.mutant } : {}),
  });
  let events = 0;
  let digest = '';
  let mustDrain = false;
  sim.events$.subscribe((e) => {
    events++;
    if (e.type === 'log.end') digest = e.digest;
    if (sink !== null && !sink.writeLine(JSON.stringify(e))) mustDrain = true;
  });
  if (sink !== null && !sink.writeLine(JSON.stringify(makeHeader(scenario, opts)))) await sink.drain();
  for (let steps = 1; sim.step(); steps++) {
    if (mustDrain) {
      mustDrain = false;
      await sink!.drain();
    }
    if (signal !== undefined && steps % YIELD_EVERY === 0) {
      await new Promise((resolve) => setImmediate(resolve));
      if (signal.aborted) throw new RunInterrupted(sim.world.seq);
    }
  }
  if (mustDrain) await sink!.drain();
  return {
    endReason: sim.endReason!,
    state: sim.world,
    events,
    violations: monitor.violations,
    expectFailures: expectations?.failures ?? [],
    dmesg: dmesg.lines,
    kcsan: kcsan?.reports ?? [],
    trace,
    digest,
  };
}
