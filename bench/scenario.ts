import type { Scenario } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';

// The benchmark scenario: 4 CPUs, kprobes on hot functions (vfs_read, _printk, kernel_clone,
// copy_process) whose handlers print and spin, and several tasks that call ksys_read,
// kernel_clone and do_sys_openat2 many times. `max_steps` decides the log size; the programs are
// long enough that the run is cut by max_steps (endReason 'limit'), not by the tasks finishing.

export function benchScenario(maxSteps: number): Scenario {
  const raw: Scenario = {
    name: 'bench',
    description: 'benchmark: probes on hot paths, 4 CPUs, tasks reading, forking and opening in loops',
    cpus: 4,
    max_steps: maxSteps,
    probes: [
      {
        name: 'kp_read',
        symbol: 'vfs_read',
        pre: [{ do: 'print', text: 'vfs_read by {comm} on cpu {cpu}' }, { do: 'spin', steps: 3 }],
        post: [{ do: 'spin', steps: 2 }],
      },
      { name: 'kp_printk', symbol: '_printk', pre: [{ do: 'print', text: '_printk hit, nmissed={nmissed}' }] },
      {
        name: 'kp_clone',
        symbol: 'kernel_clone',
        pre: [{ do: 'print', text: '<{symbol}> pre_handler: p->addr = 0x{addr}, ip = {ip}, flags = 0x{flags}' }],
        post: [{ do: 'print', text: '<{symbol}> post_handler: p->addr = 0x{addr}, flags = 0x{flags}' }],
      },
      { name: 'kp_copy', symbol: 'copy_process', pre: [{ do: 'spin', steps: 4 }] },
    ],
    tasks: [
      {
        comm: 'insmod',
        cpu: 0,
        program: [
          { op: 'register_kprobe', probe: 'kp_read' },
          { op: 'register_kprobe', probe: 'kp_printk' },
          { op: 'register_kprobe', probe: 'kp_clone' },
          { op: 'register_kprobe', probe: 'kp_copy' },
          { op: 'printk', text: 'bench probes planted' },
        ],
      },
      { comm: 'cat', program: [{ op: 'call', fn: 'ksys_read', times: 100_000 }] },
      { comm: 'dd', program: [{ op: 'call', fn: 'ksys_read', times: 100_000 }] },
      { comm: 'bash', program: [{ op: 'call', fn: 'kernel_clone', times: 100_000 }] },
      { comm: 'make', program: [{ op: 'call', fn: 'kernel_clone', times: 100_000 }] },
      { comm: 'find', program: [{ op: 'call', fn: 'do_sys_openat2', times: 100_000 }] },
      {
        comm: 'sh',
        program: [
          { op: 'call', fn: 'do_sys_openat2', times: 100_000 },
          { op: 'call', fn: 'ksys_read', times: 100_000 },
          { op: 'call', fn: 'kernel_clone', times: 100_000 },
        ],
      },
    ],
  };
  return validateScenario(raw);
}
