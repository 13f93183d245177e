import type { Scenario } from '../types.ts';

// samples/kprobes/kprobe_example.c as the seeds teach it: a module plants a kprobe on
// kernel_clone whose pre and post handlers print the sample's lines for the arch the kernel is
// built for (its #ifdef CONFIG_X86 and CONFIG_ARM64 branches, with their formats: x86 prints
// `ip = %lx`, arm64 `pc = 0x%lx`), shells fork a few times on four CPUs, then the module is
// unloaded.
export const defaultScenario: Scenario = {
  name: 'default',
  description: "the kernel's kprobe_example module on kernel_clone: 4 CPUs, shells forking, then rmmod",
  cpus: 4,
  max_steps: 50_000,
  probes: [
    {
      name: 'kp',
      symbol: 'kernel_clone',
      pre: [
        { do: 'print', arch: 'x86_64', text: '<{symbol}> pre_handler: p->addr = 0x{addr}, ip = {ip}, flags = 0x{flags}' },
        { do: 'print', arch: 'arm64', text: '<{symbol}> pre_handler: p->addr = 0x{addr}, pc = 0x{pc}, pstate = 0x{pstate}' },
      ],
      post: [
        { do: 'print', arch: 'x86_64', text: '<{symbol}> post_handler: p->addr = 0x{addr}, flags = 0x{flags}' },
        { do: 'print', arch: 'arm64', text: '<{symbol}> post_handler: p->addr = 0x{addr}, pstate = 0x{pstate}' },
      ],
    },
  ],
  tasks: [
    {
      comm: 'insmod',
      pid: 571,
      program: [
        { op: 'register_kprobe', probe: 'kp' },
        { op: 'printk', text: 'Planted kprobe at {addr:kp}' },
        { op: 'sleep', ticks: 1000 },
        { op: 'unregister_kprobe', probe: 'kp' },
        { op: 'printk', text: 'kprobe at {addr:kp} unregistered' },
      ],
    },
    { comm: 'bash', pid: 572, program: [{ op: 'sleep', ticks: 60 }, { op: 'call', fn: 'kernel_clone', times: 4 }] },
    { comm: 'bash', pid: 604, program: [{ op: 'sleep', ticks: 90 }, { op: 'call', fn: 'kernel_clone', times: 3 }] },
    {
      comm: 'sh',
      pid: 610,
      program: [
        { op: 'sleep', ticks: 120 },
        { op: 'call', fn: 'kernel_clone' },
        { op: 'call', fn: 'do_sys_openat2' },
        { op: 'call', fn: 'ksys_read' },
        { op: 'call', fn: 'kernel_clone' },
      ],
    },
  ],
};
