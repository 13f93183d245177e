import type { Setup } from '../model/setup.ts';
import type { KernelState, ProbeReg } from '../model/state.ts';
import { atLeast, DEFAULT_KERNEL, type Arch } from '../kernel/index.ts';
import { entryOffset, isFtraceSite } from './resolve.ts';
import { archOfPcOrStatus, pcName, statusName } from './regs.ts';
import { recGet } from '../model/fold/record.ts';

// The text of scenario printk calls: plain text with {placeholders}, the declarative stand-in for
// the C samples' printf formats. `{addr}` prints as the kernel's %p does (a hashed pointer
// since v4.15); `{raw_addr}` as %px. In a handler a placeholder names the handler's probe; in a task,
// `{addr:kp}` names probe kp. The registers a handler's C reads from pt_regs go by the arch's
// field names, as the C compiles only with its own arch's (kprobe_example.c's #ifdef branches):
// `{ip}` and `{flags}` are regs->ip and regs->flags on x86_64, `{pc}` and `{pstate}` regs->pc
// and regs->pstate on arm64 (src/kprobes/regs.ts knows which). `{kp_flags}` is p->flags (R1) and
// `{post_flags}` a post_handler's third argument (R3).

export const PLACEHOLDERS = ['symbol', 'addr', 'raw_addr', 'ip', 'flags', 'pc', 'pstate', 'kp_flags', 'post_flags', 'cpu', 'pid', 'comm', 'nmissed', 'retval', 'data', 'elapsed', 'reg'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];
const PROBE_FIELDS: ReadonlySet<string> = new Set(['symbol', 'addr', 'raw_addr', 'nmissed']);
const HANDLER_ONLY: ReadonlySet<string> = new Set(['ip', 'flags', 'pc', 'pstate', 'kp_flags', 'post_flags', 'retval', 'data', 'elapsed', 'reg']);

const TOKEN = /\{([a-z_]+)(?::([A-Za-z_][A-Za-z0-9_]*))?\}/g;

/** Checks a template at load time, for code built for `arch`; returns a message or null. */
export function checkTemplate(text: string, probes: ReadonlySet<string>, inHandler: boolean, arch: Arch = 'x86_64'): string | null {
  for (const m of text.matchAll(TOKEN)) {
    const [, name, probe] = m;
    if (!(PLACEHOLDERS as readonly string[]).includes(name!)) {
      return `unknown placeholder {${name}} (expected one of ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`;
    }
    if (!inHandler && HANDLER_ONLY.has(name!)) return `{${name}} is only known inside a handler`;
    const owner = archOfPcOrStatus(name!);
    if (owner !== undefined && owner !== arch) {
      // regs->ip does not compile on arm64 (nor regs->pc on x86): name the arch's own field.
      const same = name === 'ip' || name === 'pc' ? pcName(arch) : statusName(arch);
      return `{${name}} is regs->${name}, an ${owner} register; on ${arch} use {${same}} (or make the print step "arch": "${owner}")`;
    }
    // {reg:NAME} names a register, not a probe (checked against the arch by the caller).
    if (name === 'reg') {
      if (probe === undefined) return '{reg} must name a register, e.g. {reg:di}';
      continue;
    }
    if (PROBE_FIELDS.has(name!) && probe === undefined && !inHandler) {
      return `{${name}} outside a handler must name a probe, e.g. {${name}:kp}`;
    }
    if (probe !== undefined && !probes.has(probe)) return `{${name}:${probe}} names no probe of the scenario`;
  }
  return null;
}

export interface PrintContext {
  readonly cpu: number;
  readonly pid: number;
  readonly comm: string;
  /** The handler's probe, when printing from a handler. */
  readonly probe?: string;
  /** The arch's instruction pointer and saved status register as the handler sees them. */
  readonly ip?: bigint;
  readonly flags?: bigint;
  /** In a kretprobe return handler: the call's return value (R76). */
  readonly retval?: number;
  /** In a kretprobe handler: its instance's data[] (R77), and the logical time now. */
  readonly data?: number;
  readonly now?: number;
  /** In a handler: a register of the probed context (`{reg:NAME}`). */
  readonly reg?: (name: string) => bigint;
}

/**
 * R1: `p->flags` of a probe in a handler (so registered, its flags as R2 set them and
 * disable/enable and module unloading changed them since): GONE 0x1, DISABLED 0x2, FTRACE 0x8,
 * ON_FUNC_ENTRY 0x10. OPTIMIZED (0x4) is only ever an aggregator's, never a client probe's.
 */
export function kprobeFlags(setup: Setup, reg: ProbeReg | undefined): number {
  if (reg === undefined) return 0;
  let flags = (reg.gone ? 0x1 : 0) | (reg.disabled ? 0x2 : 0);
  if (reg.addr === null) return flags;
  const addr = BigInt(reg.addr);
  const fn = setup.symbols.containing(addr);
  if (isFtraceSite(setup.symbols, addr)) flags |= 0x8;
  if (fn?.kind === 'func' && addr === fn.addr + BigInt(entryOffset(fn))) flags |= 0x10;
  return flags;
}

/** %p: a keyed hash of the pointer, low 32 bits, printed in 16 hex digits as on 64-bit kernels. */
export function hashPointer(addr: bigint, key: number): string {
  let h = key ^ 0x811c9dc5;
  for (let v = addr, i = 0; i < 8; i++, v >>= 8n) h = Math.imul(h ^ Number(v & 0xffn), 0x01000193);
  return (h >>> 0).toString(16).padStart(16, '0');
}

export function renderTemplate(text: string, setup: Setup, world: KernelState, ctx: PrintContext): string {
  return text.replace(TOKEN, (_all, name: Placeholder, named?: string) => {
    const probe = named ?? ctx.probe ?? '';
    const reg = recGet(world.kprobes.probes, probe);
    const addr = reg?.addr === undefined || reg.addr === null ? null : BigInt(reg.addr);
    switch (name) {
      case 'symbol':
        return setup.probes.get(probe)?.symbol ?? '(null)';
      case 'addr':
        // %p hashes pointers since v4.15 ("printk: hash addresses printed with %p"); v4.14
        // prints the address itself, as %px does.
        if (addr === null) return '(null)';
        return atLeast(setup.scenario.kernel ?? DEFAULT_KERNEL, '4.15') ? hashPointer(addr, setup.ptrKey) : addr.toString(16).padStart(16, '0');
      case 'raw_addr':
        return addr === null ? '0000000000000000' : addr.toString(16).padStart(16, '0');
      case 'nmissed':
        return String(recGet(world.stats, probe)?.nmissed ?? 0);
      case 'ip':
      case 'pc':
        return (ctx.ip ?? 0n).toString(16);
      case 'flags':
      case 'pstate':
        return (ctx.flags ?? 0n).toString(16);
      case 'kp_flags':
        return kprobeFlags(setup, reg).toString(16);
      case 'post_flags':
        // R3: always 0.
        return '0';
      case 'cpu':
        return String(ctx.cpu);
      case 'pid':
        return String(ctx.pid);
      case 'comm':
        return ctx.comm;
      case 'retval':
        return String(ctx.retval ?? 0);
      case 'data':
        return String(ctx.data ?? 0);
      case 'reg':
        return `0x${BigInt.asUintN(64, ctx.reg?.(named ?? '') ?? 0n).toString(16)}`;
      case 'elapsed':
        // A tick is a microsecond; kretprobe_example.c prints ktime deltas in ns.
        return String(((ctx.now ?? 0) - (ctx.data ?? 0)) * 1000);
    }
  });
}
