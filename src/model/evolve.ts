import type { LoggedEvent } from './events.ts';
import { evolveCpu } from './fold/cpu.ts';
import { fail } from './fold/errors.ts';
import type { Draft } from './fold/draft.ts';
import { evolveKprobes } from './fold/kprobes.ts';
import { evolvePools } from './fold/pools.ts';
import { evolveSched } from './fold/sched.ts';
import { evolveStats } from './fold/stats.ts';
import { evolveTasks } from './fold/tasks.ts';
import { evolveC } from '../cexec/fold.ts';
import { EMPTY_C } from '../cexec/memory.ts';
import type { CpuState, KernelState } from './state.ts';

// The fold: evolve(state, event) → state. Pure, no XState, no RxJS. Replay, `state --at`, the
// views and the invariant monitors all stand on it. It is made of one reducer per slice
// (src/model/fold/); the actors keep their own slices with the same reducers.

export { FoldError } from './fold/errors.ts';
export { evolveCpu } from './fold/cpu.ts';
export { evolveSched } from './fold/sched.ts';
export { evolveKprobes } from './fold/kprobes.ts';
export { instanceOfCurrentPool, instanceProbe, slotOf } from './fold/pools.ts';

// ── the whole state ────────────────────────────────────────────────────────────────────────

function cpuOf(s: KernelState, e: { cpu: number }): CpuState {
  const c = s.cpus[e.cpu];
  return c ?? fail(`cpu ${e.cpu} does not exist (the run has ${s.cpus.length})`);
}

export function evolve(s: KernelState, e: LoggedEvent): KernelState {
  // log.end is a trailer, not a change: the state it closes is the one its digest fingerprints.
  if (e.type === 'log.end') return s;
  // One fresh object with the state's full shape; slices are replaced, never mutated.
  const d: Draft = {
    seq: e.seq,
    t: e.t,
    cpus: s.cpus,
    tasks: s.tasks,
    next_pid: s.next_pid,
    exited: s.exited,
    sched: s.sched,
    kprobes: s.kprobes,
    stats: s.stats,
    kretprobes: s.kretprobes,
    printk_lines: s.printk_lines,
    bugs: s.bugs,
    halted: s.halted,
  };
  // Added after the literal rather than spread into it: a spread makes every draft a slow copy.
  // It is the last key either way, so the state's key order is the same.
  if (s.ftrace_dead) d.ftrace_dead = true;
  if (s.c !== undefined) d.c = s.c;
  if (e.src === 'sched') {
    d.sched = evolveSched(s.sched, e);
    // Half of a log is sched.pick, and only the scheduler slice reads it: the reducers below
    // would each fall through to their default.
    if (e.type === 'sched.pick') return d;
  } else if (e.src === 'kprobes' || e.src === 'input') {
    d.kprobes = evolveKprobes(s.kprobes, e);
  } else if ('cpu' in e) {
    const before = cpuOf(s, e);
    const after = evolveCpu(before, e);
    if (after !== before) {
      const cpus = s.cpus.slice();
      cpus[e.cpu] = after;
      d.cpus = cpus;
    }
  }
  evolveTasks(d, e);
  evolveStats(d, e);
  evolvePools(d, e);
  // A session's first module in C brings the C state with it (src/cexec).
  if (d.c === undefined && e.type === 'input.module') d.c = EMPTY_C;
  if (d.c !== undefined) evolveC(d, e);
  switch (e.type) {
    case 'printk':
      d.printk_lines += 1;
      break;
    case 'bug.atomic_sleep':
      d.bugs += 1;
      break;
    case 'ftrace.killed':
      d.ftrace_dead = true;
      break;
    case 'kprobe.bug':
    case 'kernel.oops':
      d.bugs += 1;
      d.halted = { cpu: e.cpu, message: e.message };
      break;
    default:
      break;
  }
  return d;
}
