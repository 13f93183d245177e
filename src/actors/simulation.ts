import type { Observable } from 'rxjs';
import { createActor, type Actor } from 'xstate';
import { cpuMachine } from '../machines/cpu.ts';
import { kprobesMachine } from '../machines/kprobes.ts';
import { phaseOfSnapshot } from '../machines/kprobe-call-actor.ts';
import { schedulerLogic, type Outcome } from '../machines/scheduler.ts';
import { digestState } from '../model/digest.ts';
import type { EventOf, LoggedEvent } from '../model/events.ts';
import { findTask } from '../model/queries.ts';
import type { ModuleSpec, ProbeSpec, TaskOp } from '../scenario/types.ts';
import { evolve } from '../model/evolve.ts';
import { initialState } from '../model/initial.ts';
import { createSetup, withModule, withOps, withProbe, type Setup } from '../model/setup.ts';
import type { ApiPhase, KernelState } from '../model/state.ts';
import type { Scenario } from '../scenario/types.ts';
import { seededIds } from '../scheduler/rng.ts';
import { InputError } from '../errors.ts';
import type { HandlerCallback } from '../kprobes/callbacks.ts';
import type { MutantName } from '../kprobes/mutants.ts';
import { callbackNames } from '../scenario/callbacks.ts';
import { own } from '../model/own.ts';
import { maxTasksOf } from '../scenario/types.ts';
import type { Strategy } from '../scheduler/strategies.ts';
import { decisionLabel, type Labeller } from '../scheduler/label.ts';
import type { Projection } from '../views/folder.ts';
import { EventBus, type Outbox } from './bus.ts';
import { Channels, emitted, type KprobesCall, type RunView } from './channels.ts';

// The actor system of one run: a scheduler, one actor per CPU, the kprobe manager, the streams
// between them (grants, kprobes calls: ./channels.ts) and the bus that merges the streams of
// their domain events. The fold subscribes to the bus first, so every actor decides against the
// state that includes every event published before its turn. This class only drives: it asks
// the scheduler for a decision (TICK) and the manager for the optimizer's deferred work, and
// learns from the scheduler's snapshot when the run is over.

export type EndReason = 'done' | 'deadlock' | 'limit' | 'task_limit' | 'bug';

export type InputEvent = EventOf<'input.line'> | EventOf<'input.probe'> | EventOf<'input.ops'> | EventOf<'input.mount'> | EventOf<'input.mount.read'> | EventOf<'input.module'>;

const INPUT_TYPES: ReadonlySet<string> = new Set<InputEvent['type']>(['input.line', 'input.probe', 'input.ops', 'input.mount', 'input.mount.read', 'input.module']);

/** Whether a logged event is a session's input (fed to a replayed run, not re-created by it). */
export function isInputEvent(e: LoggedEvent): e is LoggedEvent & InputEvent {
  return INPUT_TYPES.has(e.type);
}

export interface SimulationOptions {
  readonly seed: number;
  readonly strategy: Strategy;
  /** Views and monitors fed from the run's own fold (no second fold needed). */
  readonly projections?: readonly Projection[];
  /**
   * A shell session: when only shells waiting for input are left, step() returns false but the
   * run goes on; input() wakes it and finish() ends it.
   */
  readonly session?: boolean;
  /**
   * TypeScript handlers for the scenario's `{"do":"callback","name":…}` steps. Each must be a
   * pure function of its context (the run stays reproducible); what it returns is logged.
   */
  readonly callbacks?: Readonly<Record<string, HandlerCallback>>;
  /** A planted-bug kernel (src/kprobes/mutants.ts); absent: the correct kernel. */
  readonly mutant?: MutantName;
  /**
   * Label each decision with what its step does (`sched.pick`'s label, src/scheduler/label.ts):
   * runs that write a log do; a function gives each label itself (replay: the log's, where it has
   * one). Default: no labels (a label costs about a twentieth of a step, for nothing in a run no
   * one reads).
   */
  readonly labels?: boolean | Labeller;
}

export class Simulation {
  readonly events$: Observable<LoggedEvent>;
  private state: KernelState;
  /** Replaced (never changed) by a session's input. */
  private currentSetup: Setup;
  private readonly bus = new EventBus();
  private readonly channels: Channels;
  private readonly scheduler: Actor<typeof schedulerLogic>;
  private readonly cpus: Actor<typeof cpuMachine>[];
  private readonly kprobes: Actor<typeof kprobesMachine>;
  /** The log's own stream: it carries only log.end. */
  private readonly logOutbox: Outbox;
  /** What a session's user typed: input.probe, input.ops. */
  private readonly inputOutbox: Outbox;
  private readonly session: boolean;
  private ended: EndReason | null = null;
  /** An error the fold or a projection raised while an actor published. */
  private failure: unknown = null;

  constructor(scenario: Scenario, opts: SimulationOptions) {
    const missing = callbackNames(scenario).filter((n) => opts.callbacks === undefined || own(opts.callbacks, n) === undefined);
    if (missing.length > 0) {
      throw new InputError('callbacks', `the scenario calls TypeScript handler${missing.length > 1 ? 's' : ''} ${missing.map((n) => `"${n}"`).join(', ')}; run it through the library with them (kprobesim replay and the views read its log without them)`);
    }
    this.currentSetup = {
      ...createSetup(scenario, opts.seed),
      ...(opts.callbacks !== undefined ? { callbacks: opts.callbacks } : {}),
      ...(opts.mutant !== undefined ? { mutant: opts.mutant } : {}),
    };
    this.state = initialState(scenario);
    const s0 = this.state;
    const view: RunView = { world: () => this.state, setup: () => this.currentSetup };
    this.channels = new Channels(s0.cpus.length);
    // XState's own actor ids come from a process-wide counter; ours are fixed names (`id`), so
    // nothing in a run depends on what else the process created before.
    this.cpus = s0.cpus.map((cpu) =>
      createActor(cpuMachine, {
        id: `cpu/${cpu.id}`,
        input: { cpu, view, outbox: this.bus.outbox(`cpu/${cpu.id}`), grants: this.channels.grantsTo(cpu.id) },
      }),
    );
    this.kprobes = createActor(kprobesMachine, {
      id: 'kprobes',
      input: {
        kprobes: s0.kprobes,
        view,
        outbox: this.bus.outbox('kprobes'),
        // Each CPU emits its tasks' kprobes calls; the manager subscribes to them all.
        calls: emitted<KprobesCall>(this.cpus, 'API'),
        newHandle: seededIds(opts.seed, 'kprobes'),
      },
    });
    this.scheduler = createActor(schedulerLogic, {
      id: 'sched',
      input: {
        sched: s0.sched,
        strategy: opts.strategy,
        outbox: this.bus.outbox('sched'),
        maxSteps: scenario.max_steps,
        maxTasks: maxTasksOf(scenario),
        world: view.world,
        grants: this.channels.grantObservers,
        label: opts.labels === true ? (w, choice) => decisionLabel(this.currentSetup, w, choice) : typeof opts.labels === 'function' ? opts.labels : null,
      },
    });
    this.logOutbox = this.bus.outbox('log');
    this.inputOutbox = this.bus.outbox('input');
    this.session = opts.session ?? false;
    this.events$ = this.bus.events$;
    const projections = opts.projections ?? [];
    this.events$.subscribe((e) => {
      // RxJS would rethrow a subscriber's error later, out of band; keep it for step() instead.
      if (this.failure !== null) return;
      try {
        const before = this.state;
        this.state = evolve(before, e);
        for (const p of projections) p.observe(before, e, this.state);
      } catch (err) {
        this.failure = err;
      }
    });
    // Errors thrown inside an actor stop it; step() rethrows them synchronously, so XState must
    // not also report them as unhandled.
    for (const a of [this.kprobes, this.scheduler, ...this.cpus] as Actor<never>[]) a.subscribe({ error: () => {} });
    this.kprobes.start();
    for (const c of this.cpus) c.start();
    this.scheduler.start();
  }

  /** Everything about the run that its events do not change (a session's input replaces it). */
  get setup(): Setup {
    return this.currentSetup;
  }

  /** The folded kernel state after every event published so far. */
  get world(): KernelState {
    return this.state;
  }

  get endReason(): EndReason | null {
    return this.ended;
  }

  /** The actors' own views, for INV-fold: each must equal its slice of `world`. */
  actorViews() {
    return {
      cpus: this.cpus.map((a) => ({ value: a.getSnapshot().value as string, cpu: a.getSnapshot().context.cpu })),
      sched: this.scheduler.getSnapshot().context.sched,
      kprobes: {
        value: this.kprobes.getSnapshot().value as string,
        kprobes: this.kprobes.getSnapshot().context.kprobes,
        /** Each task's call machine: the phase of the step it stands at (null: in no call). */
        calls: Object.fromEntries(
          Object.entries(this.kprobes.getSnapshot().context.callers).map(([pid, ref]) => [pid, phaseOfSnapshot(ref.getSnapshot()) ?? null]),
        ) as Record<string, ApiPhase | null>,
      },
    };
  }

  /** One scheduling decision and the step it starts. False once the run has ended. */
  step(): boolean {
    if (this.ended !== null) return false;
    if (this.state.halted !== null) return this.end('bug'), false;
    // The optimizer's deferred work (spec §11) runs when it is due, between scheduling decisions.
    if (this.currentSetup.scenario.config?.optprobes) {
      const seq = this.state.seq;
      this.kprobes.send({ type: 'OPTIMIZE' });
      if (this.failure !== null) throw this.failure;
      if (this.state.seq !== seq) return true;
    }
    // The scheduler decides and grants the chosen CPU its step, which runs (with any kprobes call
    // it hands to the manager) before send() returns.
    this.scheduler.send({ type: 'TICK' });
    if (this.failure !== null) throw this.failure;
    const snap = this.scheduler.getSnapshot();
    if (snap.status === 'error') throw snap.error;
    const outcome = snap.context.outcome as Outcome;
    // A session waits for its user rather than ending.
    if (outcome.kind === 'end' && outcome.reason === 'done' && this.session) return false;
    if (outcome.kind === 'end') return this.end(outcome.reason), false;
    if (outcome.kind === 'idle') return true;
    const cpu = this.cpus[outcome.choice.cpu]!;
    // An actor that threw is stopped by XState; surface the error here, synchronously.
    if (cpu.getSnapshot().status === 'error') throw cpu.getSnapshot().error;
    if (this.kprobes.getSnapshot().status === 'error') throw this.kprobes.getSnapshot().error;
    return true;
  }

  /**
   * A session's input, published as an event of its own. The caller has validated it against
   * the scenario (src/session/input.ts); the setup grows so that the actors can run it.
   */
  input(event: InputEvent): void {
    if (this.ended !== null) throw new Error('internal: input after the run ended');
    if (event.type === 'input.probe') {
      this.currentSetup = withProbe(this.currentSetup, event.probe as unknown as ProbeSpec);
      this.kprobes.send({ type: 'INPUT', event });
    } else if (event.type === 'input.module') {
      this.currentSetup = withModule(this.currentSetup, event.module as unknown as ModuleSpec).setup;
      this.kprobes.send({ type: 'INPUT', event });
    } else if (event.type === 'input.ops') {
      const task = findTask(this.state, event.pid);
      if (task === undefined) throw new Error(`internal: no task ${event.pid} for input`);
      this.currentSetup = withOps(this.currentSetup, task.prog, event.ops as unknown as TaskOp[]);
    }
    this.inputOutbox.publish([event]);
    if (this.failure !== null) throw this.failure;
  }

  /** Ends a session (the user typed `exit`): log.end with the state's digest. */
  finish(): void {
    if (this.ended === null) this.end('done');
  }

  /** Runs to the end; returns why it ended. */
  run(): EndReason {
    while (this.step());
    return this.ended!;
  }

  private end(reason: EndReason): void {
    this.ended = reason;
    this.logOutbox.publish([{ type: 'log.end', digest: digestState(this.state), reason }]);
    this.scheduler.stop();
    for (const c of this.cpus) c.stop();
    this.kprobes.stop();
    this.channels.complete();
    this.bus.complete();
  }
}
