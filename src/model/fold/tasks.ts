import type { DomainEvent } from '../events.ts';
import type { Frame, TaskState } from '../state.ts';
import type { Draft } from './draft.ts';
import { fail } from './errors.ts';
import { callFrame, retFrame, stepFrame } from './frames.ts';
import { putInstance } from './pools.ts';
import { afterReturn, apiResult, cFrameEffect, throwCall, withResult } from '../../cexec/fold.ts';

// ── tasks (shared: CPUs run them, the scheduler places them, the manager blocks them) ─────

function taskIndex(tasks: readonly TaskState[], pid: number): number {
  for (let i = 0; i < tasks.length; i++) if (tasks[i]!.pid === pid) return i;
  return fail(`no task with pid ${pid}`);
}

function updateTask(tasks: readonly TaskState[], pid: number, f: (t: TaskState) => TaskState): TaskState[] {
  const i = taskIndex(tasks, pid);
  const out = tasks.slice();
  out[i] = f(tasks[i]!);
  return out;
}

/** The task with new frames (per instruction, call and return): a spread, so every field is kept. */
function withFrames(t: TaskState, frames: Frame | null): TaskState {
  return { ...t, frames };
}

/** updateTask with withFrames, for the task t found at index i, without a closure per event. */
function updateFrames(tasks: readonly TaskState[], frames: Frame | null, t: TaskState, i: number): TaskState[] {
  const out = tasks.slice();
  out[i] = withFrames(t, frames);
  return out;
}

function skipJobs(n: number): (t: TaskState) => TaskState {
  return (t) => ({ ...t, job: t.job + n });
}

function finishJob(t: TaskState): TaskState {
  return { ...t, job: t.job + 1 };
}

export function evolveTasks(d: Draft, e: DomainEvent): void {
  const tasks = d.tasks;
  switch (e.type) {
    case 'sched.switch': {
      let out = tasks;
      if (e.prev !== null && out.some((t) => t.pid === e.prev)) out = updateTask(out, e.prev, (t) => ({ ...t, cpu: null }));
      d.tasks = updateTask(out, e.next, (t) => ({ ...t, cpu: e.cpu, last_cpu: e.cpu }));
      return;
    }
    case 'insn.exec': {
      if (e.ctx !== 'task') return;
      const i = taskIndex(tasks, e.pid);
      const t = tasks[i]!;
      d.tasks = updateFrames(tasks, stepFrame(t.frames), t, i);
      return;
    }
    case 'func.call': {
      if (e.ctx !== 'task') return;
      const i = taskIndex(tasks, e.pid);
      const t = tasks[i]!;
      d.tasks = updateFrames(tasks, callFrame(t.frames, e.fn, e.ip !== null), t, i);
      return;
    }
    case 'fault.inject':
      d.tasks = updateTask(tasks, e.pid, (t) => ({ ...t, fault: { addr: e.addr, outcome: e.outcome } }));
      return;
    case 'insn.fault':
      // The fault is taken once; a fixup resumes after the faulting instruction.
      d.tasks = updateTask(tasks, e.pid, ({ fault: _taken, ...t }) => (e.outcome === 'fixup' ? { ...t, frames: stepFrame(t.frames) } : t));
      return;
    case 'irq.enter':
      d.tasks = updateTask(tasks, e.pid, (t) => ({ ...t, frames: { fn: e.fn, pc: 0, up: t.frames, irq: true } }));
      return;
    case 'func.ret':
      if (e.ctx !== 'task') return;
      d.tasks = updateTask(tasks, e.pid, (t) => {
        // The interrupt handler returns to the interrupted code, not to the task's program.
        if (t.frames?.irq) return withFrames(t, retFrame(t.frames, e.fn));
        // A C caller waiting for the call gets its value (src/cexec).
        const frames = afterReturn(retFrame(t.frames, e.fn), e.ret);
        // Returning from the outermost frame completes the program operation that called it.
        return frames === null ? finishJob(withFrames(t, frames)) : withFrames(t, frames);
      });
      return;
    case 'task.fork': {
      const child: TaskState = {
        pid: e.child,
        comm: e.comm,
        prog: -1,
        job: 0,
        cpu: null,
        last_cpu: null,
        pinned: null,
        frames: null,
        wait: null,
        child: null,
      };
      const out = updateTask(tasks, e.pid, (t) => ({ ...t, child: e.child }));
      out.push(child);
      d.tasks = out;
      d.next_pid = Math.max(d.next_pid, e.child + 1);
      return;
    }
    case 'task.exec':
      d.tasks = updateTask(tasks, e.pid, (t) => ({ ...t, comm: e.comm, prog: e.prog }));
      return;
    case 'task.wait_input':
      d.tasks = updateTask(tasks, e.pid, (t) => ({ ...t, wait: { on: 'input' } }));
      return;
    case 'input.ops':
      d.tasks = updateTask(tasks, e.pid, (t) => (t.wait?.on === 'input' ? { ...t, wait: null } : t));
      return;
    case 'task.exit': {
      const i = taskIndex(tasks, e.pid);
      // R78: instances still hooked on the dead task's frames go back without a handler call.
      for (let f = tasks[i]!.frames; f !== null; f = f.up) for (const inst of f.rp ?? []) d.kretprobes = putInstance(d.kretprobes, inst);
      d.tasks = tasks.filter((_, j) => j !== i);
      d.exited += 1;
      return;
    }
    case 'kretprobe.hook':
      d.tasks = updateTask(tasks, e.pid, (t) => {
        if (t.frames === null) return fail(`task ${e.pid} has no frame to hook`);
        return { ...t, frames: { ...t.frames, rp: [...(t.frames.rp ?? []), e.instance] } };
      });
      return;
    case 'kretprobe.return':
      d.tasks = updateTask(tasks, e.pid, (t) => {
        const frames = afterReturn(retFrame(t.frames, e.fn), e.ret);
        return frames === null ? finishJob({ ...t, frames }) : { ...t, frames };
      });
      return;
    case 'task.sleep':
      d.tasks = updateTask(tasks, e.pid, (t) => finishJob({ ...t, wait: { on: 'time', until: e.until } }));
      return;
    case 'kprobe.redirect':
      d.tasks = updateTask(tasks, e.pid, (t) => {
        if (t.frames === null) return fail(`task ${e.pid} has no frame to redirect`);
        return { ...t, frames: { ...t.frames, pc: e.pc } };
      });
      return;
    case 'kprobe.jump':
      // Same stack, new IP: the call goes on at the entry of another function.
      d.tasks = updateTask(tasks, e.pid, (t) => {
        if (t.frames === null) return fail(`task ${e.pid} has no frame to redirect`);
        return { ...t, frames: { ...t.frames, fn: e.fn, pc: 0 } };
      });
      return;
    case 'kprobe.override':
      // Same stack, new IP: the frame now runs the stub's `ret`, with regs->ax set.
      d.tasks = updateTask(tasks, e.pid, (t) => {
        if (t.frames === null) return fail(`task ${e.pid} has no frame to override`);
        return { ...t, frames: { ...t.frames, fn: e.fn, pc: 0, ax: e.ret } };
      });
      return;
    case 'task.wake':
    case 'mutex.lock':
    case 'text.sync.end':
    case 'rcu.gp.end':
      d.tasks = updateTask(tasks, e.pid, (t) => ({ ...t, wait: null }));
      return;
    case 'mutex.wait':
      d.tasks = updateTask(tasks, e.pid, (t) => ({ ...t, wait: { on: 'mutex' } }));
      return;
    case 'text.sync.start':
      d.tasks = updateTask(tasks, e.pid, (t) => ({ ...t, wait: { on: 'sync', sync: e.sync } }));
      return;
    case 'rcu.gp.start':
      d.tasks = updateTask(tasks, e.pid, (t) => ({ ...t, wait: { on: 'gp', gp: e.gp } }));
      return;
    // A module's C code (src/cexec): the task's frames' locals, pc and memo; its sleeps.
    case 'c.frame':
    case 'c.step':
    case 'c.ret':
      if (e.ctx === 'task') d.tasks = updateTask(tasks, e.pid, (t) => withFrames(t, cFrameEffect(t.frames, e)));
      return;
    case 'c.sleep':
      d.tasks = updateTask(tasks, e.pid, (t) => ({ ...t, wait: { on: 'time', until: e.until } }));
      return;
    case 'c.load':
    case 'kunit.init':
      d.tasks = updateTask(tasks, e.pid, finishJob);
      return;
    case 'kunit.throw':
      // KUnit's assertion ended the test thread's call: its frames go (src/cexec/fold.ts).
      throwCall(d, e.pid, (inst) => (d.kretprobes = putInstance(d.kretprobes, inst)));
      return;
    case 'task.wait_children':
      // Children left: wait for them (the task is woken to look again); none: wait(2) returns.
      d.tasks = updateTask(tasks, e.pid, (t) => ((d.c?.kids[e.pid]?.length ?? 0) > 0 ? { ...t, wait: { on: 'children' } } : finishJob(t)));
      return;
    case 'kprobe.registered':
    case 'kprobe.register.fail':
    case 'kprobe.unregistered':
    case 'kprobe.returned': {
      // A call from C code: its value goes to the calling frame; the task's operation goes on.
      const result = apiResult(d, e);
      if (result !== undefined) {
        d.tasks = updateTask(tasks, e.pid, (t) => (t.frames === null ? t : withFrames(t, withResult(t.frames, result))));
        return;
      }
      // Inside a batch the task's operation goes on until kprobe.batch.return.
      if (e.type !== 'kprobe.returned') {
        if (d.kprobes.batches[e.pid] === undefined) d.tasks = updateTask(tasks, e.pid, finishJob);
        return;
      }
      d.tasks = updateTask(tasks, e.pid, finishJob);
      return;
    }
    case 'kprobes.enabled_written':
    case 'kprobes.optimization':
    case 'kprobe.clear':
    case 'ftrace.killed':
    case 'kprobe.batch.return':
    case 'module.noref':
    case 'module.busy':
    case 'module.done':
      d.tasks = updateTask(tasks, e.pid, finishJob);
      return;
    case 'module.exists':
      d.tasks = updateTask(tasks, e.pid, skipJobs(e.skip));
      return;
    default:
      return;
  }
}
