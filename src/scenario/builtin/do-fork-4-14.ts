import type { Scenario } from '../types.ts';

// Seed 000's module on the kernel it was written for: a kprobe on `_do_fork` (renamed
// kernel_clone in v5.10) whose pre and post handlers print the seed's `xhl -- func:%s, line:%d`
// lines through printk (not yet _printk on 4.14). Forks on two CPUs hit it.
export const doFork414Scenario: Scenario = {
  name: 'do-fork-4.14',
  description: "seed 000's kprobe on _do_fork, on the 4.14 kernel it was written for",
  kernel: '4.14',
  cpus: 2,
  max_steps: 20_000,
  probes: [
    {
      name: 'kp',
      symbol: '_do_fork',
      pre: [{ do: 'print', text: 'xhl -- func:handler_pre, line:15 ' }],
      post: [{ do: 'print', text: 'xhl -- func:handler_post, line:21 ' }],
      // The seed's handler_fault prints and returns 0; nothing here faults, so it never runs.
      fault_handler: { print: 'xhl -- func:handler_fault, line:27 ', handled: false },
    },
  ],
  tasks: [
    {
      comm: 'insmod',
      program: [
        { op: 'register_kprobe', probe: 'kp' },
        { op: 'printk', text: 'kprobe at {addr:kp} ' },
        { op: 'sleep', ticks: 800 },
        { op: 'unregister_kprobe', probe: 'kp' },
        { op: 'printk', text: 'kprobe at {addr:kp} unregistered' },
      ],
    },
    { comm: 'sh', program: [{ op: 'sleep', ticks: 40 }, { op: 'call', fn: '_do_fork', times: 3 }] },
  ],
};
