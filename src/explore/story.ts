import type { SymbolTable } from '../kernel/index.ts';
import type { LoggedEvent } from '../model/events.ts';
import { initialState } from '../model/initial.ts';
import { symbolsOf } from '../model/setup.ts';
import { forcedStrategy } from '../scheduler/strategies.ts';
import type { Failure } from './detectors.ts';
import { executeRun } from './execute.ts';
import type { Preemption, ShrinkSpec } from './shrink.ts';

// A shrunk failure told as a short story (issue 12, "Shrinking and explaining"): what each CPU
// was doing just before each kept preemption, what the preempting CPU then did, and the step
// where the check failed, with what the other CPUs were in the middle of. Only the steps another
// CPU can see are told (the kprobes API, kprobe_mutex, text patching, traps, handlers, grace
// periods, sleeping and waking): instructions, handler spins and printk are left out. Functions
// are named by the kernel image's symbol table, probes by their names. The story is built by
// running the shrunk schedule once more, so it is as deterministic as the run.

/** At most this many steps told after a preemption (the first ones; an ellipsis stands for the rest). */
export const STEPS_AFTER = 12;

export interface Story {
  /** The story, one line a step, ending with the violated check. */
  readonly lines: readonly string[];
  /**
   * labels[i]: the label of preemption i's decision (src/scheduler/label.ts: what the step it
   * forced does, `cpu0: rmmod wakes`), the very words of that decision's sched.pick in the log.
   */
  readonly labels: readonly string[];
  /** The orderings that must hold for the failure: one per kept preemption. */
  readonly depth: number;
}

type Ev = LoggedEvent & Record<string, unknown>;

/** `vfs_read+0x0` (the symbol table's name and offset, without the size). */
function symbolName(symbols: SymbolTable, addr: unknown): string {
  if (typeof addr !== 'string') return '?';
  const f = symbols.format(BigInt(addr));
  return f === undefined ? addr : f.replace(/\/0x[0-9a-f]+$/, '');
}

/** A visible step in plain words (without its CPU), or null for a step the story leaves out. */
function phrase(e: Ev, sym: (a: unknown) => string, task: (pid: unknown) => string): string | null {
  switch (e.type) {
    case 'kprobe.register': return `register_kprobe(${e.probe}) at ${sym(e.addr)}`;
    case 'kprobe.registered': return `register_kprobe(${e.probe}) returns`;
    case 'kprobe.unregister': return `unregister_kprobe(${e.probe})`;
    case 'kprobe.unregistered': return `unregister_kprobe(${e.probe}) returns`;
    case 'kprobe.disable': return `disables ${e.probe}`;
    case 'kprobe.unlink': return `unlinks ${e.probe} from ${sym(e.addr)}`;
    case 'mutex.lock': return 'takes kprobe_mutex';
    case 'mutex.wait': return 'waits for kprobe_mutex';
    case 'mutex.unlock': return 'releases kprobe_mutex';
    case 'text.arm': return `arms ${sym(e.addr)} (writes int3)`;
    case 'text.disarm': return `disarms ${sym(e.addr)} (restores the original byte)`;
    case 'text.sync.start': return `text_poke_sync waits for ${cpus(e.waiting)}`;
    case 'rcu.gp.start': return `synchronize_rcu waits for ${cpus(e.waiting)}`;
    case 'rcu.gp.end': return `grace period ${e.gp} ends`;
    case 'kprobe.trap': return `int3 at ${sym(e.addr)}`;
    case 'kprobe.hit': return `finds ${(e.probes as string[]).join(', ')} at ${sym(e.addr)}`;
    case 'handler.enter': return `enters ${e.probe}'s ${e.phase}-handler`;
    case 'handler.exit': return `leaves ${e.probe}'s ${e.phase}-handler`;
    case 'handler.skip': return `skips ${e.probe}'s ${e.phase}-handler (${e.reason})`;
    case 'kprobe.ss': return `single-steps the original instruction of ${sym(e.addr)}`;
    case 'kprobe.done': return `returns from the int3 at ${sym(e.addr)}`;
    case 'task.sleep': return `${task(e.pid)} sleeps until t=${e.until}`;
    case 'task.wake': return `${task(e.pid)} wakes`;
    case 'task.exit': return `${task(e.pid)} exits`;
    case 'kernel.oops': return `Oops: ${e.message}${e.addr === null || e.addr === undefined ? '' : ` at ${sym(e.addr)}`}`;
    default: return e.type.startsWith('kernel.') ? e.type : null;
  }
}

function cpus(waiting: unknown): string {
  const w = waiting as number[];
  return w.length === 0 ? 'no CPU' : w.map((c) => `cpu${c}`).join(', ');
}

/** What a CPU is in the middle of after `e` (null: nothing worth saying), or undefined: unchanged. */
function during(e: Ev, sym: (a: unknown) => string): string | null | undefined {
  switch (e.type) {
    case 'kprobe.trap': return `at the int3 at ${sym(e.addr)}`;
    case 'handler.enter': return `in ${e.probe}'s ${e.phase}-handler`;
    case 'kprobe.ss': return `single-stepping at ${sym(e.addr)}`;
    case 'handler.exit':
    case 'kprobe.done':
    case 'rcu.gp.end':
    case 'text.sync.end':
      return null;
    case 'rcu.gp.start': return 'in synchronize_rcu';
    case 'text.sync.start': return 'in text_poke_sync';
    case 'kprobe.unregister': return `in unregister_kprobe(${e.probe})`;
    case 'kprobe.unregistered': return null;
    default: return undefined;
  }
}

/** The story of the shrunk run `preemptions` of `spec`, which fails with `failure`. */
export function storyOf(spec: ShrinkSpec, preemptions: readonly Preemption[], failure: Failure): Story {
  const events: Ev[] = [];
  const byIndex = new Map(preemptions.map((p) => [p.at, p.choice]));
  const run = { scenario: spec.scenario, seed: spec.seed, strategy: forcedStrategy('explore', (i) => byIndex.get(i)), stopAtFailure: true, onEvent: (e: LoggedEvent) => events.push(e as Ev) };
  const record = executeRun(spec.mutant === undefined ? run : { ...run, mutant: spec.mutant });
  const symbols = symbolsOf(spec.scenario);
  const sym = (a: unknown) => symbolName(symbols, a);
  // Tasks by their comm as it is at each event: the scenario's tasks, then forks and execs.
  const comms = new Map(initialState(spec.scenario).tasks.map((t) => [t.pid, t.comm]));
  const task = (pid: unknown) => (comms.has(pid as number) ? `${comms.get(pid as number)} (pid ${pid})` : `pid ${pid}`);

  // Each event with the decision whose step emitted it (decision i opens with the i-th sched.pick).
  const told: { decision: number; cpu: number | null; text: string; e: Ev }[] = [];
  // Each decision's label: executeRun labels every decision of a run whose events are taken, as
  // a log's are.
  const decisionLabels: string[] = [];
  let decision = -1;
  let failureIndex = -1;
  for (const e of events) {
    if (e.seq > failure.seq) break;
    if (e.type === 'sched.pick') {
      decision++;
      decisionLabels.push(e.label!);
    }
    if (e.type === 'task.fork') comms.set(e.child as number, e.comm as string);
    if (e.type === 'task.exec') comms.set(e.pid as number, e.comm as string);
    const text = phrase(e, sym, task);
    const cpu = typeof e.cpu === 'number' ? e.cpu : null;
    if (text !== null || e.seq === failure.seq) told.push({ decision, cpu, text: text ?? e.type, e });
    if (e.seq === failure.seq) failureIndex = told.length - 1;
  }
  const line = (t: { cpu: number | null; text: string }) => `${t.cpu === null ? 'kernel' : `cpu${t.cpu}`}: ${t.text}`;

  // What each CPU is in the middle of, just before told[i].
  const stateBefore = (i: number): Map<number, string> => {
    const state = new Map<number, string>();
    for (let j = 0; j < i; j++) {
      const t = told[j]!;
      if (t.cpu === null) continue;
      const d = during(t.e, sym);
      if (d === null) state.delete(t.cpu);
      else if (d !== undefined) state.set(t.cpu, d);
    }
    return state;
  };
  const whileOthers = (i: number, cpu: number | null): string => {
    const others = [...stateBefore(i + 1)].filter(([c]) => c !== cpu).map(([c, s]) => `cpu${c} is ${s}`);
    return others.length === 0 ? '' : ` while ${others.join(' and ')}`;
  };

  const lines: string[] = [];
  const labels: string[] = [];
  let from = 0; // told[from..] not yet printed
  preemptions.forEach((p, k) => {
    const first = told.findIndex((t) => t.decision >= p.at);
    const at = first < 0 ? told.length : first;
    // Before it: each CPU's last visible step (what it was doing when the preemption came).
    const before = new Map<number, number>();
    for (let j = from; j < at; j++) if (told[j]!.cpu !== null) before.set(told[j]!.cpu!, j);
    const shown = [...before.values()].sort((a, b) => a - b);
    if (shown.length > 0 && shown[0]! > from) lines.push('…');
    for (const j of shown) lines.push(line(told[j]!));
    const preempted = record.decisions[p.at - 1]?.cpu;
    labels.push(decisionLabels[p.at]!);
    const instead = preempted !== undefined && preempted !== p.choice.cpu ? ` instead of cpu${preempted}` : p.choice.switch_to !== null ? ` (switch to ${task(p.choice.switch_to)})` : '';
    lines.push(`— preemption ${k + 1} (decision ${p.at}): cpu${p.choice.cpu} runs${instead}${whileOthers(at - 1, p.choice.cpu)}`);
    // After it: its visible steps up to the next preemption or the failure.
    const next = k + 1 < preemptions.length ? told.findIndex((t) => t.decision >= preemptions[k + 1]!.at) : failureIndex;
    const end = next < 0 ? told.length : next;
    const stop = Math.max(at, Math.min(end, at + STEPS_AFTER));
    for (let j = at; j < stop; j++) lines.push(line(told[j]!));
    from = stop;
  });
  if (failureIndex >= 0) {
    if (from < failureIndex) lines.push('…');
    const f = told[failureIndex]!;
    lines.push(`${line(f)}${whileOthers(failureIndex - 1, f.cpu)}`);
  }
  lines.push(`violated: ${failure.message.startsWith(failure.check) ? failure.message : `${failure.check}: ${failure.message}`}`);
  return { lines, labels, depth: preemptions.length };
}
