import { InputError } from '../errors.ts';
import { ARCHES, DEFAULT_KERNEL, KERNEL_VERSIONS, type Arch, type BuildConfig, type KernelVersion } from '../kernel/index.ts';
import type { LogHeader } from '../log/header.ts';
import { canonicalJson } from '../model/digest.ts';
import type { JsonObject, LoggedEvent } from '../model/events.ts';
import type { Mount } from '../shell/mount.ts';
import { loggedMounts, RecordedMount } from './mount-record.ts';
import type { Projection } from '../views/folder.ts';
import { openLog } from '../replay/open-log.ts';
import { makeHeader } from '../run/record.ts';
import type { Scenario } from '../scenario/types.ts';
import { ShellSession, type RunResult } from '../shell/session.ts';
import { sessionScenario } from './shell-kernel.ts';
import { SimBackend } from './sim-backend.ts';

// A shell session whose log carries what the user typed (`input.line`) as well as what the
// kernel did: running those lines again on the same settings reproduces the session, kernel
// events and shell output alike. `kprobesim shell` records one (writes its log, as recordRun does
// for a run); `kprobesim shell --replay` and `kprobesim trace` replay one from its log.

export const TRACING = '/sys/kernel/tracing';

export interface SessionSettings {
  readonly cpus: number;
  readonly seed: number;
  readonly kernel: KernelVersion;
  readonly arch: Arch;
  readonly config?: BuildConfig;
}

export class RecordedSession {
  readonly backend: SimBackend;
  readonly shell: ShellSession;
  readonly scenario: Scenario;

  constructor(
    readonly settings: SessionSettings,
    opts: {
      readonly onEvent?: (e: LoggedEvent) => void;
      readonly projections?: readonly Projection[];
      readonly traceUpTo?: number;
      /** Host directories mounted read-only (the host's, or a log's record of them on replay). */
      readonly mounts?: readonly Mount[];
      /** Label each scheduling decision: a session whose log is written, or the replay of a log that has labels. */
      readonly labels?: boolean;
    } = {},
  ) {
    this.scenario = sessionScenario(settings.cpus, settings.kernel, settings.arch, settings.config);
    this.backend = new SimBackend({ ...settings, ...opts });
    const kernel = this.backend.shellKernel;
    // Each mount is an input of the session, and so is everything the session finds in it.
    const mounts = (opts.mounts ?? []).map((m): Mount => {
      kernel.noteMount(m.path);
      return { path: m.path, source: new RecordedMount(m.path, m.source, (path, node) => kernel.noteMountRead(path, node as unknown as JsonObject)) };
    });
    this.shell = new ShellSession(this.backend, { cwd: TRACING, home: TRACING, mounts });
  }

  /** The prompt for the shell's current directory, BusyBox style. */
  prompt(cwd = this.shell.cwd): string {
    return promptFor(cwd);
  }

  /** The log's first line for this session. */
  header(): LogHeader {
    return makeHeader(this.scenario, { seed: this.settings.seed, strategy: 'random' });
  }

  /** One complete command, logged before it runs. */
  run(chunk: string): RunResult {
    this.backend.shellKernel.noteLine(chunk);
    return this.shell.run(chunk);
  }

  /** The user is done: the kernel's log gets its log.end. */
  finish(): void {
    this.backend.shellKernel.finish();
  }
}

export function promptFor(cwd: string): string {
  return `[root@kprobesim ${cwd === '/' ? '/' : cwd.slice(cwd.lastIndexOf('/') + 1)}]# `;
}

/** The settings a session log was recorded with, or an error saying it is not a session's log. */
export function sessionSettings(path: string, header: LogHeader, scenario: Scenario): SessionSettings {
  const kernel = scenario.kernel ?? DEFAULT_KERNEL;
  const arch = scenario.arch ?? 'x86_64';
  const settings = { cpus: scenario.cpus, seed: header.seed, kernel, arch, config: scenario.config ?? {} };
  const isSession =
    KERNEL_VERSIONS.includes(kernel) &&
    ARCHES.includes(arch) &&
    header.strategy.name === 'random' &&
    canonicalJson(scenario) === canonicalJson(sessionScenario(settings.cpus, kernel, arch, settings.config));
  if (!isSession) throw new InputError(`${path}:1`, 'not the log of a kprobesim shell session (it was written by kprobesim run; use kprobesim replay)');
  return settings;
}

export interface CommandOutput {
  /** The shell's directory when the line was typed (what the prompt showed). */
  readonly cwd: string;
  readonly line: string;
  readonly result: RunResult;
}

export type SessionReplayResult =
  | {
      readonly kind: 'identical';
      readonly events: number;
      /** The log stops before log.end (an interrupted session): it matched as far as it goes. */
      readonly partial: boolean;
      readonly session: RecordedSession;
      readonly outputs: readonly CommandOutput[];
    }
  | { readonly kind: 'diverged'; readonly seq: number; readonly line: number; readonly expected: string; readonly actual: string; readonly outputs: readonly CommandOutput[] };

/**
 * Replays a session from its log (`kprobesim shell --replay`, as `replayLog` does for a run): the
 * typed lines on a new session with the same settings, its events compared with the logged ones.
 * A log cut short is replayed up to its last complete line.
 */
export async function replaySession(path: string): Promise<SessionReplayResult> {
  const log = await openLog(path);
  const settings = sessionSettings(path, log.header, log.scenario);
  const logged: { event: LoggedEvent; raw: string; line: number }[] = [];
  for await (const batch of log.batches) for (const e of batch) if (e.kind === 'event') logged.push(e);
  const produced: LoggedEvent[] = [];
  // The mounts are served from the log: the host directory is not needed.
  // Labels exactly when the log has them (logs written before labels have none).
  const labels = logged.some(({ event }) => event.type === 'sched.pick' && event.label !== undefined);
  const session = new RecordedSession(settings, { onEvent: (e) => produced.push(e), mounts: loggedMounts(logged, path), labels });
  const outputs: CommandOutput[] = [];
  for (const { event } of logged) {
    if (event.type !== 'input.line') continue;
    // Only lines that the log shows were typed; the kernel events in between follow from them.
    const cwd = session.shell.cwd;
    outputs.push({ cwd, line: event.text, result: session.run(event.text) });
  }
  const complete = logged.at(-1)?.event.type === 'log.end';
  if (complete) session.finish();
  for (let i = 0; i < logged.length; i++) {
    const want = logged[i]!;
    const got = produced[i];
    if (got === undefined || canonicalJson(got) !== canonicalJson(want.event)) {
      return { kind: 'diverged', seq: want.event.seq, line: want.line, expected: want.raw, actual: got === undefined ? '(the re-run session had no more events)' : JSON.stringify(got), outputs };
    }
  }
  if (complete && produced.length > logged.length) {
    const next = produced[logged.length]!;
    return { kind: 'diverged', seq: next.seq, line: logged.length + 2, expected: '(the log ends here)', actual: JSON.stringify(next), outputs };
  }
  return { kind: 'identical', events: logged.length, partial: !complete, session, outputs };
}
