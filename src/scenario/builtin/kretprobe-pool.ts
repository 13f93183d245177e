import type { Scenario } from '../types.ts';

// A kretprobe whose return handler is slow, with maxactive 2 on four busy CPUs: calls that enter
// while both instances are out find the pool empty and count in rp->nmissed (R73, R74); each
// return handler prints its own call's return value, the pid kernel_clone forked (R76).
export const kretprobePoolScenario: Scenario = {
  name: 'kretprobe-pool',
  description: 'a kretprobe pool running dry: maxactive 2, four CPUs forking, rp->nmissed grows (R73, R74)',
  cpus: 4,
  max_steps: 50_000,
  probes: [
    {
      name: 'rp',
      kind: 'kretprobe',
      symbol: 'kernel_clone',
      maxactive: 2,
      entry: [{ do: 'spin', steps: 3 }],
      handler: [{ do: 'print', text: 'kernel_clone returned {retval} on cpu {cpu}' }, { do: 'spin', steps: 30 }],
    },
  ],
  tasks: [
    {
      comm: 'insmod',
      cpu: 0,
      program: [{ op: 'register_kprobe', probe: 'rp' }, { op: 'sleep', ticks: 2000 }, { op: 'unregister_kprobe', probe: 'rp' }],
    },
    { comm: 'bash', program: [{ op: 'sleep', ticks: 20 }, { op: 'call', fn: 'kernel_clone', times: 4 }] },
    { comm: 'make', program: [{ op: 'sleep', ticks: 20 }, { op: 'call', fn: 'kernel_clone', times: 4 }] },
    { comm: 'sh', program: [{ op: 'sleep', ticks: 20 }, { op: 'call', fn: 'kernel_clone', times: 4 }] },
  ],
};
