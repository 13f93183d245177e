import type { Scenario } from '../types.ts';

// CPU 1 calls kfree in a tight loop while CPU 0 unregisters the probe on it, so a breakpoint
// trap is often in flight (taken, its probe not yet looked up) when the original byte goes back.
// The text-patch sync waits for that CPU (interrupts are off from the trap on, R55) before the
// probe leaves the table, so its lookup still finds the probe (R18). Skip the sync (the
// disarm-without-sync mutant), or let it ignore a trapped CPU on a kernel without the pre-v6.3
// recovery (int3-sync-gap), and the lookup can find nothing: "int3" oops, INV-removed-race.
export const unregisterBusyScenario: Scenario = {
  name: 'unregister-busy',
  description: 'CPU 0 unregisters while CPU 1 traps on a probe in a tight loop: the sync covers traps in flight (R18, R55)',
  cpus: 2,
  max_steps: 50_000,
  probes: [{ name: 'kp', symbol: 'kfree' }],
  tasks: [
    {
      comm: 'rmmod',
      cpu: 0,
      program: [
        { op: 'register_kprobe', probe: 'kp' },
        { op: 'sleep', ticks: 200 },
        { op: 'unregister_kprobe', probe: 'kp' },
        { op: 'printk', text: 'unregister_kprobe(kp) returned' },
      ],
    },
    { comm: 'kworker', cpu: 1, program: [{ op: 'sleep', ticks: 20 }, { op: 'call', fn: 'kfree', times: 60 }] },
  ],
};
