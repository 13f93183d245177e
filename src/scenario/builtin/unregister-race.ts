import type { Scenario } from '../types.ts';

// CPU 1 keeps entering a slow handler while CPU 0 unregisters the probe. unregister_kprobe
// disarms, then cannot finish its text-patch sync until CPU 1 has left the handler (its IPI
// waits for interrupts to come back on, R55), and only returns after a grace period (R65, R67).
export const unregisterRaceScenario: Scenario = {
  name: 'unregister-race',
  description: 'CPU 0 unregisters while CPU 1 is inside the handler: unregister waits for it (R55, R65, R67)',
  cpus: 2,
  max_steps: 50_000,
  probes: [
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
        { op: 'register_kprobe', probe: 'slow' },
        { op: 'sleep', ticks: 300 },
        { op: 'unregister_kprobe', probe: 'slow' },
        { op: 'printk', text: 'unregister_kprobe returned' },
      ],
    },
    { comm: 'reader', cpu: 1, program: [{ op: 'sleep', ticks: 40 }, { op: 'call', fn: 'vfs_read', times: 6 }] },
  ],
};
