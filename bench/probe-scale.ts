// Runs with thousands of probes (issue 10 §4): the cost of a hit and of a registration while many
// probes are registered, as ratios of the same run with 10 probes. In-process runs of generated
// scenarios (the engine with its fold and invariant monitors, no log file); wall time is
// performance.now(), read only here.

import { Simulation } from '../src/actors/simulation.ts';
import { symbolsFor } from '../src/kernel/index.ts';
import { InvariantMonitor } from '../src/monitors/invariants.ts';
import type { ProbeSpec, Scenario, TaskOp } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { strategyByName } from '../src/scheduler/strategies.ts';

/** The function one task calls over and over; its entry holds the probe that is hit. */
export const HOT_FN = 'vfs_read';

/**
 * Every instruction address of the 6.17 x86_64 image a kprobe may sit on, outside the code the
 * hitting task runs (HOT_FN and what it calls, do_exit, the scheduler, printk): probes there are
 * registered but never hit.
 */
export function coldPoints(): string[] {
  const syms = symbolsFor('6.17');
  const hot = new Set<string>();
  const visit = (name: string): void => {
    if (hot.has(name)) return;
    hot.add(name);
    const f = syms.lookup(name);
    if (f?.kind === 'func') for (const i of f.body) if (i.op.k === 'call') visit(i.op.fn);
  };
  for (const root of [HOT_FN, 'do_exit', 'schedule', '_printk']) visit(root);
  const points: string[] = [];
  for (const f of syms.functions()) {
    if (syms.isBlacklisted(f) || f.module !== undefined || hot.has(f.name)) continue;
    for (const i of f.body) points.push(`0x${(f.addr + BigInt(i.off)).toString(16)}`);
  }
  return points;
}

/**
 * N probes: `hot` on HOT_FN's entry, the others on the cold points in turn (aggregated once the
 * image runs out of addresses); one task on CPU 0 registers them all (register_kprobes batches of
 * `batch`, or one register_kprobe each when batch is 0), then calls HOT_FN `hits` times.
 */
export function probeScaleScenario(n: number, hits: number, batch = 0): Scenario {
  const points = coldPoints();
  const probes: ProbeSpec[] = [{ name: 'hot', symbol: HOT_FN, pre: [{ do: 'spin', steps: 1 }] }];
  for (let i = 1; i < n; i++) probes.push({ name: `p${i}`, addr: points[(i - 1) % points.length]! });
  const names = probes.map((p) => p.name);
  const program: TaskOp[] = [];
  if (batch > 0) for (let i = 0; i < n; i += batch) program.push({ op: 'register_kprobes', probes: names.slice(i, i + batch) });
  else for (const name of names) program.push({ op: 'register_kprobe', probe: name });
  if (hits > 0) program.push({ op: 'call', fn: HOT_FN, times: hits });
  return validateScenario({
    name: `probe-scale-${n}`,
    description: `${n} probes registered by one task, then ${hits} calls of ${HOT_FN}`,
    cpus: 1,
    max_steps: 100_000_000,
    probes,
    tasks: [{ comm: 'insmod', cpu: 0, program }],
  });
}

export interface ScaleRun {
  readonly probes: number;
  readonly registered: number;
  readonly hits: number;
  readonly events: number;
  /** Wall time from the first kprobe.register to the last kprobe.registered, per registration (µs). */
  readonly usPerRegistration: number;
  /** Wall time from the first hit of `hot` to its last, per hit (µs). */
  readonly usPerHit: number;
  readonly violations: number;
}

/** One in-process run of probeScaleScenario (fold and invariant monitors on, no log). */
export function scaleRun(n: number, hits: number): ScaleRun {
  const scenario = probeScaleScenario(n, hits);
  const monitor = new InvariantMonitor();
  const sim = new Simulation(scenario, { seed: 1, strategy: strategyByName('random', 1), projections: [monitor] });
  let registered = 0;
  let hitCount = 0;
  let events = 0;
  let regStart = 0;
  let regEnd = 0;
  let hitStart = 0;
  let hitEnd = 0;
  sim.events$.subscribe((e) => {
    events++;
    if (e.type === 'kprobe.register' && regStart === 0) regStart = performance.now();
    else if (e.type === 'kprobe.registered') {
      registered++;
      regEnd = performance.now();
    } else if (e.type === 'kprobe.hit' && e.probes.includes('hot')) {
      if (hitCount === 0) hitStart = performance.now();
      hitCount++;
      hitEnd = performance.now();
    }
  });
  sim.run();
  return {
    probes: n,
    registered,
    hits: hitCount,
    events,
    usPerRegistration: ((regEnd - regStart) * 1000) / Math.max(1, registered),
    usPerHit: ((hitEnd - hitStart) * 1000) / Math.max(1, hitCount - 1),
    violations: monitor.violations.length,
  };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};

export interface ProbeScaleReport {
  /** µs per hit of `hot` with 4,095 other probes registered over the same with 9 others. */
  readonly hitRatio: number;
  /** µs per registration with 4,096 probes over the same with 10. */
  readonly registerRatio: number;
  readonly small: { readonly usPerHit: number; readonly usPerRegistration: number };
  readonly large: { readonly usPerHit: number; readonly usPerRegistration: number };
  readonly seconds: number;
}

export const SMALL_N = 10;
export const LARGE_N = 4096;
export const HITS = 2000;
export const ROUNDS = 3;

/**
 * hit_cost_ratio_4096_vs_10 and register_cost_ratio_4096_vs_10: after a warm-up of each size, ROUNDS
 * rounds of one 4,096-probe run and (for registrations, whose 10 take too little time to time
 * alone) 20 10-probe runs, alternating; each figure is the median over the rounds.
 */
export function probeScaleRatios(): ProbeScaleReport {
  const t0 = performance.now();
  // Warm-up, not counted: both sizes once, so that every round runs JIT-compiled code.
  scaleRun(SMALL_N, 500);
  scaleRun(LARGE_N, 500);
  const small: ScaleRun[][] = [];
  const large: ScaleRun[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    small.push(Array.from({ length: 20 }, (_, i) => scaleRun(SMALL_N, i === 0 ? HITS : 1)));
    large.push(scaleRun(LARGE_N, HITS));
  }
  for (const r of [...small.flat(), ...large]) {
    if (r.violations > 0 || r.registered !== r.probes) throw new Error(`probe-scale run of ${r.probes} probes: ${r.registered} registered, ${r.violations} invariant violations`);
  }
  const smallHit = median(small.map((runs) => runs[0]!.usPerHit));
  // Registrations of the 20 small runs together: total time over total registrations.
  const smallReg = median(small.map((runs) => runs.reduce((t, r) => t + r.usPerRegistration * r.registered, 0) / runs.reduce((n, r) => n + r.registered, 0)));
  const largeHit = median(large.map((r) => r.usPerHit));
  const largeReg = median(large.map((r) => r.usPerRegistration));
  return {
    hitRatio: largeHit / smallHit,
    registerRatio: largeReg / smallReg,
    small: { usPerHit: smallHit, usPerRegistration: smallReg },
    large: { usPerHit: largeHit, usPerRegistration: largeReg },
    seconds: (performance.now() - t0) / 1000,
  };
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const r = probeScaleRatios();
  process.stdout.write(`hit_cost_ratio_4096_vs_10: ${r.hitRatio.toFixed(3)} x\n`);
  process.stdout.write(`register_cost_ratio_4096_vs_10: ${r.registerRatio.toFixed(3)} x\n`);
  process.stdout.write(`# ${JSON.stringify(r)}\n`);
}
