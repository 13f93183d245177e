import type { DomainEvent } from '../model/events.ts';
import { findTask } from '../model/queries.ts';
import { codeOf, programOf, type Setup } from '../model/setup.ts';
import type { ApiCall, Frame, KernelState } from '../model/state.ts';
import { own } from '../model/own.ts';

// Modules (spec §13) as kprobes see them: who holds a reference on a module (R31), and what the
// kprobes module notifier does at each state change (R95, R96). An `insmod` is compiled into the
// load (COMING), a call of the module's init function, and the LIVE step (`module_live`).

/** Whether `addr` is in `module`'s text (only its init text with `initOnly`). */
function inModuleText(setup: Setup, addr: string, module: string, initOnly = false): boolean {
  const fn = setup.symbols.containing(BigInt(addr));
  return fn?.kind === 'func' && fn.module === module && (!initOnly || fn.init === true);
}

/** Whether a task's stack has a frame in `module`'s code. */
function runsModuleCode(setup: Setup, frames: Frame | null, module: string): boolean {
  for (let f = frames; f !== null; f = f.up) if (codeOf(setup, f.fn).fn.module === module) return true;
  return false;
}

/**
 * delete_module(): refused while anyone holds a reference on the module (`module.busy`): a
 * registration in its text, from its address check until it returns (R31, the only time kprobes
 * hold one), or a task running its code (a real caller holds one, e.g. through fops->owner); and
 * while the module is still in its init.
 */
export function startRmmod(setup: Setup, w: KernelState, cpu: number, pid: number, module: string): DomainEvent[] {
  const probes = Object.entries(w.kprobes.probes)
    .filter(([, r]) => r.state === 'registering' && r.addr !== null && inModuleText(setup, r.addr, module))
    .map(([name]) => name);
  const users = w.tasks.filter((t) => runsModuleCode(setup, t.frames, module)).map((t) => t.pid);
  // A module still in its init is not live: -EBUSY as well.
  const coming = own(w.kprobes.modules, module) === 'coming';
  if (probes.length > 0 || users.length > 0 || coming) return [{ type: 'module.busy', cpu, pid, module, probes, users }];
  return [{ type: 'module.rmmod', cpu, pid, module }];
}

/** The module call's step under kprobe_mutex (the caller adds the unlock and `module.done`). */
export function moduleNotifier(setup: Setup, w: KernelState, cpu: number, pid: number, fn: ApiCall['fn'], module: string): DomainEvent[] {
  const k = w.kprobes;
  const inModule = (initOnly: boolean) =>
    Object.entries(k.probes)
      .filter(([, r]) => r.state !== 'unregistered' && !r.gone && r.addr !== null && inModuleText(setup, r.addr, module, initOnly))
      .map(([name]) => name);
  if (fn === 'insmod') {
    // Loading a module that is there changes nothing (the kernel says -EEXIST): the init call and
    // LIVE step the insmod compiled to are skipped.
    if (own(k.modules, module) !== undefined) return [{ type: 'module.exists', cpu, pid, module, skip: compiledSteps(setup, w, pid, module) }];
    // Its text is there (kallsyms knows its symbols) and its init runs next, in this task.
    return [{ type: 'module.coming', cpu, pid, module }];
  }
  // R96: once initialised (LIVE), the module's init text is freed: probes there become GONE.
  if (fn === 'module_live') return [{ type: 'module.live', cpu, pid, module, gone: inModule(true) }];
  // rmmod of a module that is not going (not loaded, or still in its init) does nothing.
  if (own(k.modules, module) !== 'going') return [];
  // R95: every probe in the module's text becomes GONE; its breakpoints are left in the memory
  // about to be freed.
  return [{ type: 'module.gone', cpu, pid, module, gone: inModule(false) }];
}

/** How many operations after the task's `insmod` belong to it (up to its `module_live`). */
function compiledSteps(setup: Setup, w: KernelState, pid: number, module: string): number {
  const task = findTask(w, pid)!;
  const program = programOf(setup, task.prog);
  let skip = 0;
  for (let j = task.job + 1; j < program.length; j++) {
    skip++;
    const next = program[j]!;
    if (next.op === 'module_live' && next.module === module) break;
  }
  return skip;
}
