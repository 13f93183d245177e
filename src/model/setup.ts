import { atLeast, DEFAULT_KERNEL, symbolsWithModules, type Arch, type FunctionSymbol, type SymbolTable } from '../kernel/index.ts';
import { resolveProbe, type Resolution } from '../kprobes/resolve.ts';
import type { HandlerStep, ModuleSpec, ProbeSpec, Scenario, TaskOp } from '../scenario/types.ts';
import { InputError } from '../errors.ts';
import type { HandlerCallback } from '../kprobes/callbacks.ts';
import type { MutantName } from '../kprobes/mutants.ts';
import type { Hex } from './events.ts';
import { toHex } from './hex.ts';
import { cProbeSpecs, cSetupOf, type CSetup } from '../cexec/csetup.ts';
import { defaultTarget, moduleTexts, type CProbe } from '../cexec/load.ts';

// Everything about a run that never changes while it runs: the scenario compiled against the
// kernel image. Actors receive it as input; the fold does not need it.

export interface Setup {
  readonly scenario: Scenario;
  readonly seed: number;
  /** TypeScript handlers a library user gave (steps `{"do":"callback"}`). */
  readonly callbacks?: Readonly<Record<string, HandlerCallback>>;
  readonly symbols: SymbolTable;
  /** Each scenario task's program with `times` unrolled; index = TaskState.prog. */
  readonly programs: readonly (readonly TaskOp[])[];
  readonly probes: ReadonlyMap<string, ProbeSpec>;
  /** Where each probe would be placed, or the errno register_kprobe will return. */
  readonly resolutions: ReadonlyMap<string, Resolution>;
  /** The per-boot key of %p pointer hashing, drawn from the seed. */
  readonly ptrKey: number;
  /** Functions by name, each with the hex address of every instruction (the hot path's lookups). */
  readonly code: ReadonlyMap<string, Code>;
  /** The printk function of this kernel release (`_printk` since v5.15, `printk` before). */
  readonly printk: string;
  /**
   * Before v6.3 (R54, R56): a text-patch sync does not cover a CPU that has trapped but not yet
   * looked its probe up, and a trap whose breakpoint is gone is recovered instead of declined.
   */
  readonly legacyInt3: boolean;
  /**
   * A planted bug (`--mutant`, src/kprobes/mutants.ts): the kernel steps it breaks test this flag,
   * each at one place marked `MUTANT <name>`. Absent: the correct kernel.
   */
  readonly mutant?: MutantName;
  /** What each probe runs in each phase (undefined: no handler for that phase). */
  readonly steps: ReadonlyMap<string, PhaseSteps>;
  /** The run's kernel modules written in C (src/cexec), when it has any. */
  readonly c?: CSetup;
}

/** Internal steps of a kretprobe's entry hook around the user's entry_handler (R73). */
export type RunStep =
  | HandlerStep
  | { readonly do: 'rp_take' }
  | { readonly do: 'rp_hook' }
  /** A C module's handler: the function the probe struct's `field` points at when the hit comes (src/cexec). */
  | { readonly do: 'c_handler'; readonly field: string };

export interface PhaseSteps {
  readonly pre?: readonly RunStep[];
  readonly post?: readonly RunStep[];
  readonly ret?: readonly RunStep[];
}

/**
 * A kprobe runs its pre and post handlers. A kretprobe's entry probe runs the hook instead
 * (take an instance, the entry_handler, replace the return address) and has no post-handler; its
 * return handler runs from the trampoline (R70, R73, R75).
 */
function phaseSteps(p: ProbeSpec, arch: Arch): PhaseSteps {
  // A print step for another architecture is not built, like the other #ifdef branches of a C
  // handler.
  const built = (steps: readonly HandlerStep[] | undefined) => steps?.filter((s) => s.do !== 'print' || s.arch === undefined || s.arch === arch);
  // R82: a jprobe's pre-handler diverts into its handler, which jprobe_return()s; no post-handler.
  if (p.kind === 'jprobe') return { pre: built(p.handler) ?? [] };
  if (p.kind !== 'kretprobe') return { pre: built(p.pre), post: built(p.post) };
  return { pre: [{ do: 'rp_take' }, ...(built(p.entry) ?? []), { do: 'rp_hook' }], ret: built(p.handler) };
}

/** A C module's probe: its handlers are the functions its struct points at when a hit comes. */
function cPhaseSteps(p: CProbe): PhaseSteps {
  if (p.kind === 'kretprobe') return { pre: [{ do: 'rp_take' }, { do: 'c_handler', field: 'entry_handler' }, { do: 'rp_hook' }], ret: [{ do: 'c_handler', field: 'handler' }] };
  return { pre: [{ do: 'c_handler', field: 'pre_handler' }], ...(p.post ? { post: [{ do: 'c_handler', field: 'post_handler' }] } : {}) };
}

/** R71: maxactive <= 0 becomes max(10, 2 × possible CPUs). */
export function defaultMaxactive(p: ProbeSpec, cpus: number): number {
  return p.maxactive !== undefined && p.maxactive > 0 ? p.maxactive : Math.max(10, 2 * cpus);
}

export interface Code {
  readonly fn: FunctionSymbol;
  readonly addrs: readonly Hex[];
}

/** A program for forked children: they go straight to do_exit. */
export const CHILD_PROGRAM: readonly TaskOp[] = [];

/**
 * A program as the CPU runs it: `times` unrolled, and each `fork` compiled into a kernel_clone
 * call whose child program is appended to `programs` (so indices follow the order of appearance).
 */
function compile(program: readonly TaskOp[], programs: (readonly TaskOp[])[], symbols: SymbolTable, c?: CSetup): TaskOp[] {
  const out: TaskOp[] = [];
  for (const op of program) {
    const cm = op.op === 'insmod' || op.op === 'rmmod' ? c?.byName.get(op.module) : undefined;
    if (cm !== undefined && op.op === 'insmod') {
      // A C module: its data is copied in (c_load), module_init's function runs, then do_init_module
      // makes it LIVE, or unloads it if init returned an error (src/cexec).
      out.push(op, { op: 'c_load', module: op.module });
      if (cm.program.init !== undefined) out.push({ op: 'call', fn: `${op.module}:${cm.program.init}` });
      out.push({ op: 'module_live', module: op.module });
      continue;
    }
    if (cm !== undefined && op.op === 'rmmod') {
      // module_exit's function runs, then the module goes (its exit runs before the notifier, as
      // delete_module() calls mod->exit() before MODULE_STATE_GOING's notifier chain).
      if (cm.program.exit !== undefined) out.push({ op: 'c_exit', module: op.module, fn: cm.program.exit });
      out.push(op);
      continue;
    }
    if (op.op === 'fork') {
      const prog = programs.length;
      programs.push([]);
      programs[prog] = compile(op.program, programs, symbols, c);
      out.push({ op: 'call', fn: forkFunction(symbols), exec: { comm: op.comm, prog } });
    } else if (op.op === 'insmod') {
      // load_module() makes the module COMING, do_init_module() calls its init function (the
      // first __init one) and then makes it LIVE (R96).
      const init = symbols.functions().find((f) => f.module === op.module && f.init === true);
      out.push(op);
      if (init) out.push({ op: 'call', fn: `${op.module}:${init.name}` });
      out.push({ op: 'module_live', module: op.module });
    } else if (op.op === 'call' && op.times !== undefined) {
      // One read-only operation stands for each of the `times` calls (programs are only read).
      const once: TaskOp = { op: 'call', fn: op.fn, fault: op.fault };
      for (let i = 0; i < op.times; i++) out.push(once);
    } else {
      out.push(op);
    }
  }
  return out;
}

/** Each scenario task's compiled program at its own index, then the children of `fork`s. */
function compileTasks(tasks: Scenario['tasks'], symbols: SymbolTable, c?: CSetup): (readonly TaskOp[])[] {
  const programs: (readonly TaskOp[])[] = tasks.map(() => []);
  tasks.forEach((t, i) => {
    programs[i] = compile(t.program, programs, symbols, c);
  });
  return programs;
}

/**
 * What a task calls to fork: the arm64 system-call wrapper where the image has one (its stack
 * traces show it), else kernel_clone (v5.10 and later) or _do_fork.
 */
function forkFunction(symbols: SymbolTable): string {
  return symbols.lookup('__arm64_sys_clone')?.name ?? symbols.lookup('kernel_clone')?.name ?? '_do_fork';
}

/** kallsyms of the scenario's kernel release with its modules' text. */
export function symbolsOf(scenario: Scenario): SymbolTable {
  // A C module's text is its functions, one instruction per C instruction (src/cexec).
  const modules = moduleTexts(scenario.modules ?? [], defaultTarget(scenario));
  return symbolsWithModules(scenario.kernel ?? DEFAULT_KERNEL, modules, scenario.arch ?? 'x86_64', scenario.config ?? {});
}

export function createSetup(
  scenario: Scenario,
  seed: number,
  symbols: SymbolTable = symbolsOf(scenario),
): Setup {
  const c = cSetupOf(scenario, symbols);
  // A C module's probes are the run's too; where they go is read from their struct at registration.
  const cProbes = c === undefined ? [] : cProbeSpecs(scenario);
  const probes = [...scenario.probes, ...cProbes];
  const steps = new Map(scenario.probes.map((p) => [p.name, phaseSteps(p, symbols.image.arch)]));
  for (const p of c?.probes.values() ?? []) steps.set(p.name, cPhaseSteps(p));
  return {
    scenario,
    seed,
    symbols,
    programs: compileTasks(scenario.tasks, symbols, c),
    probes: new Map(probes.map((p) => [p.name, p])),
    resolutions: new Map(probes.map((p) => [p.name, resolveProbe(p, symbols)])),
    // A fixed odd multiplier mixes the seed; Math.imul keeps it in 32 bits.
    ptrKey: Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) >>> 0,
    steps,
    printk: symbols.lookup('_printk') !== undefined ? '_printk' : 'printk',
    legacyInt3: !atLeast(scenario.kernel ?? DEFAULT_KERNEL, '6.3'),
    code: sharedCode(symbols),
    ...(c !== undefined ? { c } : {}),
  };
}

/** A Map that refuses changes once built: a code table is shared by every run of the process. */
class SealedMap<K, V> extends Map<K, V> {
  private readonly sealed: boolean;
  constructor(entries: Iterable<readonly [K, V]>) {
    super(entries);
    this.sealed = true;
  }
  override set(key: K, value: V): this {
    if (this.sealed) throw new Error('internal: a shared code table is read-only');
    return super.set(key, value);
  }
  override delete(): boolean {
    throw new Error('internal: a shared code table is read-only');
  }
  override clear(): void {
    throw new Error('internal: a shared code table is read-only');
  }
}

/** Setup.code of each symbol table, built once per table (as tables are once per build). */
const CODE = new WeakMap<SymbolTable, ReadonlyMap<string, Code>>();

function sharedCode(symbols: SymbolTable): ReadonlyMap<string, Code> {
  let code = CODE.get(symbols);
  if (code === undefined) {
    code = new SealedMap(
      symbols.functions().map((fn): [string, Code] => [fn.name, Object.freeze({ fn, addrs: Object.freeze(fn.body.map((insn) => toHex(fn.addr + BigInt(insn.off)))) })]),
    );
    CODE.set(symbols, code);
  }
  return code;
}

/**
 * A shell session's input (events `input.probe`, `input.ops`): a new setup, the old one with the
 * probe or the operations added. Setups never change: the setup in force at any seq is the
 * initial one with the logged inputs before it applied in log order, so a replay that applies
 * the same inputs at the same seqs compiles the same programs. The caller has validated the
 * probe and the operations against the scenario.
 */
export function withProbe(setup: Setup, p: ProbeSpec): Setup {
  return {
    ...setup,
    probes: new Map(setup.probes).set(p.name, p),
    resolutions: new Map(setup.resolutions).set(p.name, resolveProbe(p, setup.symbols)),
    steps: new Map(setup.steps).set(p.name, phaseSteps(p, setup.symbols.image.arch)),
  };
}

/**
 * A shell session's `input.module` (insmod of a module written in C): the setup with the module
 * added to the scenario's modules (its text in the next slot of the module area, src/cexec), its
 * probe structs among the run's probes, and every probe resolved again against the new symbol
 * table (a `MOD:SYM` probe may name it now). Returns the names of the probes it added.
 */
export function withModule(setup: Setup, m: ModuleSpec): { readonly setup: Setup; readonly probes: readonly string[] } {
  const others = (setup.scenario.modules ?? []).filter((x) => x.name !== m.name);
  const scenario: Scenario = { ...setup.scenario, modules: [...others, m] };
  const symbols = symbolsOf(scenario);
  const c = cSetupOf(scenario, symbols)!;
  const cProbes = cProbeSpecs(scenario);
  // Two modules with a probe global of one name are told apart by their module's (mod.kp): a
  // probe the run already knows cannot be renamed mid-run.
  for (const p of setup.c?.probes.values() ?? []) {
    if (p.module !== m.name && !c.probes.has(p.name)) {
      throw new InputError(m.source ?? m.name, `its probe struct ${p.global} has the name of module ${p.module}'s: the session cannot load both`);
    }
  }
  const added = cProbes.filter((p) => !setup.probes.has(p.name));
  const probes = new Map(setup.probes);
  const steps = new Map(setup.steps);
  for (const p of added) probes.set(p.name, p);
  for (const p of c.probes.values()) steps.set(p.name, cPhaseSteps(p));
  return {
    setup: {
      ...setup,
      scenario,
      symbols,
      probes,
      resolutions: new Map([...probes.values()].map((p) => [p.name, resolveProbe(p, symbols)])),
      steps,
      code: sharedCode(symbols),
      c,
    },
    probes: added.map((p) => p.name),
  };
}

export function withOps(setup: Setup, prog: number, ops: readonly TaskOp[]): Setup {
  // Forks in the operations compile into programs appended after the existing ones.
  const programs = [...setup.programs];
  const compiled = compile(ops, programs, setup.symbols, setup.c);
  programs[prog] = [...programs[prog]!, ...compiled];
  return { ...setup, programs };
}

export function programOf(setup: Setup, prog: number): readonly TaskOp[] {
  return prog < 0 ? CHILD_PROGRAM : (setup.programs[prog] ?? CHILD_PROGRAM);
}

export function codeOf(setup: Setup, name: string): Code {
  const code = setup.code.get(name) ?? setup.code.get(setup.symbols.lookup(name)?.name ?? '');
  if (code === undefined) throw new Error(`internal: ${name} is not a function of the image`);
  return code;
}

export function functionOf(setup: Setup, name: string): FunctionSymbol {
  return codeOf(setup, name).fn;
}
