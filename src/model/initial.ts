import type { Scenario } from '../scenario/types.ts';
import type { CpuState, KernelState, TaskState } from './state.ts';
import { unregisteredProbe } from './fold/kprobes.ts';
import { cProbeSpecs } from '../cexec/csetup.ts';
import { isCModule } from '../cexec/load.ts';
import { EMPTY_C } from '../cexec/memory.ts';

/** Pids the scenario does not choose are handed out from here, like a freshly booted system's. */
export const FIRST_PID = 100;

export function initialCpu(id: number): CpuState {
  return {
    id,
    status: 'idle',
    current: null,
    probes: [],
    next: 0,
    prev: null,
    stepped: false,
    trap: null,
    preempt_count: 0,
    irqs_off: false,
    handler: null,
    acked_sync: 0,
    trampoline: null,
    rcu_gp: 0,
    halted: false,
  };
}

/** The state before the first event: every scenario task created and runnable, nothing probed. */
export function initialState(scenario: Scenario): KernelState {
  const taken = new Set(scenario.tasks.flatMap((t) => (t.pid === undefined ? [] : [t.pid])));
  let nextPid = FIRST_PID;
  const tasks: TaskState[] = scenario.tasks.map((spec, prog) => {
    let pid = spec.pid;
    if (pid === undefined) {
      while (taken.has(nextPid)) nextPid++;
      pid = nextPid++;
    }
    return {
      pid,
      comm: spec.comm,
      prog,
      job: 0,
      cpu: null,
      last_cpu: null,
      pinned: spec.cpu ?? null,
      frames: null,
      wait: null,
      child: null,
    };
  });
  const maxPid = tasks.reduce((m, t) => Math.max(m, t.pid), FIRST_PID - 1);
  // The probes of C modules (src/cexec) are the run's too; a run with C modules has their memory.
  const cProbes = cProbeSpecs(scenario);
  const probes = cProbes.length === 0 ? scenario.probes : [...scenario.probes, ...cProbes];
  const withC = (scenario.modules ?? []).some(isCModule);
  return {
    seq: 0,
    t: 0,
    cpus: Array.from({ length: scenario.cpus }, (_, i) => (scenario.timer ? { ...initialCpu(i), next_timer: scenario.timer.period, in_irq: 0, kprobe_irq: 0 } : initialCpu(i))),
    tasks,
    next_pid: maxPid + 1,
    exited: 0,
    sched: { curr: Array.from({ length: scenario.cpus }, () => null), steps: 0, ...(scenario.config?.preempt === false ? { voluntary: true as const } : {}) },
    kprobes: {
      mutex: { owner: null, waiters: [] },
      probes: Object.fromEntries(
        probes.map((p) => [p.name, unregisteredProbe(p.disabled === true)]),
      ),
      table: {},
      calls: {},
      sync: null,
      sync_gen: 0,
      gps: {},
      gp_gen: 0,
      all_disarmed: false,
      batches: {},
      modules: {},
    },
    stats: Object.fromEntries(
      probes.map((p) => [p.name, { hits: 0, nmissed: 0, handled: 0, skipped: 0, pre_calls: 0, post_calls: 0, ret_calls: 0, fault_misses: 0 }]),
    ),
    kretprobes: {},
    printk_lines: 0,
    bugs: 0,
    halted: null,
    ...(withC ? { c: EMPTY_C } : {}),
  };
}
