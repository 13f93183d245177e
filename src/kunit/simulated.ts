// The KunitTarget of a module loaded into a simulated kernel: boot, insmod (module_init), then
// KUnit's calls run the module's functions on the simulated CPUs, each on the KUnit thread
// (`kunit_try_catch`, a task that waits for its next call as a shell waits for its user), with
// its argument in the arch's first argument register, interleaved with everything else. What
// KUnit saw comes back as the call's events (src/cexec/kunit.ts): `kunit.fail`, `kunit.log`,
// `kunit.skip`, `kunit.throw` (an assertion ended the call), and the kernel's own end of the
// thread (an oops: `faulted`; a deadlock or the step limit: `timeout`). A kernel that died with a
// case is booted again for the next one, as each KUnit case starts from a working kernel.

import type { CheckedModule, KunitCheck, KunitSuite } from '../c/index.ts';
import { walkCode } from '../c/walk.ts';
import { checkPlace, decodeCheckValue } from '../cexec/kunit.ts';
import { cModuleSpec } from '../cexec/index.ts';
import { Simulation } from '../actors/simulation.ts';
import type { Arch, KernelVersion } from '../kernel/index.ts';
import type { JsonObject, LoggedEvent } from '../model/events.ts';
import { toHex } from '../model/hex.ts';
import { own } from '../model/own.ts';
import type { Scenario, TaskOp } from '../scenario/types.ts';
import { validateScenario } from '../scenario/validate.ts';
import { randomStrategy } from '../scheduler/strategies.ts';
import type { KunitCall, KunitEvent, KunitTarget, KunitTest } from './run.ts';

export interface KunitKernel {
  readonly arch: Arch;
  readonly kernel: KernelVersion;
  readonly cpus: number;
  readonly seed: number;
}

export type KunitLoad =
  | { readonly ok: true; readonly target: KunitTarget; unload(): void }
  /** insmod failed (module_init returned an error): what the user is told. */
  | { readonly ok: false; readonly message: string };

/** The KUnit thread's name (kunit_try_catch_run() names its kthread so). */
export const KUNIT_COMM = 'kunit_try_catch';
/** Steps one boot of the kernel may take (a case that loops forever times out here). */
const MAX_STEPS = 5_000_000;

/** The compiled checks of the module by where they stand (file:line:col), as `kunit.fail` names them. */
function checksByPlace(module: CheckedModule): Map<string, KunitCheck> {
  const out = new Map<string, KunitCheck>();
  for (const f of module.functions) {
    walkCode(f.code, (e) => {
      if (e.k === 'builtin' && e.kunit !== undefined) {
        const p = checkPlace(e);
        out.set(`${p.file}:${p.line}:${p.col}`, e.kunit);
      }
    });
  }
  return out;
}

/** One boot of the simulated kernel with the module loaded, and its KUnit thread. */
class KunitBoot {
  readonly sim: Simulation;
  readonly pid: number;
  private batch: LoggedEvent[] = [];

  constructor(scenario: Scenario, seed: number) {
    this.sim = new Simulation(scenario, { seed, strategy: randomStrategy(seed), session: true });
    this.sim.events$.subscribe((e) => this.batch.push(e));
    this.pid = this.sim.world.tasks.find((t) => t.comm === KUNIT_COMM)!.pid;
    this.settle();
  }

  get alive(): boolean {
    return this.sim.endReason === null && this.waiting;
  }

  /** The thread is back, waiting for its next call. */
  private get waiting(): boolean {
    const t = this.sim.world.tasks.find((x) => x.pid === this.pid);
    return t !== undefined && t.wait?.on === 'input' && t.frames === null;
  }

  /** The thread performs `ops`; the kernel runs until it waits again (or dies). Their events. */
  perform(ops: readonly TaskOp[]): readonly LoggedEvent[] {
    this.batch = [];
    this.sim.input({ type: 'input.ops', pid: this.pid, ops: ops as unknown as JsonObject[] });
    this.settle();
    return this.batch;
  }

  /** What the thread's last C call returned (its outermost function's value). */
  get ret(): number {
    const v = this.sim.world.c?.rets[this.pid];
    return v === undefined ? 0 : Number(BigInt.asIntN(32, BigInt(v)));
  }

  private settle(): void {
    while (this.sim.step());
    // A run that cannot go on (a deadlock, the step limit) with the thread still busy has lost it.
    if (this.sim.endReason === null && !this.waiting) this.sim.finish();
  }
}

/**
 * Boots a kernel with the module (its source as given), insmods it and hands KUnit a target that
 * runs the module's functions there. The module's init failing is what insmod would report.
 */
export function loadForKunit(module: CheckedModule, source: string, k: KunitKernel): KunitLoad {
  const spec = cModuleSpec(module.fileName, source);
  const scenario = validateScenario({
    name: `kunit-${module.name}`,
    description: `KUnit suites of ${module.fileName}`,
    kernel: k.kernel,
    ...(k.arch === 'x86_64' ? {} : { arch: k.arch }),
    cpus: k.cpus,
    max_steps: MAX_STEPS,
    probes: [],
    modules: [spec],
    tasks: [{ comm: KUNIT_COMM, interactive: true, program: [{ op: 'insmod', module: spec.name }] }],
  });
  const checks = checksByPlace(module);
  let boots = 0;
  const boot = (): KunitBoot => new KunitBoot(scenario, k.seed + boots++);
  let kernel = boot();
  const live = (b: KunitBoot): boolean => own(b.sim.world.kprobes.modules, spec.name) === true;
  if (!live(kernel)) {
    const reason = kernel.sim.endReason !== null ? 'the kernel died while its init ran' : `its init returned ${kernel.ret}`;
    return { ok: false, message: `insmod: can't insert '${module.fileName}': ${reason}` };
  }
  const mod = scenario.modules![0]!.name;
  const suiteAddr = (s: KunitSuite): bigint => {
    const g = kernel.sim.setup.c?.byName.get(mod)?.globals.get(s.global);
    if (g === undefined) throw new Error(`internal: no global ${s.global} for suite ${s.name}`);
    return g.addr;
  };

  /** `fn(arg)` on the KUnit thread; a kernel that died with an earlier call is booted again first. */
  const call = (fn: string, arg: () => bigint): KunitCall => {
    if (!kernel.alive) kernel = boot();
    const events = kernel.perform([{ op: 'call', fn: `${mod}:${fn}`, args: [toHex(arg())] }]);
    const seen: KunitEvent[] = [];
    let thrown = false;
    for (const e of events) {
      if (!('pid' in e) || e.pid !== kernel.pid) continue;
      if (e.type === 'kunit.fail') {
        const check = checks.get(`${e.file}:${e.line}:${e.col}`);
        if (check === undefined) throw new Error(`internal: no KUnit check at ${e.file}:${e.line}:${e.col}`);
        seen.push({ kind: 'check-failed', check, values: e.values.map(decodeCheckValue), message: e.message });
      } else if (e.type === 'kunit.log') seen.push({ kind: 'log', text: e.text });
      else if (e.type === 'kunit.skip') seen.push({ kind: 'skip', reason: e.reason });
      else if (e.type === 'kunit.throw') thrown = true;
    }
    const end: KunitCall['end'] = thrown ? 'aborted' : kernel.alive ? 'returned' : kernel.sim.world.halted !== null ? 'faulted' : 'timeout';
    return { events: seen, ret: end === 'returned' ? kernel.ret : 0, end };
  };

  const newTest = (_suite: KunitSuite, caseName: string): KunitTest => {
    // kunit_init_test() in the kernel the case runs on (again after a boot).
    let at: { kernel: KunitBoot; test: bigint } | null = null;
    const test = (): bigint => {
      if (at !== null && at.kernel === kernel) return at.test;
      const init = kernel.perform([{ op: 'kunit_test', name: caseName }]).find((e) => e.type === 'kunit.init');
      if (init === undefined || init.type !== 'kunit.init') throw new Error('internal: kunit_init_test() made no struct kunit');
      at = { kernel, test: BigInt(init.test) };
      return at.test;
    };
    return { call: (fn) => call(fn, test) };
  };

  return {
    ok: true,
    target: { callSuite: (fn, suite) => call(fn, () => suiteAddr(suite)), newTest },
    unload: () => {
      if (kernel.alive) kernel.perform([{ op: 'rmmod', module: mod }]);
      if (kernel.sim.endReason === null) kernel.sim.finish();
    },
  };
}
