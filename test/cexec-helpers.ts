import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cModuleSpec, withCModules } from '../src/cexec/index.ts';
import type { Arch, KernelVersion } from '../src/kernel/index.ts';
import type { LoggedEvent } from '../src/model/events.ts';
import { replayLog } from '../src/replay/replay.ts';
import { recordRun } from '../src/run/record.ts';
import type { Scenario, TaskSpec } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import type { KernelState } from '../src/model/state.ts';

// Runs kernel modules written in C as `kprobesim run --module` does (src/cexec withCModules):
// insmod, the workload (given tasks, or the default shells opening files), rmmod. Returns the
// kernel log's text lines (no timestamps), the events, the final state and the log's path.

export interface CRun {
  readonly dmesg: readonly string[];
  readonly events: readonly LoggedEvent[];
  readonly state: KernelState;
  readonly log: string;
  readonly endReason: string;
}

export interface CRunOptions {
  readonly arch?: Arch;
  readonly kernel?: KernelVersion;
  readonly cpus?: number;
  readonly seed?: number;
  readonly tasks?: readonly TaskSpec[];
  readonly params?: Readonly<Record<string, string>>;
  readonly maxSteps?: number;
}

export function cScenario(files: readonly { name: string; code: string }[], o: CRunOptions = {}): Scenario {
  const base: Scenario = {
    name: 'cexec-test',
    description: 'a C module test',
    ...(o.kernel ? { kernel: o.kernel } : {}),
    ...(o.arch ? { arch: o.arch } : {}),
    cpus: o.cpus ?? 2,
    max_steps: o.maxSteps ?? 200_000,
    probes: [],
    tasks: [...(o.tasks ?? [])],
  };
  return validateScenario(withCModules(base, files.map((f) => cModuleSpec(f.name, f.code, o.params ?? {}))));
}

export async function runC(files: readonly { name: string; code: string }[], o: CRunOptions = {}): Promise<CRun> {
  const scenario = cScenario(files, o);
  const lines: string[] = [];
  const events: LoggedEvent[] = [];
  const sink = { writeLine: (l: string) => (lines.push(l), true), drain: async () => {} };
  const r = await recordRun(scenario, { seed: o.seed ?? 1, strategy: 'random' }, sink);
  for (const l of lines.slice(1)) events.push(JSON.parse(l) as LoggedEvent);
  const dir = mkdtempSync(join(tmpdir(), 'cexec-'));
  const log = join(dir, 'run.jsonl');
  writeFileSync(log, lines.join('\n') + '\n');
  return { dmesg: r.dmesg.map((l) => l.replace(/^\[[ 0-9.]+\] /, '')), events, state: r.state, log, endReason: r.endReason };
}

/** Replays a log and says whether it came out identical. */
export async function replaysIdentical(log: string): Promise<boolean> {
  return (await replayLog(log)).kind === 'identical';
}
