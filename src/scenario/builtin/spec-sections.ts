import type { Scenario } from '../types.ts';

// One small scenario per section of the spec, each showing that section's central behaviour.
// Their promised outcomes are asserted in test/builtin-scenarios.test.ts.

/** §1.3: two probes at one address: newest first; a miss counts on every child (R9, R12). */
export const aggregateScenario: Scenario = {
  name: 'aggregate',
  description: 'two probes on kernel_clone: handlers run newest first, a miss counts on both (§1.3: R8, R9, R12)',
  cpus: 2,
  max_steps: 20_000,
  probes: [
    { name: 'first', symbol: 'kernel_clone', pre: [{ do: 'print', text: 'first: pre' }] },
    { name: 'second', symbol: 'kernel_clone', pre: [{ do: 'print', text: 'second: pre' }] },
    // Its handler forks, so kernel_clone is hit while a kprobe runs: a miss for both children.
    { name: 'forker', symbol: 'vfs_read', pre: [{ do: 'call', fn: 'kernel_clone' }] },
  ],
  tasks: [
    {
      comm: 'insmod',
      cpu: 0,
      program: [
        { op: 'register_kprobe', probe: 'first' },
        { op: 'register_kprobe', probe: 'second' },
        { op: 'register_kprobe', probe: 'forker' },
      ],
    },
    { comm: 'bash', cpu: 1, program: [{ op: 'sleep', ticks: 80 }, { op: 'call', fn: 'kernel_clone' }, { op: 'call', fn: 'ksys_read' }] },
  ],
};

/** §2: two modules registering and unregistering at once: kprobe_mutex serializes them (R16). */
export const mutexScenario: Scenario = {
  name: 'mutex-contention',
  description: 'two tasks register and unregister at once: kprobe_mutex serializes every critical section (§2: R16)',
  cpus: 2,
  max_steps: 20_000,
  probes: [
    { name: 'a', symbol: 'vfs_read' },
    { name: 'b', symbol: 'dput' },
  ],
  tasks: [
    { comm: 'insmod_a', cpu: 0, program: [{ op: 'register_kprobe', probe: 'a' }, { op: 'unregister_kprobe', probe: 'a' }] },
    { comm: 'insmod_b', cpu: 1, program: [{ op: 'register_kprobe', probe: 'b' }, { op: 'unregister_kprobe', probe: 'b' }] },
  ],
};

/** §3: what register_kprobe refuses, with the kernel's errno for each. */
export const registrationErrorsScenario: Scenario = {
  name: 'registration-errors',
  description: 'register_kprobe refusals: blacklist -EINVAL, mid-instruction -EILSEQ, no symbol -ENOENT, twice -EINVAL (§3)',
  cpus: 1,
  max_steps: 5_000,
  probes: [
    { name: 'blacklisted', symbol: 'get_kprobe' },
    { name: 'mid_insn', symbol: 'kernel_clone', offset: 2 },
    { name: 'padding', symbol: 'kernel_clone', offset: 0x2f },
    { name: 'ok', symbol: 'vfs_read' },
  ],
  tasks: [
    {
      comm: 'insmod',
      program: [
        { op: 'register_kprobe', probe: 'blacklisted' },
        { op: 'register_kprobe', probe: 'mid_insn' },
        { op: 'register_kprobe', probe: 'padding' },
        { op: 'register_kprobe', probe: 'ok' },
        { op: 'register_kprobe', probe: 'ok' },
      ],
    },
  ],
};

/** §4: register disabled, enable, disable: handlers run only in between (R29, R34, R35). */
export const enableDisableScenario: Scenario = {
  name: 'enable-disable',
  description: 'a probe registered disabled, enabled, then disabled: it hits only in between (§4: R29, R34, R35)',
  cpus: 2,
  max_steps: 20_000,
  probes: [{ name: 'kp', symbol: 'vfs_read', disabled: true, pre: [{ do: 'print', text: 'vfs_read by {comm}' }] }],
  tasks: [
    {
      comm: 'ctl',
      cpu: 0,
      program: [
        { op: 'register_kprobe', probe: 'kp' },
        { op: 'sleep', ticks: 200 },
        { op: 'enable_kprobe', probe: 'kp' },
        { op: 'sleep', ticks: 400 },
        { op: 'disable_kprobe', probe: 'kp' },
      ],
    },
    { comm: 'cat', cpu: 1, program: [{ op: 'call', fn: 'ksys_read', times: 40 }] },
  ],
};

/** §5: echo 0 > /sys/kernel/debug/kprobes/enabled, then 1 (R42). */
export const globalSwitchScenario: Scenario = {
  name: 'global-switch',
  description: 'kprobes/enabled written 0 then 1 while a shell forks: no hits in between (§5: R42)',
  cpus: 2,
  max_steps: 30_000,
  probes: [{ name: 'kp', symbol: 'kernel_clone', pre: [{ do: 'spin', steps: 1 }] }],
  tasks: [
    {
      comm: 'sh',
      cpu: 0,
      program: [
        { op: 'register_kprobe', probe: 'kp' },
        { op: 'sleep', ticks: 150 },
        { op: 'kprobes_enabled', value: false },
        { op: 'sleep', ticks: 300 },
        { op: 'kprobes_enabled', value: true },
      ],
    },
    { comm: 'bash', cpu: 1, program: [{ op: 'call', fn: 'kernel_clone', times: 20 }] },
  ],
};

/** §6.3: lib/tests/test_kprobes.c test_kprobe_missed (R52). */
export const kunitMissedScenario: Scenario = {
  name: 'kunit-missed',
  description: "KUnit's test_kprobe_missed: handlers that call the probed function give nmissed == 2 (§6: R50, R52)",
  cpus: 1,
  max_steps: 5_000,
  probes: [{ name: 'kp', symbol: 'dput', pre: [{ do: 'call', fn: 'dput' }], post: [{ do: 'call', fn: 'dput' }] }],
  tasks: [{ comm: 'kunit', program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'dput' }, { op: 'unregister_kprobe', probe: 'kp' }] }],
};

/** §7: a handler that sleeps: "BUG: scheduling while atomic", and no switch (R59, R61). */
export const sleepInHandlerScenario: Scenario = {
  name: 'sleep-in-handler',
  description: 'a handler that may sleep: "BUG: scheduling while atomic", the CPU is not switched (§7: R59, R61)',
  cpus: 1,
  max_steps: 5_000,
  probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'sleep' }] }],
  tasks: [
    { comm: 'cat', pid: 700, program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'ksys_read' }] },
    { comm: 'sh', program: [{ op: 'call', fn: 'dput', times: 5 }] },
  ],
};

/** §13: a probe in a module's text survives the module's unload as GONE (R95, R97). */
export const moduleUnloadScenario: Scenario = {
  name: 'module-unload',
  description: "rmmod while a probe sits in the module's text: the probe becomes GONE, stays registered (§13: R95, R97)",
  cpus: 1,
  max_steps: 5_000,
  modules: [{ name: 'test_mod', functions: [{ name: 'mod_work', calls: ['kfree'], ret: 7 }] }],
  probes: [{ name: 'kp', symbol: 'test_mod:mod_work', pre: [{ do: 'print', text: 'mod_work called by {comm}' }] }],
  tasks: [
    {
      comm: 'insmod',
      program: [
        { op: 'insmod', module: 'test_mod' },
        { op: 'register_kprobe', probe: 'kp' },
        { op: 'call', fn: 'test_mod:mod_work', times: 2 },
        { op: 'rmmod', module: 'test_mod' },
        { op: 'enable_kprobe', probe: 'kp' },
        { op: 'unregister_kprobe', probe: 'kp' },
      ],
    },
  ],
};

export const moduleInitScenario: Scenario = {
  name: 'module-init',
  description: "a probe on a module's __init code, registered while insmod runs the init: it fires, then turns GONE once the module is live; rmmod meanwhile is refused (§13: R96, R25.4, R31)",
  cpus: 2,
  max_steps: 20_000,
  modules: [
    {
      name: 'slow_mod',
      functions: [
        // module_init(slow_init): a long init whose last call is into the probed __init helper.
        { name: 'slow_init', init: true, calls: [...Array.from({ length: 15 }, () => 'kfree'), 'slow_mid'] },
        { name: 'slow_mid', init: true, calls: [...Array.from({ length: 15 }, () => 'kfree'), 'slow_setup'] },
        { name: 'slow_setup', init: true, ret: 0 },
        { name: 'slow_work', calls: ['kfree'], ret: 1 },
      ],
    },
  ],
  probes: [{ name: 'init_probe', symbol: 'slow_mod:slow_setup', pre: [{ do: 'print', text: 'slow_setup ran in {comm}: the init is probed' }] }],
  tasks: [
    { comm: 'insmod', cpu: 0, program: [{ op: 'insmod', module: 'slow_mod' }, { op: 'call', fn: 'slow_mod:slow_work' }] },
    {
      comm: 'tracer',
      cpu: 1,
      program: [
        // As soon as the module's symbols are there, probe its init code, and try to unload it.
        { op: 'sleep', ticks: 3 },
        { op: 'register_kprobe', probe: 'init_probe' },
        { op: 'rmmod', module: 'slow_mod' },
        { op: 'sleep', ticks: 2_000 },
        { op: 'rmmod', module: 'slow_mod' },
        { op: 'unregister_kprobe', probe: 'init_probe' },
      ],
    },
  ],
};

export const ssFaultScenario: Scenario = {
  name: 'ss-fault',
  description: 'the instruction a kprobe single-steps takes a page fault: current_kprobe is reset, the page is mapped, the probe hits again; no nmissed (§6.5: R57)',
  cpus: 1,
  max_steps: 5_000,
  probes: [
    {
      name: 'kp',
      symbol: 'vfs_read',
      offset: 4,
      pre: [{ do: 'print', text: 'pre_handler: p->addr = {addr}, hit on cpu {cpu}' }],
      post: [{ do: 'print', text: 'post_handler: p->addr = {addr}' }],
    },
  ],
  tasks: [
    {
      comm: 'cat',
      program: [
        { op: 'register_kprobe', probe: 'kp' },
        // The access at vfs_read+0x4 finds its page not present the first time.
        { op: 'call', fn: 'vfs_read', fault: { at: 4, outcome: 'resolved' } },
        { op: 'unregister_kprobe', probe: 'kp' },
      ],
    },
  ],
};

export const ftraceScenario: Scenario = {
  name: 'ftrace-probes',
  description: 'an IBT kernel with fentry sites: entry probes are ftrace-based, no int3, no single-step; nested calls are a miss or dropped (§12: R24, R90-R93)',
  cpus: 2,
  max_steps: 10_000,
  config: { ftrace: true, ibt: true },
  probes: [
    // vfs_read (+0 means +4 after ENDBR64, the fentry site): ftrace-based; its pre-handler calls
    // getname, whose own ftrace-based probe is then dropped by ftrace's recursion guard.
    { name: 'ft_read', symbol: 'vfs_read', pre: [{ do: 'print', text: 'vfs_read by {comm} on cpu {cpu}' }, { do: 'call', fn: 'getname' }], post: [{ do: 'print', text: 'vfs_read post' }] },
    { name: 'ft_getname', symbol: 'getname', pre: [{ do: 'print', text: 'getname by {comm}' }] },
    // A breakpoint probe past the entry; its handler's call to getname is a miss for ft_getname.
    { name: 'bp_open', symbol: 'do_sys_openat2', offset: 9, pre: [{ do: 'call', fn: 'getname' }] },
  ],
  tasks: [
    { comm: 'insmod', cpu: 0, program: [{ op: 'register_kprobes', probes: ['ft_read', 'ft_getname', 'bp_open'] }] },
    { comm: 'cat', cpu: 1, program: [{ op: 'sleep', ticks: 80 }, { op: 'call', fn: 'ksys_read', times: 2 }, { op: 'call', fn: 'do_sys_open' }] },
  ],
};

export const timerTickScenario: Scenario = {
  name: 'timer-tick',
  description: 'the local timer interrupt runs scheduler_tick on every busy CPU: a probe there fires in hard interrupt context, in whichever task it interrupted (§7: R59, R60)',
  cpus: 2,
  max_steps: 20_000,
  timer: { period: 60 },
  probes: [{ name: 'tick', symbol: 'scheduler_tick', pre: [{ do: 'print', text: 'scheduler_tick on cpu {cpu}, interrupting {comm}' }] }],
  tasks: [
    { comm: 'insmod', cpu: 0, program: [{ op: 'register_kprobe', probe: 'tick' }, { op: 'call', fn: 'ksys_read', times: 12 }, { op: 'unregister_kprobe', probe: 'tick' }] },
    { comm: 'cat', cpu: 1, program: [{ op: 'call', fn: 'ksys_read', times: 12 }] },
  ],
};

export const optprobesScenario: Scenario = {
  name: 'optprobes',
  description: 'an optimized probe: breakpoint and detour while queued, then after 5 jiffies a jump; its pre-handler cannot redirect, a nested call is a miss (§11: R84-R87)',
  cpus: 1,
  max_steps: 20_000,
  config: { optprobes: true },
  probes: [
    { name: 'fast', symbol: 'vfs_read', pre: [{ do: 'print', text: 'vfs_read by {comm}' }, { do: 'return', value: 1 }] },
    // A breakpoint probe (its post-handler keeps it from being optimized) that calls vfs_read.
    { name: 'slow', symbol: 'ksys_write', pre: [{ do: 'call', fn: 'vfs_read' }], post: [] },
  ],
  tasks: [
    {
      comm: 'insmod',
      program: [
        { op: 'register_kprobes', probes: ['fast', 'slow'] },
        { op: 'call', fn: 'ksys_read' },
        { op: 'sleep', ticks: 6_000 },
        { op: 'call', fn: 'ksys_read' },
        { op: 'call', fn: 'ksys_write' },
        { op: 'unregister_kprobes', probes: ['fast', 'slow'] },
      ],
    },
  ],
};

export const optprobesTeardownScenario: Scenario = {
  name: 'optprobes-teardown',
  description: 'an optimized probe unregistered: its jump stays, doing nothing, until the optimizer runs; a DISABLED probe registered meanwhile revives it for good (§11: R87, R68, R15)',
  cpus: 1,
  max_steps: 20_000,
  config: { optprobes: true },
  probes: [
    { name: 'first', symbol: 'vfs_read', pre: [{ do: 'print', text: 'first: vfs_read by {comm}' }] },
    { name: 'late', symbol: 'vfs_read', disabled: true, pre: [{ do: 'print', text: 'late: vfs_read by {comm}' }] },
  ],
  tasks: [
    {
      comm: 'insmod',
      program: [
        { op: 'register_kprobe', probe: 'first' },
        { op: 'sleep', ticks: 6_000 },
        { op: 'call', fn: 'ksys_read' },
        // The unoptimization is queued; the emptied aggregator stays, jumping, doing nothing.
        { op: 'unregister_kprobe', probe: 'first' },
        { op: 'call', fn: 'ksys_read' },
        // Before the optimizer ran: revived, enabled although its only child is DISABLED.
        { op: 'register_kprobe', probe: 'late' },
        { op: 'call', fn: 'ksys_read' },
        { op: 'unregister_kprobe', probe: 'late' },
        { op: 'sleep', ticks: 6_000 },
        { op: 'call', fn: 'ksys_read' },
      ],
    },
  ],
};

export const jprobeScenario: Scenario = {
  name: 'jprobe-4.14',
  description: "the 4.14 kernel's jprobe on _do_fork (samples/kprobes/jprobe_example.c): its handler runs at entry, jprobe_return()s, then _do_fork runs (§10: R82)",
  kernel: '4.14',
  cpus: 2,
  max_steps: 10_000,
  probes: [{ name: 'my_jprobe', kind: 'jprobe', symbol: '_do_fork', handler: [{ do: 'print', text: 'jprobe: clone in {comm}' }] }],
  tasks: [
    { comm: 'insmod', cpu: 0, program: [{ op: 'register_kprobe', probe: 'my_jprobe' }, { op: 'sleep', ticks: 300 }, { op: 'unregister_kprobe', probe: 'my_jprobe' }] },
    { comm: 'sh', cpu: 1, program: [{ op: 'sleep', ticks: 20 }, { op: 'fork', comm: 'ls', program: [] }, { op: 'fork', comm: 'cat', program: [] }] },
  ],
};
