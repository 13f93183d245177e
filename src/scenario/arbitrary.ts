import fc from 'fast-check';
import { BUILTIN_SYMBOLS, DEFAULT_KERNEL, symbolsWithModules, type BuildConfig } from '../kernel/index.ts';
import { OPTIMIZE_DELAY_TICKS } from '../kprobes/optimizer.ts';
import { scenarioFileText } from './format.ts';
import type { HandlerStep, ProbeSpec, Scenario, TaskOp, TaskSpec } from './types.ts';

// A fast-check arbitrary of valid scenarios, exported for users' own property tests. It draws
// small kernels (1 to 4 CPUs, up to 3 probes, up to 4 tasks) whose tasks register, unregister
// and hit probes in random orders, with handlers that print, call probed functions, spin, dump
// the stack or sleep. A failing case shrinks to a small scenario and prints as a scenario file
// (formatCounterexample adds the seed), which `kprobesim run FILE --seed S` runs.

/** Functions a probe may sit on and a task or handler may call (text, not blacklisted, returning). */
export const PROBEABLE_FUNCTIONS: readonly string[] = BUILTIN_SYMBOLS.functions()
  .filter((f) => f.section === 'text' && !BUILTIN_SYMBOLS.isBlacklisted(f) && f.effect === undefined)
  .map((f) => f.name);

/** Functions tasks call as "system calls"; kernel_clone forks, so children appear and exit. */
const TASK_CALLS = ['kernel_clone', 'ksys_read', 'vfs_read', 'do_sys_openat2', '_printk', 'dput', 'kfree', 'vfs_open'];
// Mostly at +0, where the generated kprobes sit, so that the fault often hits a stepped copy (R57).
const callFault = fc.record({
  at: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 4) }),
  outcome: fc.constantFrom('resolved' as const, 'fixup' as const),
});
/** Probe sites: hot functions so that hits, misses and races are frequent. */
const PROBE_SITES = ['kernel_clone', 'copy_process', 'vfs_read', '_printk', 'vprintk_emit', 'do_sys_openat2', 'getname', 'dput', 'update_process_times', 'scheduler_tick'];

export interface ScenarioArbitraryOptions {
  readonly maxCpus?: number;
  readonly maxSteps?: number;
  /** Include handler steps that sleep (a "scheduling while atomic" bug event, R61). */
  readonly sleepingHandlers?: boolean;
}

const handlerStep = (sleeping: boolean): fc.Arbitrary<HandlerStep> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant<HandlerStep>({ do: 'print', text: '{symbol} hit on cpu {cpu} by {comm}' }) },
    { weight: 3, arbitrary: fc.constantFrom(...TASK_CALLS.filter((f) => f !== 'kernel_clone')).map((fn): HandlerStep => ({ do: 'call', fn })) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 40 }).map((steps): HandlerStep => ({ do: 'spin', steps })) },
    { weight: 1, arbitrary: fc.constant<HandlerStep>({ do: 'dump_stack' }) },
    // pt_regs written by one handler and read by a later one of the same hit.
    { weight: 1, arbitrary: fc.constantFrom<HandlerStep>({ do: 'set_reg', reg: 'si', value: 7 }, { do: 'print', text: 'si={reg:si}' }) },
    // A fault with an exception-table fixup: a miss before v5.14 (R58), harmless after.
    { weight: 1, arbitrary: fc.constant<HandlerStep>({ do: 'fault', fixup: true }) },
    { weight: sleeping ? 1 : 0, arbitrary: fc.constant<HandlerStep>({ do: 'sleep' }) },
  );

/** A task operation as drawn: probes are referred to by index, resolved once the probes are known. */
type OpDraft = TaskOp | { readonly op: 'probe_op'; readonly call: 'register_kprobe' | 'unregister_kprobe' | 'enable_kprobe' | 'disable_kprobe'; readonly probe: number } | { readonly op: 'batch'; readonly call: 'register_kprobes' | 'unregister_kprobes'; readonly probes: readonly number[] };

/** The most probes a drawn scenario has (besides those a module or build variant adds). */
const MAX_PROBES = 3;
const PROBE_INDEXES = Array.from({ length: MAX_PROBES }, (_, i) => i);

/**
 * An array whose elements shrink away one by one, wherever they are: fast-check's own array
 * shrinker shortens an array from its front, so once the first element is needed the ones after
 * it stay. Here each element may shrink to "absent" (and now and then is drawn absent, 1 in 20).
 */
const deletable = <T>(arb: fc.Arbitrary<T>, constraints: fc.ArrayConstraints): fc.Arbitrary<T[]> =>
  fc
    .array(fc.oneof({ withCrossShrink: true }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 19, arbitrary: arb }), constraints)
    .map((xs) => xs.filter((x): x is Exclude<typeof x, null> => x !== null));

/** `weightNone` parts of nothing to `weightSome` parts of `arb`, shrinking to nothing. */
const sometimes = <T>(weightNone: number, weightSome: number, arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ withCrossShrink: true }, { weight: weightNone, arbitrary: fc.constant(null) }, { weight: weightSome, arbitrary: arb });

/**
 * Valid scenarios, drawn without `chain` so that they shrink well: probes sit in fixed slots
 * that task operations name by index, tasks and their operations are arrays whose elements can
 * each be deleted, a task can shrink into the first one, and the rarer variants (a module,
 * kernel 5.10, a build option, the timer) are independent fields that shrink to "none". A failing
 * case thus shrinks to one task and the probes it needs.
 * Values are plain JSON (no undefined fields, ordinary prototypes) and print, in a
 * counterexample, as the scenario file that `kprobesim run FILE --seed S` runs.
 */
export function scenarioArbitrary(opts: ScenarioArbitraryOptions = {}): fc.Arbitrary<Scenario> {
  const maxCpus = opts.maxCpus ?? 4;
  const sleeping = opts.sleepingHandlers ?? false;
  const steps = fc.array(handlerStep(sleeping), { maxLength: 3 });
  // A pre-handler (or entry_handler) may also return non-zero: a redirection (R46) or a declined
  // kretprobe call (R73).
  const entrySteps = fc.array(
    fc.oneof({ weight: 9, arbitrary: handlerStep(sleeping) }, { weight: 1, arbitrary: fc.constant<HandlerStep>({ do: 'return', value: 1 }) }),
    { maxLength: 3 },
  );
  const kretprobe: fc.Arbitrary<Omit<ProbeSpec, 'name'>> = fc
    .record({
      symbol: fc.constantFrom(...PROBE_SITES),
      // Mostly tiny pools, so that they run dry (R73); 0 asks for the default (R71).
      maxactive: fc.oneof({ weight: 3, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) }),
      entry: fc.option(entrySteps, { nil: undefined }),
      // Return handlers may change the return value for the handlers after them and the caller.
      handler: fc.option(
        fc.array(
          fc.oneof(
            { weight: 4, arbitrary: handlerStep(false) },
            { weight: 1, arbitrary: fc.integer({ min: -22, max: 22 }).map((value): HandlerStep => ({ do: 'set_retval', value })) },
            // The instance's data[] (R77): written on return, read back by the next call's handlers.
            { weight: 1, arbitrary: fc.constantFrom<HandlerStep>({ do: 'set_data', value: 'now' }, { do: 'print', text: 'took {elapsed} ns, data {data}' }) },
          ),
          { maxLength: 2 },
        ),
        { nil: undefined },
      ),
    })
    .map((p) => ({ kind: 'kretprobe' as const, ...p }));
  const kprobe: fc.Arbitrary<Omit<ProbeSpec, 'name'>> = fc.record({
    symbol: fc.constantFrom(...PROBE_SITES),
    // Now and then the pre-handler ends by injecting an error (override_return, R46) or by
    // sending the call on to another function (jump, R46).
    pre: fc.option(
      fc
        .tuple(entrySteps, fc.nat(9))
        .map(([st, k]): HandlerStep[] => (k === 0 ? [...st, { do: 'override_return', value: -12 }] : k === 1 ? [...st, { do: 'jump', fn: 'kernel_read' }] : [...st])),
      { nil: undefined },
    ),
    post: fc.option(steps, { nil: undefined }),
    // Now and then registered with DISABLED (R29), to be enabled by a task later.
    disabled: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(true as const) }),
  });
  const probe = fc.oneof({ withCrossShrink: true }, { weight: 3, arbitrary: kprobe }, { weight: 1, arbitrary: kretprobe });
  const probeIndex = fc.constantFrom(...PROBE_INDEXES);
  const probeOp = (call: 'register_kprobe' | 'unregister_kprobe' | 'enable_kprobe' | 'disable_kprobe') =>
    probeIndex.map((probe): OpDraft => ({ op: 'probe_op', call, probe }));
  const batchOp = (call: 'register_kprobes' | 'unregister_kprobes') => fc.subarray(PROBE_INDEXES).map((probes): OpDraft => ({ op: 'batch', call, probes }));
  const op: fc.Arbitrary<OpDraft> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('call' as const), fn: fc.constantFrom(...TASK_CALLS) }) },
    // Now and then a call whose instruction at +0, +1 or +4 (ordinary ones in every built-in
    // function) faults once, single-stepped or not (R57).
    { weight: 1, arbitrary: fc.record({ op: fc.constant('call' as const), fn: fc.constantFrom(...TASK_CALLS), fault: callFault }) },
    { weight: 2, arbitrary: probeOp('register_kprobe') },
    { weight: 2, arbitrary: probeOp('unregister_kprobe') },
    { weight: 1, arbitrary: probeOp('enable_kprobe') },
    { weight: 1, arbitrary: probeOp('disable_kprobe') },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('kprobes_enabled' as const), value: fc.boolean() }) },
    { weight: 1, arbitrary: batchOp('register_kprobes') },
    { weight: 1, arbitrary: batchOp('unregister_kprobes') },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('sleep' as const), ticks: fc.integer({ min: 1, max: 60 }) }) },
    { weight: 1, arbitrary: fc.constant<TaskOp>({ op: 'printk', text: 'hello from {comm} on cpu {cpu}' }) },
  );
  const task = fc.record({
    comm: fc.constantFrom('bash', 'sh', 'insmod', 'cat', 'kworker'),
    // Pinned to a CPU (modulo how many there are) or not.
    cpu: fc.option(fc.nat(maxCpus - 1), { nil: undefined }),
    program: deletable(op, { minLength: 1, maxLength: 8 }),
    // Mostly a task of its own. Shrinking moves it into the first task (0: after its program,
    // 1: before it), so a failure that needs two tasks' operations can end as one task.
    placement: fc.integer({ min: 0, max: 19 }).map((n) => (n === 0 ? ('after-first' as const) : n === 1 ? ('before-first' as const) : ('own' as const))),
  });
  // Like a module's init and exit: plant every probe, let the workers run, remove some.
  // (Whether the module reuses its removed probes follows from the pause drawn.) Mostly a task of
  // its own; otherwise (and when shrinking) the first worker's program starts with it.
  const module = fc.record({
    ownTask: fc.integer({ min: 0, max: 3 }).map((n) => n > 0),
    pause: fc.integer({ min: 1, max: 300 }),
    removed: fc.subarray(PROBE_INDEXES),
  });
  return fc
    // The rare variants come first: fast-check shrinks a record's fields in order, so they are
    // dropped while the rest still holds plenty of ways to fail.
    .record({
      // Now and then a loadable module that is probed, called and unloaded (§13).
      moduleProgram: sometimes(3, 1, MODULE_PROGRAMS),
      // Now and then a pre-6.3 kernel (5.10), whose removal race ends differently (R54).
      on510: sometimes(3, 1, fc.constant(true)),
      // Now and then a build with fentry sites (probes at an entry are ftrace-based, §12) and/or
      // ENDBR64 entries (R24), without preemption (R47.2) or with optimized probes (§11).
      build: sometimes(
        3,
        2,
        fc.constantFrom<BuildConfig>({ ftrace: true }, { ftrace: true, ibt: true }, { ibt: true }, { preempt: false }, { ibt: true, preempt: false }, { optprobes: true }, { optprobes: true, preempt: false }),
      ),
      // Now and then the local timer interrupt, whose code runs on any busy CPU (§7).
      timer: sometimes(2, 1, fc.integer({ min: 20, max: 120 })),
      module: sometimes(1, 2, module),
      workers: deletable(task, { minLength: 1, maxLength: 4 }),
      // Probes sit in fixed slots (kp0, kp1, kp2), so deleting one leaves the others' names and
      // the operations on them as they were. The first slot is nearly always filled.
      probes: fc.tuple(
        fc.oneof({ withCrossShrink: true }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 19, arbitrary: probe }),
        ...PROBE_INDEXES.slice(1).map(() => fc.oneof({ withCrossShrink: true }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: probe })),
      ),
      cpus: fc.integer({ min: 1, max: maxCpus }),
    })
    .map((d) => {
      const slots = d.probes.flatMap((p, i) => (p === null ? [] : [i]));
      const names = slots.map((i) => `kp${i}`);
      // An operation names its slot's probe; one on an empty slot, another probe.
      const name = (i: number) => (d.probes[i] !== null ? `kp${i}` : names[i % names.length]!);
      const unique = (idx: readonly number[]) => [...new Set(idx.map(name))];
      // Without probes (every one shrunk away) the operations on probes go too.
      const resolve = (o: OpDraft): TaskOp[] =>
        o.op === 'probe_op' || o.op === 'batch'
          ? names.length === 0
            ? []
            : [o.op === 'probe_op' ? { op: o.call, probe: name(o.probe) } : { op: o.call, probes: unique(o.probes) }]
          : [o];
      // A worker after the first may run as part of the first one, after or before its program.
      const workers: TaskSpec[] = [];
      for (const t of d.workers) {
        const program = t.program.flatMap(resolve);
        const first = workers[0];
        if (first !== undefined && t.placement !== 'own') {
          workers[0] = { ...first, program: t.placement === 'after-first' ? [...first.program, ...program] : [...program, ...first.program] };
        } else workers.push({ comm: t.comm, ...(t.cpu === undefined ? {} : { cpu: t.cpu % d.cpus }), program });
      }
      let s: Scenario = {
        name: 'generated',
        description: 'a scenario drawn by scenarioArbitrary',
        cpus: d.cpus,
        max_steps: opts.maxSteps ?? 3000,
        probes: slots.map((i) => ({ name: `kp${i}`, ...d.probes[i]! })),
        tasks: workers,
      };
      if (d.module !== null) {
        const removed = unique(d.module.removed);
        const task: TaskSpec = {
          comm: 'insmod',
          program: [
            ...names.map((probe): TaskOp => ({ op: 'register_kprobe', probe })),
            { op: 'sleep', ticks: d.module.pause },
            ...removed.map((probe): TaskOp => ({ op: 'unregister_kprobe', probe })),
          ],
        };
        const own = withReuse(task, d.module.pause % 2 === 0 ? removed : [], workers);
        s = { ...s, tasks: d.module.ownTask || workers.length === 0 ? [own, ...workers] : workers.map((w, i) => (i === 0 ? { ...w, program: [...own.program, ...w.program] } : w)) };
      }
      if (d.moduleProgram !== null) s = withModule(s, d.moduleProgram);
      if (d.on510 !== null) s = on510(s);
      if (d.build !== null) s = withBuild(s, d.build);
      if (d.timer !== null) s = { ...s, timer: { period: d.timer } };
      return printable(plain(s));
    });
}

/** The same data as plain JSON: no undefined fields, ordinary prototypes. */
function plain(s: Scenario): Scenario {
  return JSON.parse(JSON.stringify(s)) as Scenario;
}

/** Prints (in a fast-check counterexample) as the scenario file it is. */
function printable(s: Scenario): Scenario {
  Object.defineProperty(s, fc.toStringMethod, { value: () => scenarioFileText(s).trimEnd(), enumerable: false });
  return s;
}

/**
 * The module registers its removed probes once more, clearing each struct first as
 * lib/test_kprobes.c does (R22). Only probes no worker touches: a struct two tasks share is a
 * caller bug, which clear_kprobe on a probe in use reports as an oops.
 */
function withReuse(module: TaskSpec, reuse: readonly string[], workers: readonly TaskSpec[]): TaskSpec {
  const touched = new Set(workers.flatMap((t) => t.program.flatMap((op) => ('probe' in op ? [op.probe] : 'probes' in op ? op.probes : []))));
  const again = reuse.filter((probe) => !touched.has(probe));
  if (again.length === 0) return module;
  return {
    ...module,
    program: [...module.program, ...again.flatMap((probe): TaskOp[] => [{ op: 'clear_kprobe', probe }, { op: 'register_kprobe', probe }])],
  };
}

/** What the module's own task does; probing before insmod fails (R25.2), after rmmod the probe is GONE (R95). */
const MODULE_PROGRAMS: fc.Arbitrary<readonly TaskOp[]> = fc.constantFrom<readonly TaskOp[]>(
  [
    { op: 'insmod', module: 'gen_mod' },
    { op: 'register_kprobe', probe: 'kpm' },
    { op: 'call', fn: 'gen_mod:gen_work', times: 2 },
    { op: 'rmmod', module: 'gen_mod' },
    { op: 'unregister_kprobe', probe: 'kpm' },
  ],
  [
    { op: 'register_kprobe', probe: 'kpm' },
    { op: 'insmod', module: 'gen_mod' },
    { op: 'register_kprobe', probe: 'kpm' },
    { op: 'call', fn: 'gen_mod:gen_work' },
    { op: 'rmmod', module: 'gen_mod' },
    { op: 'enable_kprobe', probe: 'kpm' },
    { op: 'insmod', module: 'gen_mod' },
  ],
);

function withModule(s: Scenario, program: readonly TaskOp[]): Scenario {
  return {
    ...s,
    modules: [{ name: 'gen_mod', functions: [{ name: 'gen_work', calls: ['kfree'], ret: 1 }, { name: 'gen_init', init: true }] }],
    probes: [...s.probes, { name: 'kpm', symbol: 'gen_mod:gen_work', pre: [{ do: 'spin', steps: 2 }] }],
    tasks: [...s.tasks, { comm: 'modprobe', program }],
  };
}

/**
 * The same scenario on another build: injected faults move past the entry's ENDBR64 and fentry
 * site, so they still hit the same ordinary instruction.
 */
function withBuild(s: Scenario, config: BuildConfig): Scenario {
  const symbols = symbolsWithModules(s.kernel ?? DEFAULT_KERNEL, s.modules ?? [], 'x86_64', config);
  const prefix = (fn: string): number => {
    const f = symbols.lookup(fn);
    if (f?.kind !== 'func') return 0;
    const first = f.body.find((i) => i.op.k !== 'fentry' && i.text !== 'endbr64');
    return first?.off ?? 0;
  };
  const move = (op: TaskOp): TaskOp => (op.op === 'call' && op.fault !== undefined ? { ...op, fault: { ...op.fault, at: op.fault.at + prefix(op.fn) } } : op);
  // On an ftrace-based probe a pre-handler returning non-zero without setting the IP resumes
  // inside the 5-byte NOP, an oops every time (R92): keep the runs alive, drop those returns.
  const keep = (steps?: readonly HandlerStep[]) => steps?.filter((st) => !(config.ftrace && st.do === 'return'));
  const probes = s.probes.map((p) => (p.pre === undefined ? p : { ...p, pre: keep(p.pre) }));
  // With optprobes every task pauses after its first operation for longer than the optimizer's
  // delay, so that queued points get their jump while the run goes on (R84).
  const pause = (program: readonly TaskOp[]): TaskOp[] =>
    config.optprobes ? [...program.slice(0, 1), { op: 'sleep', ticks: OPTIMIZE_DELAY_TICKS + 100 }, ...program.slice(1)] : [...program];
  const tasks = s.tasks.map((t) => ({ ...t, program: pause(t.program.map(move)) }));
  if (!config.optprobes) return { ...s, config, probes, tasks };
  // With optprobes, a task of its own walks an optimized point through the optimizer's queues:
  // patched, disabled (unoptimization queued), enabled again (dequeued), unregistered (the
  // aggregator emptied), then a new probe there before the optimizer ran (revived, R15) or after.
  const optProbes: ProbeSpec[] = [
    { name: 'opt_a', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 2 }] },
    { name: 'opt_b', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 1 }], ...(s.probes.length % 2 === 0 ? { disabled: true } : {}) },
  ];
  const gap: TaskOp = { op: 'sleep', ticks: s.probes.length === 1 ? 10 : OPTIMIZE_DELAY_TICKS + 100 };
  const optctl: TaskSpec = {
    comm: 'optctl',
    program: [
      { op: 'register_kprobe', probe: 'opt_a' },
      { op: 'sleep', ticks: OPTIMIZE_DELAY_TICKS + 100 },
      { op: 'call', fn: 'vfs_read' },
      { op: 'disable_kprobe', probe: 'opt_a' },
      { op: 'call', fn: 'vfs_read' },
      { op: 'enable_kprobe', probe: 'opt_a' },
      { op: 'unregister_kprobe', probe: 'opt_a' },
      gap,
      { op: 'register_kprobe', probe: 'opt_b' },
      { op: 'call', fn: 'vfs_read' },
    ],
  };
  return { ...s, config, probes: [...probes, ...optProbes], tasks: [...tasks, optctl] };
}

/** The same scenario on 5.10, where the printk function is still `printk`. */
function on510(s: Scenario): Scenario {
  const fn = (name: string) => (name === '_printk' ? 'printk' : name);
  const steps = (list?: readonly HandlerStep[]) => list?.map((st) => (st.do === 'call' ? { ...st, fn: fn(st.fn) } : st));
  return {
    ...s,
    kernel: '5.10',
    probes: s.probes.map((p) => ({
      ...p,
      symbol: p.symbol && fn(p.symbol),
      ...(p.pre ? { pre: steps(p.pre) } : {}),
      ...(p.post ? { post: steps(p.post) } : {}),
      ...(p.entry ? { entry: steps(p.entry) } : {}),
      ...(p.handler ? { handler: steps(p.handler) } : {}),
    })),
    tasks: s.tasks.map((t) => ({ ...t, program: t.program.map((op) => (op.op === 'call' ? { ...op, fn: fn(op.fn) } : op)) })),
  };
}

/** Seeds for the run's own choices, next to the scenario. */
export const seedArbitrary: fc.Arbitrary<number> = fc.integer({ min: 0, max: 0xffffffff });
