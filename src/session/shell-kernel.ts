import { Simulation, type EndReason } from '../actors/simulation.ts';
import { DEFAULT_KERNEL, type Arch, type BuildConfig, type KernelVersion } from '../kernel/index.ts';
import type { JsonObject, LoggedEvent } from '../model/events.ts';
import type { KernelState } from '../model/state.ts';
import type { ModuleSpec, ProbeSpec, Scenario, TaskOp } from '../scenario/types.ts';
import { randomStrategy } from '../scheduler/strategies.ts';
import type { Projection } from '../views/folder.ts';
import { checkModuleInput, checkOpsInput, checkProbeInput } from './input.ts';

// The shell's kernel: a simulated kernel that a user drives step by step in a `kprobesim shell`
// session. One interactive task, the shell (`sh`, pid 572 as in the seeds' session), performs
// what the user types: writing `kprobe_events` registers a probe from the shell's own write(2),
// `run ls` forks. Each input is an event of the log (`input.probe`, `input.ops`), and the kernel
// then runs until only the shell is left waiting, so a session's log replays like any other run.

export const SHELL_PID = 572;
export const SHELL_COMM = 'sh';
/** The user logs in ten seconds after boot: trace timestamps look like a real session's. */
export const LOGIN_TICKS = 10_000_000;

export interface ShellKernelOptions {
  readonly seed: number;
  readonly projections?: readonly Projection[];
  /** Every event as it is published (the log writer). */
  readonly onEvent?: (e: LoggedEvent) => void;
  /** Label each decision with what its step does (a session whose log is written; its replay when the log has labels). */
  readonly labels?: boolean;
}

export function sessionScenario(cpus: number, kernel: KernelVersion = DEFAULT_KERNEL, arch: Arch = 'x86_64', config: BuildConfig = {}): Scenario {
  return {
    name: 'shell',
    description: 'a kprobesim shell session',
    kernel,
    ...(arch === 'x86_64' ? {} : { arch }),
    ...(Object.keys(config).length > 0 ? { config } : {}),
    cpus,
    max_steps: 100_000_000,
    probes: [],
    tasks: [{ comm: SHELL_COMM, pid: SHELL_PID, interactive: true, program: [{ op: 'sleep', ticks: LOGIN_TICKS }] }],
  };
}

export class ShellKernel {
  readonly sim: Simulation;
  private batch: LoggedEvent[] = [];

  constructor(readonly scenario: Scenario, opts: ShellKernelOptions) {
    this.sim = new Simulation(scenario, {
      seed: opts.seed,
      strategy: randomStrategy(opts.seed),
      projections: opts.projections ?? [],
      session: true,
      labels: opts.labels === true,
    });
    this.sim.events$.subscribe((e) => {
      this.batch.push(e);
      opts.onEvent?.(e);
    });
    this.settle();
  }

  get state(): KernelState {
    return this.sim.world;
  }

  /** Why the kernel stopped for good (a BUG or oops, the step limit), or null while it runs. */
  get ended(): EndReason | null {
    return this.sim.endReason;
  }

  /** What the user typed, logged before the shell runs it: the session replays from these. */
  noteLine(text: string): void {
    if (this.ended === null) this.sim.input({ type: 'input.line', text });
  }

  /** A host directory mounted read-only at `path` (`shell --mount`), logged as the session starts. */
  noteMount(path: string): void {
    if (this.ended === null) this.sim.input({ type: 'input.mount', path });
  }

  /** What the session found at `path` of a mount the first time it looked: the host's part of its input. */
  noteMountRead(path: string, node: JsonObject): void {
    if (this.ended === null) this.sim.input({ type: 'input.mount.read', path, node });
  }

  /** A probe the user defined; it is not registered until an operation says so. */
  defineProbe(spec: ProbeSpec): void {
    const probe = checkProbeInput(this.sim.setup, spec as unknown as JsonObject);
    this.sim.input({ type: 'input.probe', probe: probe as unknown as JsonObject });
  }

  /**
   * A module in C the user's insmod brings (src/cexec): it joins the run's modules, not yet
   * loaded (the insmod operation loads it). Throws InputError when the session cannot take it.
   */
  defineModule(spec: ModuleSpec): void {
    const { module, probes } = checkModuleInput(this.sim.setup, spec as unknown as JsonObject);
    this.sim.input({ type: 'input.module', module: module as unknown as JsonObject, probes: [...probes] });
  }

  /**
   * The shell performs `ops`; the kernel runs until it is quiet again. Returns the events of
   * that (the input event first).
   */
  perform(ops: readonly TaskOp[]): readonly LoggedEvent[] {
    this.batch = [];
    if (this.ended !== null) return [];
    const checked = checkOpsInput(this.sim.setup, ops as unknown as JsonObject[]);
    this.sim.input({ type: 'input.ops', pid: SHELL_PID, ops: checked as unknown as JsonObject[] });
    this.settle();
    const out = this.batch;
    this.batch = [];
    return out;
  }

  /** The user is done: the log gets its log.end. */
  finish(): void {
    this.sim.finish();
  }

  private settle(): void {
    while (this.sim.step());
  }
}
