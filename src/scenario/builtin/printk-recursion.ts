import type { Scenario } from '../types.ts';

// A handler that prints goes through _printk, and _printk is itself probed: every such call is a
// hit on a CPU that already runs a kprobe, so it bumps nmissed and runs no handler (R50, R52).
export const printkRecursionScenario: Scenario = {
  name: 'printk-recursion',
  description: 'handlers print through a probed _printk: nmissed grows, handlers never nest (R50, R52)',
  cpus: 2,
  max_steps: 50_000,
  probes: [
    { name: 'kp_printk', symbol: '_printk', pre: [{ do: 'print', text: '_printk hit on cpu {cpu}, nmissed={nmissed}' }] },
    { name: 'kp_read', symbol: 'vfs_read', pre: [{ do: 'print', text: 'vfs_read by {comm}' }] },
  ],
  tasks: [
    {
      comm: 'insmod',
      cpu: 0,
      program: [
        { op: 'register_kprobe', probe: 'kp_printk' },
        { op: 'register_kprobe', probe: 'kp_read' },
        { op: 'printk', text: 'probes planted' },
      ],
    },
    { comm: 'cat', program: [{ op: 'sleep', ticks: 200 }, { op: 'call', fn: 'ksys_read', times: 3 }] },
    { comm: 'logger', program: [{ op: 'sleep', ticks: 200 }, { op: 'printk', text: 'hello from {comm}' }] },
  ],
};
