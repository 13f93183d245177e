import { Errno } from '../errno.ts';
import { atLeast, DEFAULT_KERNEL, type Arch, type BuildConfig, type KernelVersion } from '../kernel/index.ts';
import { entryOffset } from '../kprobes/resolve.ts';
import { symbolsOf } from '../model/setup.ts';
import type { LoggedEvent } from '../model/events.ts';
import type { ModuleSpec, ProbeSpec, TaskOp } from '../scenario/types.ts';
import { cModuleSpec, loadModuleSpec, ModuleLoadError } from '../cexec/index.ts';
import { InputError } from '../errors.ts';
import type { ChildStep, ChildTask, CommandResult, KernelBackend, KernelCommandInfo, KprobesFileName, ModuleLoadRequest, ModuleLoadResult, TraceRecord } from '../shell/backend.ts';
import { compileModule, formatDiagnostics } from '../c/index.ts';
import type { FetchNode, ParseContext, ProbeDefinition } from '../tracefs/index.ts';
import { ShellKernel, sessionScenario } from './shell-kernel.ts';
import { TraceRecords } from './trace-records.ts';
import type { Projection } from '../views/folder.ts';
import { kprobesBlacklist, kprobesEnabled, kprobesList } from '../views/debugfs.ts';
import { childrenOps, KERNEL_COMMANDS, kernelCommandOps } from './kernel-ops.ts';
import { DmesgView } from '../views/dmesg.ts';
import { own } from '../model/own.ts';

// The `kprobesim shell` backend on the real model: every kprobe_events operation is the shell
// task calling into the kprobe manager (register_kprobe and friends, with kprobe_mutex, the
// breakpoint, the text-patch sync and the grace period), and every kernel command is work the
// shell's children do on the simulated CPUs.

// The one errno table's values; backend calls return them negated, as the kernel does (-ENOENT).
const { ENOENT, EINVAL, ENOEXEC, EAGAIN, EEXIST, EFAULT } = Errno;

/** TAINT_OOT_MODULE: a module built outside the kernel tree (every module a user brings) was loaded. */
const TAINT_OOT_MODULE = 1 << 12;
const PAGE = 4096;

export interface SimBackendOptions {
  readonly cpus: number;
  readonly seed: number;
  readonly kernel?: KernelVersion;
  /** The kernel image's architecture: register names in fetch arguments follow it (§15.6). */
  readonly arch?: Arch;
  /** Build options (x86_64): fentry sites and ftrace-based probes, ENDBR64 entries. */
  readonly config?: BuildConfig;
  readonly onEvent?: (e: LoggedEvent) => void;
  /** More views of the run (the invariant monitors, say). */
  readonly projections?: readonly Projection[];
  /** The trace gets no record of an event past this seq (a trace "as of" a seq of a logged session). */
  readonly traceUpTo?: number;
  /** Label each scheduling decision (`sched.pick`'s label): a session whose log is written. */
  readonly labels?: boolean;
}

export class SimBackend implements KernelBackend {
  readonly arch: Arch;
  readonly cpus: number;
  readonly kernel: KernelVersion;
  readonly parseContext: ParseContext;
  readonly commands: readonly KernelCommandInfo[] = KERNEL_COMMANDS;
  readonly shellKernel: ShellKernel;
  private readonly records: TraceRecords;
  /** The kernel log, and how much of it `dmesg -c` has cleared. */
  private readonly log = new DmesgView();
  private logCleared = 0;
  /** The kernel's taint flags (/proc/sys/kernel/tainted). */
  private taint = 0;
  private readonly config: BuildConfig;
  /** Model probe name of each definition the shell registered. */
  private readonly names = new Map<ProbeDefinition, string>();
  private readonly used = new Set<string>();

  constructor(opts: SimBackendOptions) {
    this.arch = opts.arch ?? 'x86_64';
    const kernel = (this.kernel = opts.kernel ?? DEFAULT_KERNEL);
    this.config = opts.config ?? {};
    const scenario = sessionScenario(opts.cpus, kernel, this.arch, opts.config);
    const symbols = symbolsOf(scenario);
    this.cpus = opts.cpus;
    this.records = new TraceRecords(symbols, kernel, opts.traceUpTo);
    this.shellKernel = new ShellKernel(scenario, { seed: opts.seed, projections: [this.records, this.log, ...(opts.projections ?? [])], ...(opts.onEvent ? { onEvent: opts.onEvent } : {}), labels: opts.labels === true });
    this.parseContext = {
      arch: this.arch,
      // The simulated kernels have no BTF (btf absent); what their parser knows of $arg follows
      // the release: $argN since v4.20, the $arg* screening (and its NOSUP_BTFARG) since v6.5.
      metaArgs: atLeast(kernel, '6.5'),
      argN: atLeast(kernel, '4.20'),
      // The session loads no modules: a `MOD:` prefix always names a module that is not loaded.
      symbolExists: (name, module) => module === undefined && symbols.lookup(name) !== undefined,
      isModuleLoaded: () => false,
      isFunctionEntry: (name, module, offset) => {
        const s = module === null ? symbols.lookup(name) : undefined;
        if (s === undefined || offset >= s.size) return undefined;
        // R24: after ENDBR64 both +0 and +4 are the entry.
        return s.kind === 'func' && (offset === 0 || offset === entryOffset(s));
      },
    };
  }

  private get symbols() {
    return this.shellKernel.sim.setup.symbols;
  }

  registerProbe(probe: ProbeDefinition, options: { readonly enabled: boolean }): number {
    const loc = probe.location;
    // Registration resolves the symbol first (kprobe_lookup_name): -ENOENT changes nothing.
    if (loc.kind === 'symbol' && (loc.module !== null || this.symbols.lookup(loc.symbol) === undefined)) return -ENOENT;
    if (loc.kind === 'symbol' && loc.offset > 0xffff) return -EINVAL;
    // R150 step 10: `@SYM` arguments are resolved at registration.
    for (const a of probe.args) {
      const r = memSymbolErrno(a.fetch, (n) => this.symbols.lookup(n) !== undefined);
      if (r !== 0) return r;
    }
    const name = this.freshName(probe.event);
    const spec: ProbeSpec = {
      name,
      ...(loc.kind === 'symbol' ? { symbol: loc.symbol, offset: loc.offset } : { addr: `0x${loc.address.toString(16)}` }),
      // trace_kprobe's dispatcher records the event: a handler with no steps of its own.
      ...(probe.kind === 'kprobe' ? { pre: [] } : { kind: 'kretprobe' as const, maxactive: probe.maxactive, handler: [] }),
      // R134: an event's probes are registered disabled until the event is enabled.
      ...(options.enabled ? {} : { disabled: true }),
    };
    this.shellKernel.defineProbe(spec);
    const events = this.shellKernel.perform([{ op: 'register_kprobe', probe: name }]);
    const fail = events.find((e) => e.type === 'kprobe.register.fail' && e.probe === name);
    if (fail?.type === 'kprobe.register.fail') return fail.errno;
    if (own(this.shellKernel.state.kprobes.probes, name)?.state !== 'registered') return -EINVAL;
    this.names.set(probe, name);
    this.records.probes.set(name, probe);
    return 0;
  }

  /** A model name for an event's probe: the event name, numbered when it was taken before. */
  private freshName(event: string): string {
    let name = event;
    for (let n = 2; this.used.has(name); n++) name = `${event}_${n}`;
    this.used.add(name);
    return name;
  }

  unregisterProbe(probe: ProbeDefinition): void {
    const name = this.names.get(probe);
    if (name === undefined) return;
    this.shellKernel.perform([{ op: 'unregister_kprobe', probe: name }]);
    this.names.delete(probe);
    this.records.probes.delete(name);
  }

  enableEvent(probes: readonly ProbeDefinition[]): number {
    const done: ProbeDefinition[] = [];
    for (const p of probes) {
      const ret = this.call('enable_kprobe', p);
      if (ret !== 0) {
        this.disableEvent(done);
        return ret;
      }
      done.push(p);
    }
    return 0;
  }

  disableEvent(probes: readonly ProbeDefinition[]): void {
    for (const p of probes) this.call('disable_kprobe', p);
  }

  private call(op: 'enable_kprobe' | 'disable_kprobe', probe: ProbeDefinition): number {
    const name = this.names.get(probe);
    if (name === undefined) return -EINVAL;
    const events = this.shellKernel.perform([{ op, probe: name }]);
    const ret = events.find((e) => e.type === 'kprobe.returned' && e.probe === name);
    return ret?.type === 'kprobe.returned' ? ret.ret : 0;
  }

  nowNs(): bigint {
    return BigInt(this.shellKernel.state.t) * 1000n;
  }

  runCommand(argv: readonly string[]): CommandResult {
    const parsed = kernelCommandOps(argv, (fn) => this.symbols.lookup(fn));
    if ('error' in parsed) return { stdout: '', stderr: parsed.error, status: parsed.status };
    if (this.shellKernel.ended !== null) return { stdout: '', stderr: `${argv[0]}: the kernel has stopped (${this.shellKernel.ended})\n`, status: 1 };
    this.shellKernel.perform(parsed.ops as TaskOp[]);
    return { stdout: '', stderr: '', status: 0 };
  }

  /** The shell forks its programs' children; each does its steps on the simulated CPUs. */
  runChildren(children: readonly ChildTask[]): CommandResult {
    if (this.shellKernel.ended !== null) return { stdout: '', stderr: '', status: 1 };
    this.shellKernel.perform(childrenOps(children, (fn) => this.symbols.lookup(fn)));
    return { stdout: '', stderr: '', status: 0 };
  }

  kernelLog(clear: boolean): readonly string[] {
    const lines = this.log.lines.slice(this.logCleared);
    if (clear) this.logCleared = this.log.lines.length;
    return lines;
  }

  traceRecords(): readonly TraceRecord[] {
    return this.records.drain();
  }

  hits(probe: ProbeDefinition): number {
    const st = this.stats(probe);
    if (st === undefined) return 0;
    // R157: the event's handler runs, entry for kprobes, return for kretprobes.
    return probe.kind === 'kprobe' ? st.pre_calls : st.ret_calls;
  }

  misses(probe: ProbeDefinition): number {
    const name = this.names.get(probe);
    const st = this.stats(probe);
    if (name === undefined || st === undefined) return 0;
    return st.nmissed + (probe.kind === 'kretprobe' ? (own(this.shellKernel.state.kretprobes, name)?.nmissed ?? 0) : 0);
  }

  private stats(probe: ProbeDefinition) {
    const name = this.names.get(probe);
    return name === undefined ? undefined : own(this.shellKernel.state.stats, name);
  }

  symbolize(address: bigint): string | null {
    return this.symbols.format(address) ?? null;
  }

  /** `/proc/kallsyms` of the image, as root: text `T`, data `D`, aliases at their target's address. */
  kallsyms(): string {
    const t = this.symbols;
    return t.image.symbols
      .map((s) => {
        const target = s.kind === 'alias' ? t.lookup(s.target) : s;
        if (target === undefined) return '';
        const module = target.kind === 'func' && target.module !== undefined ? `\t[${target.module}]` : '';
        return `${target.addr.toString(16).padStart(16, '0')} ${target.kind === 'func' ? 'T' : 'D'} ${s.name}${module}\n`;
      })
      .join('');
  }

  /** debugfs kprobes/ (§14), from the kernel state, as `kprobesim debugfs` prints it. */
  kprobesFile(name: KprobesFileName): string {
    const setup = this.shellKernel.sim.setup;
    if (name === 'blacklist') return kprobesBlacklist(setup.symbols);
    if (name === 'enabled') return kprobesEnabled(this.shellKernel.state);
    // The scenario's probes and those the session defined since (kprobe_events lines).
    return kprobesList(this.shellKernel.state, { probes: [...setup.probes.values()] }, setup.symbols);
  }

  /** `echo 0|1 > /sys/kernel/debug/kprobes/enabled`: the shell task writes the switch (R42). */
  setKprobesEnabled(on: boolean): number {
    this.shellKernel.perform([{ op: 'kprobes_enabled', value: on }]);
    return 0;
  }

  /**
   * insmod: the child execs, opens and reads the source, then finit_module(2): the module is built
   * (gcc's diagnostics; one that does not build is -ENOEXEC, as a file that is no module is),
   * kernel/params.c checks the parameters (an unknown one is ignored with a warning, a bad value
   * is -EINVAL), and the module is loaded.
   */
  loadModule(req: ModuleLoadRequest): ModuleLoadResult {
    const steps: ChildStep[] = [{ kind: 'exec' }, { kind: 'open' }, ...(req.source === null ? [] : [{ kind: 'read' as const }])];
    const child = (extra: readonly TaskOp[] = []): readonly LoggedEvent[] => {
      if (this.shellKernel.ended !== null) return [];
      const [fork] = childrenOps([{ comm: 'insmod', steps }], (fn) => this.symbols.lookup(fn));
      const op = fork as Extract<TaskOp, { op: 'fork' }>;
      return this.shellKernel.perform([{ ...op, program: [...op.program, ...extra] }]);
    };
    if (req.source === null) {
      child();
      return { ret: -(req.readErrno ?? ENOENT), diagnostics: '' };
    }
    const params: Record<string, string> = {};
    for (const p of req.params) {
      const eq = p.indexOf('=');
      params[eq < 0 ? p : p.slice(0, eq)] = eq < 0 ? '' : p.slice(eq + 1);
    }
    const built = compileModule(req.source, req.path, { arch: this.arch, kernel: this.kernel, build: this.config, params });
    if (!built.ok) {
      child();
      return { ret: -ENOEXEC, diagnostics: formatDiagnostics(built.diagnostics) };
    }
    const diagnostics = formatDiagnostics(built.warnings);
    // kernel/params.c's messages are the kernel's: printk'd by the loading task.
    const printks = built.paramErrors.map((text): TaskOp => ({ op: 'printk', text }));
    if (built.paramErrors.some((m) => !m.endsWith(' ignored'))) {
      child(printks);
      return { ret: -EINVAL, diagnostics };
    }
    const r = this.insertModule(cModuleSpec(req.path, req.source, params), (extra) => child([...printks, ...extra]));
    if (r.ret === 0) this.taint |= TAINT_OOT_MODULE;
    return { ret: r.ret, diagnostics: diagnostics + (r.refused ?? '') };
  }

  /**
   * The loader's part of finit_module(2) for a module that built: the module joins the run
   * (`input.module`, once per version of its source), then the child's `insmod` loads it:
   * load_module() copies its data in, module_init runs on a CPU, do_init_module() makes it LIVE
   * (src/cexec). `run` performs the child with the loader's operations appended. 0, -EEXIST for a
   * module that is loaded, or what its init returned.
   */
  private insertModule(spec: ModuleSpec, run: (ops: readonly TaskOp[]) => readonly LoggedEvent[]): { readonly ret: number; readonly refused?: string } {
    const name = spec.name;
    if (own(this.shellKernel.state.kprobes.modules, name) === undefined) {
      const known = this.shellKernel.sim.setup.scenario.modules?.find((m) => m.name === name);
      const same = known !== undefined && known.source === spec.source && known.code === spec.code && JSON.stringify(known.params ?? {}) === JSON.stringify(spec.params ?? {});
      if (!same) {
        try {
          // What the model cannot run is told as gcc tells an error (a kernel function it lacks).
          loadModuleSpec(spec, { arch: this.arch, kernel: this.kernel, config: this.config });
          this.shellKernel.defineModule(spec);
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          run([]);
          return { ret: -ENOEXEC, refused: e instanceof ModuleLoadError ? e.diagnostics : `kprobesim: ${e.place}: ${e.what}\n` };
        }
      }
    }
    const events = run([{ op: 'insmod', module: name }]);
    if (events.some((e) => e.type === 'module.exists' && e.module === name)) return { ret: -EEXIST };
    if (own(this.shellKernel.state.kprobes.modules, name) === true) return { ret: 0 };
    // do_init_module(): init's error is finit_module's; a kernel that died with it has none.
    const fork = events.find((e) => e.type === 'task.fork');
    const child = fork?.type === 'task.fork' ? fork.child : undefined;
    const rets = events.filter((e) => e.type === 'c.ret' && e.pid === child && e.ctx === 'task');
    const last = rets[rets.length - 1];
    return { ret: last?.type === 'c.ret' ? Number(BigInt.asIntN(32, BigInt(last.value))) || -EFAULT : -EFAULT };
  }

  /** rmmod: the child execs and calls delete_module(2): -ENOENT for a module that is not loaded, -EAGAIN while it is in use. */
  unloadModule(name: string): number {
    const loaded = own(this.shellKernel.state.kprobes.modules, name) !== undefined;
    if (this.shellKernel.ended !== null) return loaded ? -EAGAIN : -ENOENT;
    const [fork] = childrenOps([{ comm: 'rmmod', steps: [{ kind: 'exec' }] }], (fn) => this.symbols.lookup(fn));
    const op = fork as Extract<TaskOp, { op: 'fork' }>;
    if (!loaded) {
      this.shellKernel.perform([op]);
      return -ENOENT;
    }
    const events = this.shellKernel.perform([{ ...op, program: [...op.program, { op: 'rmmod', module: name }] }]);
    return events.some((e) => e.type === 'module.busy' && e.module === name) ? -EAGAIN : 0;
  }

  /**
   * /proc/modules (kernel/module/procfs.c): `name size refcount - state 0xaddress (O)` per loaded
   * module, the newest first. The size is what the loader laid out, each part in whole pages
   * (CONFIG_STRICT_MODULE_RWX): its text without the init text it freed, its read-only data (a
   * module in C: constants and string literals), its writable data.
   */
  procModules(): string {
    const mods = Object.entries(this.shellKernel.state.kprobes.modules).reverse();
    const pages = (bytes: number): number => Math.ceil(bytes / PAGE) * PAGE;
    return mods
      .map(([name, st]) => {
        const fns = this.symbols.functions().filter((f) => f.module === name);
        const text = fns.filter((f) => f.init !== true || st === 'coming').reduce((n, f) => n + f.size, 0);
        const base = fns.reduce((a, f) => (a === 0n || f.addr < a ? f.addr : a), 0n);
        const data = this.shellKernel.sim.setup.c?.data.get(name);
        // A module without a data layout (a scenario's, text only) has a page of each.
        const size =
          data === undefined
            ? pages(text) + 2 * PAGE
            : pages(text) + pages(data.filter((d) => d.kind === 'rodata').reduce((n, d) => n + d.size, 0)) + pages(data.filter((d) => d.kind === 'data').reduce((n, d) => n + d.size, 0));
        const state = st === 'coming' ? 'Loading' : st === 'going' ? 'Unloading' : 'Live';
        return `${name} ${size} 0 - ${state} 0x${base.toString(16).padStart(16, '0')} (O)\n`;
      })
      .join('');
  }

  /** /proc/sys/kernel/tainted. */
  tainted(): number {
    return this.taint;
  }

  /** The functions with an fentry site (R25.1), or null on a build without them. */
  availableFilterFunctions(): string | null {
    const t = this.symbols;
    if (!t.image.config.ftrace) return null;
    return t
      .functions()
      .filter((f) => f.body.some((i) => i.op.k === 'fentry'))
      .map((f) => `${f.name}\n`)
      .join('');
  }
}

function memSymbolErrno(node: FetchNode, known: (name: string) => boolean): number {
  if (node.kind === 'mem-symbol') return node.symbol === null ? -EINVAL : known(node.symbol) ? 0 : -ENOENT;
  if (node.kind === 'deref') return memSymbolErrno(node.inner, known);
  return 0;
}
