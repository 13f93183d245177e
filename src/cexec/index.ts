// Kernel modules written in C, run on the simulated CPUs (issue 11, stage 2). The entry points for
// the rest of kprobesim (the CLI's `run --module`, `kprobesim kunit`, the shell's insmod):
//
//   cModuleSpec(fileName, code, params)  the scenario's module entry for a C module ({name,
//                                         functions: [], source, code, params}); a scenario with it
//                                         in `modules` loads it with the `insmod`/`rmmod` task ops
//   loadModuleSpec(spec, target)          compiles and checks it as the run will (gcc's diagnostics
//                                         in a ModuleLoadError when it does not compile or uses what
//                                         the model cannot run); warnings as text
//   withCModules(scenario, specs)         `run --module`: the modules added, a first task that
//                                         insmods them, starts the workload (the scenario's tasks,
//                                         or defaultWorkload()) as its children, waits for them and
//                                         rmmods the modules
//
// How it runs: ./load.ts lays a module out as text of the kernel image (one instruction per
// lowered C instruction) and data; ./step.ts is the CPU's step of C code (the hook in
// src/kprobes/cpu-step.ts), ./eval.ts the interpreter, ./natives.ts the kernel functions, and
// ./fold.ts what the fold does with the events (src/model/events.ts: c.*, mem.*).

import type { Arch, KernelVersion } from '../kernel/index.ts';
import { atLeast } from '../kernel/index.ts';
import type { ModuleSpec, Scenario, TaskOp, TaskSpec } from '../scenario/types.ts';
import { cModuleName, defaultTarget, loadModule, type BuildTarget, type LoadedModule } from './load.ts';

export { ModuleLoadError, type BuildTarget, type CModuleSource, type LoadedModule } from './load.ts';
export type { CState, MemObj } from './memory.ts';

/** A C module as a scenario's `modules` entry. */
export function cModuleSpec(fileName: string, code: string, params: Readonly<Record<string, string>> = {}): ModuleSpec {
  // The file as given: gcc's diagnostics name it so; kbuild names the module after its base name.
  const source = fileName;
  return { name: cModuleName({ source }), functions: [], source, code, ...(Object.keys(params).length > 0 ? { params: { ...params } } : {}) };
}

/** Compiles and lays out a C module for `target` (throws ModuleLoadError with gcc's text). */
export function loadModuleSpec(spec: ModuleSpec, target: BuildTarget): LoadedModule {
  if (spec.source === undefined || spec.code === undefined) throw new Error('internal: not a C module');
  return loadModule({ source: spec.source, code: spec.code, ...(spec.params ? { params: spec.params } : {}) }, 0, target);
}

export { defaultTarget };

/** The system calls of the default workload on a release and arch. */
function syscalls(arch: Arch, kernel: KernelVersion): { openat: string; read: string } {
  if (arch === 'arm64') return { openat: '__arm64_sys_openat', read: '__arm64_sys_read' };
  return atLeast(kernel, '4.17') ? { openat: '__x64_sys_openat', read: '__x64_sys_read' } : { openat: 'sys_openat', read: 'sys_read' };
}

/** Files the default workload's commands open by absolute path. */
const FILES = ['/etc/passwd', '/etc/hostname', '/etc/os-release', '/proc/version'];

/**
 * The workload of `run --module` without a scenario: two shells, each forking `cat`s that open a
 * file by absolute path (openat with the path in their user memory) and read it, then waiting for
 * them, as `cat /etc/passwd & cat /etc/hostname & wait` does.
 */
export function defaultWorkload(arch: Arch, kernel: KernelVersion): TaskOp[] {
  const sc = syscalls(arch, kernel);
  const cat = (path: string): TaskOp => ({ op: 'fork', comm: 'cat', program: [{ op: 'call', fn: sc.openat, path }, { op: 'call', fn: sc.read }] });
  const shell = (paths: readonly string[]): TaskOp => ({ op: 'fork', comm: 'sh', program: [...paths.map(cat), { op: 'wait_children' }] });
  return [shell(FILES.slice(0, 2)), shell(FILES.slice(2))];
}

/**
 * A scenario with C modules loaded around its workload: a first task, `insmod`, loads them in
 * order (module_init runs), starts the workload as its children (the scenario's tasks, each a
 * child with its program and name; with no tasks, defaultWorkload()), waits for them to exit and
 * unloads the modules in reverse order (module_exit runs). A child is not pinned to a CPU and gets
 * the next pid, as any forked task does.
 */
export function withCModules(s: Scenario, specs: readonly ModuleSpec[]): Scenario {
  const t = defaultTarget(s);
  const names = specs.map((m) => m.name);
  const workload: TaskOp[] = s.tasks.length === 0 ? defaultWorkload(t.arch, t.kernel) : s.tasks.map((task: TaskSpec): TaskOp => ({ op: 'fork', comm: task.comm, program: task.program }));
  const loader: TaskSpec = {
    comm: 'insmod',
    program: [...names.map((module): TaskOp => ({ op: 'insmod', module })), ...workload, { op: 'wait_children' }, ...[...names].reverse().map((module): TaskOp => ({ op: 'rmmod', module }))],
  };
  return { ...s, modules: [...(s.modules ?? []), ...specs], tasks: [loader] };
}
