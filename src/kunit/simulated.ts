// The KunitTarget of a module loaded into a simulated kernel: boot, insmod (module_init), then
// KUnit's calls run the module's functions on kthreads on the simulated CPUs; rmmod at the end.

import type { CheckedModule } from '../c/index.ts';
import type { Arch, KernelVersion } from '../kernel/index.ts';
import type { KunitTarget } from './run.ts';

export interface KunitKernel {
  readonly arch: Arch;
  readonly kernel: KernelVersion;
  readonly cpus: number;
  readonly seed: number;
}

export type KunitLoad =
  | { readonly ok: true; readonly target: KunitTarget; unload(): void }
  /** insmod failed (module_init returned an error): what the user is told. */
  | { readonly ok: false; readonly message: string };

export function loadForKunit(_module: CheckedModule, _source: string, _kernel: KunitKernel): KunitLoad {
  return { ok: false, message: 'running module code on the simulated CPUs is not available yet (issue 11: the module executor)' };
}
