import type { Scenario } from '../types.ts';

// Two probes share vfs_read's breakpoint. CPU 1 keeps entering the slow one's handler while CPU 0
// unregisters it: the other probe keeps the point armed, so no text-patch sync happens (nothing is
// disarmed, R13, R64) and only the grace period waits for CPU 1 to leave the handler before
// unregister_kprobe returns (R65, R67). Without that grace period (the no-grace-period mutant)
// the call returns while CPU 1 is still inside: INV-unregister.
export const unregisterSharedPointScenario: Scenario = {
  name: 'unregister-shared-point',
  description: 'CPU 0 unregisters one of two probes on vfs_read while CPU 1 is in its handler: only the grace period waits (R64, R65, R67)',
  cpus: 2,
  max_steps: 50_000,
  probes: [
    { name: 'keeper', symbol: 'vfs_read', pre: [{ do: 'print', text: 'keeper sees vfs_read on cpu {cpu}' }] },
    {
      name: 'slow',
      symbol: 'vfs_read',
      pre: [{ do: 'print', text: 'slow handler enters on cpu {cpu}' }, { do: 'spin', steps: 400 }],
      post: [{ do: 'print', text: 'slow handler leaves on cpu {cpu}' }],
    },
  ],
  tasks: [
    {
      comm: 'rmmod',
      cpu: 0,
      program: [
        { op: 'register_kprobe', probe: 'keeper' },
        { op: 'register_kprobe', probe: 'slow' },
        { op: 'sleep', ticks: 300 },
        { op: 'unregister_kprobe', probe: 'slow' },
        { op: 'printk', text: 'unregister_kprobe(slow) returned' },
      ],
    },
    { comm: 'reader', cpu: 1, program: [{ op: 'sleep', ticks: 40 }, { op: 'call', fn: 'vfs_read', times: 6 }] },
  ],
};
