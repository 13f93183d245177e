// A deterministic in-memory KernelBackend for the shell's own tests (test/shell-*.test.ts). Not the
// simulator, which `kprobesim shell` runs on (src/session/sim-backend.ts): the shell's tests check
// the front end alone, byte for byte, against the fixed symbols and register values below and the
// list of backend calls it records, none of which the real kernel model has. A tiny scripted
// kernel with a handful of symbols, one task (`sh`, pid 572, the shell the user types into) and
// two commands:
//
//   run CMD [ARG]...  the shell forks (sh-572 calls kernel_clone on CPU 0), the child (comm CMD,
//                     pid 573, 574, …, on CPU 1 when there are two CPUs) opens a file
//                     (do_sys_openat2) and reads it (vfs_read); a child `sh` forks once more
//                     (kernel_clone called by the child). One `run` takes 1 ms of logical time.
//   tick [N]          advance logical time by N ms (default 1).
//
// Every enabled probe on a called function fires: kprobes at the call, kretprobes at the return,
// with fetch arguments evaluated over fixed register and memory contents (the arm64 values are
// those of seed 003's session: clone_flags=0xffff800012adbdb0, child_tidptr=0xffff800012adbe20).
// Registration checks: blacklisted function (-EINVAL), offset off an instruction boundary
// (-EILSEQ, every 4 bytes is a boundary here), probe on a data symbol (-EINVAL), unknown or
// unloaded `MOD:` (-ENOENT), unresolvable `@SYM` argument (-ENOENT).

import { Errno } from '../../src/errno.ts';
import { simpleContext, type Arch, type ArgType, type FetchNode, type ParseContext, type ProbeDefinition } from '../../src/tracefs/index.ts';
import type { ArgValue, CommandResult, KernelBackend, KernelCommandInfo, TraceRecord } from '../../src/shell/backend.ts';
import { evalArg as evalProbedArg, type ProbedContext } from '../../src/shell/fetch-eval.ts';

export interface FakeSymbol {
  readonly name: string;
  readonly address: bigint;
  readonly size: number;
  readonly kind: 'func' | 'data';
  /** On the kprobe blacklist (registration fails with -EINVAL). */
  readonly blacklisted?: boolean;
}

export interface FakeBackendOptions {
  readonly arch?: Arch;
  /** Online CPUs (1 or more). Default 2. */
  readonly cpus?: number;
  /** Initial logical time in ns. Default 100 s. */
  readonly startNs?: bigint;
}

/** The pid and comm of the shell the session types into. */
export const FAKE_SHELL_PID = 572;
export const FAKE_SHELL_COMM = 'sh';

const MS = 1_000_000n;
const US = 1_000n;

interface ArchData {
  readonly symbols: readonly FakeSymbol[];
  /** Registers holding $arg1, $arg2, … */
  readonly argRegs: readonly string[];
  readonly retReg: string;
  readonly spReg: string;
  /** Where each scripted function returns to (kretprobe RETSITE), as symbol + offset. */
  readonly returnSite: Readonly<Record<string, readonly [string, number]>>;
  readonly stacks: Readonly<Record<string, readonly string[]>>;
  /** Register values at each scripted call (before the pid-dependent ones). */
  readonly regs: Readonly<Record<string, Readonly<Record<string, bigint>>>>;
  /** Kernel memory words (8-byte reads). */
  readonly memory: ReadonlyMap<bigint, bigint>;
  /** Strings readable with `string` (kernel) and `ustring` (user) at an address. */
  readonly kernelStrings: ReadonlyMap<bigint, string>;
  readonly userStrings: ReadonlyMap<bigint, string>;
}

const ARM64: ArchData = {
  symbols: [
    { name: 'kernel_clone', address: 0xffff8000100341a0n, size: 0x450, kind: 'func' },
    { name: '__arm64_sys_clone', address: 0xffff800010034620n, size: 0x80, kind: 'func' },
    { name: 'do_sys_openat2', address: 0xffff8000102dcb40n, size: 0x1f0, kind: 'func' },
    { name: '__arm64_sys_openat', address: 0xffff8000102dcd30n, size: 0xa0, kind: 'func' },
    { name: 'vfs_read', address: 0xffff8000102e0a10n, size: 0x1b0, kind: 'func' },
    { name: 'ksys_read', address: 0xffff8000102e0e60n, size: 0x110, kind: 'func' },
    { name: 'kprobe_breakpoint_handler', address: 0xffff800010020c88n, size: 0x70, kind: 'func', blacklisted: true },
    { name: 'jiffies', address: 0xffff800011c82000n, size: 8, kind: 'data' },
  ],
  argRegs: ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'],
  retReg: 'x0',
  spReg: 'sp',
  returnSite: { kernel_clone: ['__arm64_sys_clone', 0x5c], do_sys_openat2: ['__arm64_sys_openat', 0x6c], vfs_read: ['ksys_read', 0x74] },
  stacks: {
    kernel_clone: ['kernel_clone', '__arm64_sys_clone', 'invoke_syscall.constprop.0', 'do_el0_svc', 'el0_svc', 'el0_sync_handler', 'el0_sync'],
    do_sys_openat2: ['do_sys_openat2', '__arm64_sys_openat', 'invoke_syscall.constprop.0', 'do_el0_svc', 'el0_svc', 'el0_sync_handler', 'el0_sync'],
    vfs_read: ['vfs_read', 'ksys_read', '__arm64_sys_read', 'invoke_syscall.constprop.0', 'do_el0_svc', 'el0_svc', 'el0_sync_handler', 'el0_sync'],
  },
  regs: {
    kernel_clone: { x0: 0xffff800012adbdb0n, x1: 0n, x2: 0n, x3: 0n, sp: 0xffff800012adbd90n, pstate: 0x80000005n },
    do_sys_openat2: { x0: 0xffffff9cn, x1: 0x0000aaaae2b4a010n, x2: 0xffff800012ae3d80n, sp: 0xffff800012ae3d40n, pstate: 0x80000005n },
    vfs_read: { x0: 0xffff0000c1a3e400n, x1: 0x0000ffffd8e0c6a0n, x2: 0x340n, x3: 0xffff800012ae3e50n, sp: 0xffff800012ae3df0n, pstate: 0x80000005n },
  },
  memory: new Map([
    [0xffff800012adbd90n, 0xffff800012adbe20n],
    [0xffff800012adbdb0n, 0x1200011n],
    [0xffff800012ae3d80n, 0x20000n],
  ]),
  kernelStrings: new Map(),
  userStrings: new Map([[0x0000aaaae2b4a010n, '/etc/ld.so.cache']]),
};

const X86_64: ArchData = {
  symbols: [
    { name: 'kernel_clone', address: 0xffffffff810a5b20n, size: 0x3c0, kind: 'func' },
    { name: '__do_sys_clone', address: 0xffffffff810a6020n, size: 0x70, kind: 'func' },
    { name: 'do_sys_openat2', address: 0xffffffff81379a40n, size: 0x150, kind: 'func' },
    { name: '__x64_sys_openat', address: 0xffffffff81379c50n, size: 0x80, kind: 'func' },
    { name: 'vfs_read', address: 0xffffffff8137e7d0n, size: 0x1b0, kind: 'func' },
    { name: 'ksys_read', address: 0xffffffff8137f1e0n, size: 0xe0, kind: 'func' },
    { name: 'kprobe_int3_handler', address: 0xffffffff81062e90n, size: 0x1a0, kind: 'func', blacklisted: true },
    { name: 'jiffies', address: 0xffffffff82a05900n, size: 8, kind: 'data' },
  ],
  argRegs: ['di', 'si', 'dx', 'cx', 'r8', 'r9'],
  retReg: 'ax',
  spReg: 'sp',
  returnSite: { kernel_clone: ['__do_sys_clone', 0x4c], do_sys_openat2: ['__x64_sys_openat', 0x55], vfs_read: ['ksys_read', 0x67] },
  stacks: {
    kernel_clone: ['kernel_clone', '__do_sys_clone', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe'],
    do_sys_openat2: ['do_sys_openat2', '__x64_sys_openat', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe'],
    vfs_read: ['vfs_read', 'ksys_read', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe'],
  },
  regs: {
    kernel_clone: { di: 0xffffc90000dbff18n, si: 0n, dx: 0n, cx: 0n, sp: 0xffffc90000dbfef8n, flags: 0x246n },
    do_sys_openat2: { di: 0xffffff9cn, si: 0x00007ffd1e6c2f60n, dx: 0xffffc90000dc7ec0n, sp: 0xffffc90000dc7e80n, flags: 0x246n },
    vfs_read: { di: 0xffff888104a3e400n, si: 0x00007ffd1e6c3060n, dx: 0x340n, cx: 0xffffc90000dc7ef0n, sp: 0xffffc90000dc7ea8n, flags: 0x246n },
  },
  memory: new Map([
    [0xffffc90000dbfef8n, 0xffffffff810a606cn],
    [0xffffc90000dbff18n, 0x1200011n],
    [0xffffc90000dc7ec0n, 0x20000n],
  ]),
  kernelStrings: new Map(),
  userStrings: new Map([[0x00007ffd1e6c2f60n, '/etc/ld.so.cache']]),
};

const { ENOENT, EINVAL, EILSEQ } = Errno;

interface ProbeState {
  enabled: boolean;
  hits: number;
}

/** One scripted call: who calls which function when, and what it returns. */
interface Call {
  readonly fn: string;
  readonly comm: string;
  readonly pid: number;
  readonly cpu: number;
  readonly atNs: bigint;
  readonly returnNs: bigint;
  readonly retval: bigint;
}

const COMMANDS: readonly KernelCommandInfo[] = [
  { name: 'run', usage: 'run COMMAND [ARG]...', summary: 'start a task: the shell forks (kernel_clone), the child opens and reads a file' },
  { name: 'tick', usage: 'tick [N]', summary: 'advance the logical clock by N milliseconds (default 1)' },
];

export class FakeBackend implements KernelBackend {
  readonly arch: Arch;
  readonly cpus: number;
  readonly parseContext: ParseContext;
  readonly commands = COMMANDS;
  private readonly data: ArchData;
  private readonly probes = new Map<ProbeDefinition, ProbeState>();
  private pending: TraceRecord[] = [];
  private now: bigint;
  private nextPid = FAKE_SHELL_PID + 1;
  /** Every call the backend received, for tests (`register p:kprobes/x`, `enable …`, `run ls`). */
  readonly calls: string[] = [];

  constructor(options: FakeBackendOptions = {}) {
    this.arch = options.arch ?? 'x86_64';
    this.cpus = Math.max(1, options.cpus ?? 2);
    this.now = options.startNs ?? 100n * 1000n * MS;
    this.data = this.arch === 'arm64' ? ARM64 : X86_64;
    this.parseContext = simpleContext({
      arch: this.arch,
      symbols: this.data.symbols.map((s) => ({ name: s.name, size: s.size })),
    });
  }

  get symbols(): readonly FakeSymbol[] {
    return this.data.symbols;
  }

  private symbol(name: string): FakeSymbol | undefined {
    return this.data.symbols.find((s) => s.name === name);
  }

  registerProbe(probe: ProbeDefinition, options: { readonly enabled: boolean }): number {
    this.calls.push(`register ${probe.group}/${probe.event}${options.enabled ? ' (enabled)' : ''}`);
    const ret = this.checkRegistration(probe);
    if (ret !== 0) return ret;
    this.probes.set(probe, { enabled: options.enabled, hits: 0 });
    return 0;
  }

  private checkRegistration(probe: ProbeDefinition): number {
    const loc = probe.location;
    let sym: FakeSymbol | undefined;
    let offset: number;
    if (loc.kind === 'symbol') {
      if (loc.module !== null) return -ENOENT; // no modules are loaded
      sym = this.symbol(loc.symbol);
      offset = loc.offset;
    } else {
      sym = this.data.symbols.find((s) => loc.address >= s.address && loc.address < s.address + BigInt(s.size));
      offset = sym ? Number(loc.address - sym.address) : 0;
    }
    if (!sym || sym.kind !== 'func' || offset >= sym.size) return -EINVAL;
    if (sym.blacklisted) return -EINVAL;
    // @SYM arguments are resolved at registration (R150 step 10).
    for (const a of probe.args) {
      const r = checkMemSymbols(a.fetch, (n) => this.symbol(n) !== undefined);
      if (r !== 0) return r;
    }
    if (offset % 4 !== 0) return -EILSEQ;
    return 0;
  }

  unregisterProbe(probe: ProbeDefinition): void {
    this.calls.push(`unregister ${probe.group}/${probe.event}`);
    this.probes.delete(probe);
  }

  enableEvent(probes: readonly ProbeDefinition[]): number {
    this.calls.push(`enable ${probes.map((p) => `${p.group}/${p.event}`).join(',')}`);
    for (const p of probes) {
      const st = this.probes.get(p);
      if (st) st.enabled = true;
    }
    return 0;
  }

  disableEvent(probes: readonly ProbeDefinition[]): void {
    this.calls.push(`disable ${probes.map((p) => `${p.group}/${p.event}`).join(',')}`);
    for (const p of probes) {
      const st = this.probes.get(p);
      if (st) st.enabled = false;
    }
  }

  nowNs(): bigint {
    return this.now;
  }

  runCommand(argv: readonly string[]): CommandResult {
    this.calls.push(argv.join(' '));
    const [name, ...args] = argv;
    if (name === 'tick') {
      const n = args[0] ?? '1';
      if (!/^[0-9]+$/.test(n)) return { stdout: '', stderr: `tick: invalid number '${n}'\n`, status: 1 };
      this.now += BigInt(n) * MS;
      return { stdout: '', stderr: '', status: 0 };
    }
    if (name === 'run') {
      const cmd = args[0];
      if (cmd === undefined) return { stdout: '', stderr: 'run: missing COMMAND\nusage: run COMMAND [ARG]...\n', status: 1 };
      this.runTask(cmd);
      return { stdout: '', stderr: '', status: 0 };
    }
    return { stdout: '', stderr: `${name}: not a kernel command\n`, status: 127 };
  }

  private runTask(cmd: string): void {
    const t0 = this.now;
    const child = this.nextPid++;
    const comm = (cmd.split('/').pop() ?? cmd).slice(0, 15);
    const childCpu = this.cpus > 1 ? 1 : 0;
    const calls: Call[] = [
      { fn: 'kernel_clone', comm: FAKE_SHELL_COMM, pid: FAKE_SHELL_PID, cpu: 0, atNs: t0 + 100n * US, returnNs: t0 + 150n * US, retval: BigInt(child) },
      { fn: 'do_sys_openat2', comm, pid: child, cpu: childCpu, atNs: t0 + 300n * US, returnNs: t0 + 320n * US, retval: 3n },
      { fn: 'vfs_read', comm, pid: child, cpu: childCpu, atNs: t0 + 400n * US, returnNs: t0 + 430n * US, retval: 0x340n },
    ];
    if (comm === 'sh') {
      const grandchild = this.nextPid++;
      calls.push({ fn: 'kernel_clone', comm: 'sh', pid: child, cpu: childCpu, atNs: t0 + 600n * US, returnNs: t0 + 650n * US, retval: BigInt(grandchild) });
    }
    for (const c of calls) this.call(c);
    this.pending.sort((a, b) => (a.timestampNs < b.timestampNs ? -1 : a.timestampNs > b.timestampNs ? 1 : 0));
    this.now = t0 + MS;
  }

  /** Fire every enabled probe on the called function: kprobes at entry, kretprobes at return. */
  private call(c: Call): void {
    const sym = this.symbol(c.fn) as FakeSymbol;
    const regs = this.data.regs[c.fn] ?? {};
    for (const [probe, st] of this.probes) {
      if (!st.enabled) continue;
      const offset = this.probeOffset(probe, sym);
      if (offset === null) continue;
      st.hits++;
      const ctx: EvalContext = { data: this.data, regs, comm: c.comm, retval: null, entryRegs: regs, symbol: (n) => this.symbol(n) };
      if (probe.kind === 'kprobe') {
        this.pending.push({
          group: probe.group,
          event: probe.event,
          comm: c.comm,
          pid: c.pid,
          cpu: c.cpu,
          flags: 'd.Z..',
          timestampNs: c.atNs,
          location: `${sym.name}+0x${offset.toString(16)}/0x${sym.size.toString(16)}`,
          ip: sym.address + BigInt(offset),
          args: probe.args.map((a) => evalArg(a.fetch, a.type, ctx)),
          stack: this.data.stacks[c.fn] ?? [c.fn],
        });
      } else {
        const [site, siteOff] = this.data.returnSite[c.fn] ?? [c.fn, 0];
        const siteSym = this.symbol(site);
        const retIp = (siteSym?.address ?? 0n) + BigInt(siteOff);
        const retRegs = { ...regs, [this.data.retReg]: c.retval };
        const rctx: EvalContext = { ...ctx, regs: retRegs, retval: c.retval };
        this.pending.push({
          group: probe.group,
          event: probe.event,
          comm: c.comm,
          pid: c.pid,
          cpu: c.cpu,
          flags: 'd.Z..',
          timestampNs: c.returnNs,
          location: `${site}+0x${siteOff.toString(16)}/0x${(siteSym?.size ?? 0).toString(16)} <- ${sym.name}`,
          ip: sym.address,
          retIp,
          args: probe.args.map((a) => evalArg(a.fetch, a.type, rctx)),
          stack: (this.data.stacks[c.fn] ?? [c.fn]).slice(1),
        });
      }
    }
  }

  /** The probe's offset inside `sym`, or null when it does not probe that function. */
  private probeOffset(probe: ProbeDefinition, sym: FakeSymbol): number | null {
    const loc = probe.location;
    if (loc.kind === 'symbol') return loc.symbol === sym.name && loc.module === null ? loc.offset : null;
    if (loc.address >= sym.address && loc.address < sym.address + BigInt(sym.size)) return Number(loc.address - sym.address);
    return null;
  }

  traceRecords(): readonly TraceRecord[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  hits(probe: ProbeDefinition): number {
    return this.probes.get(probe)?.hits ?? 0;
  }

  misses(_probe: ProbeDefinition): number {
    return 0;
  }

  symbolize(address: bigint): string | null {
    const s = this.data.symbols.find((x) => address >= x.address && address < x.address + BigInt(x.size));
    return s ? `${s.name}+0x${(address - s.address).toString(16)}/0x${s.size.toString(16)}` : null;
  }
}

function checkMemSymbols(node: FetchNode, known: (name: string) => boolean): number {
  if (node.kind === 'mem-symbol') {
    if (node.symbol === null) return -EINVAL;
    return known(node.symbol) ? 0 : -ENOENT;
  }
  if (node.kind === 'deref') return checkMemSymbols(node.inner, known);
  return 0;
}

interface EvalContext {
  readonly data: ArchData;
  readonly regs: Readonly<Record<string, bigint>>;
  readonly entryRegs: Readonly<Record<string, bigint>>;
  readonly comm: string;
  readonly retval: bigint | null;
  readonly symbol: (name: string) => FakeSymbol | undefined;
}

function isKernel(addr: bigint): boolean {
  return BigInt.asUintN(64, addr) >= 0xffff000000000000n;
}

/** The scripted call's registers and the fixed memory, as fetch-eval.ts reads them. */
function probedContext(ctx: EvalContext): ProbedContext {
  const { data, regs } = ctx;
  const sp = regs[data.spReg] ?? 0n;
  // Unmapped kernel memory reads as zeroes here; user memory is never readable (no +u contents).
  const load = (addr: bigint, user: boolean): bigint | null =>
    user ? null : (data.memory.get(BigInt.asUintN(64, addr)) ?? (isKernel(addr) ? 0n : null));
  return {
    reg: (name) => regs[name === 'lr' ? 'x30' : name] ?? 0n,
    sp,
    retval: ctx.retval ?? regs[data.retReg] ?? 0n,
    arg(index, fromEntry) {
      const r = data.argRegs[index - 1];
      return r !== undefined ? ((fromEntry ? ctx.entryRegs : regs)[r] ?? 0n) : load(sp + 8n * BigInt(index - data.argRegs.length), false);
    },
    load,
    loadString: (addr, user) => (user ? data.userStrings.get(addr) : data.kernelStrings.get(addr)) ?? null,
    symbolAddress: (name) => ctx.symbol(name)?.address,
    comm: ctx.comm,
  };
}

function evalArg(node: FetchNode, type: ArgType, ctx: EvalContext): ArgValue {
  return evalProbedArg(node, type, probedContext(ctx));
}
