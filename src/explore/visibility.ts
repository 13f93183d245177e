import { isCModule } from '../cexec/load.ts';
import type { LoggedEvent } from '../model/events.ts';
import { toHex } from '../model/hex.ts';
import { findTask } from '../model/queries.ts';
import type { Setup } from '../model/setup.ts';
import type { KernelState } from '../model/state.ts';
import type { TaskOp } from '../scenario/types.ts';
import type { Choice } from '../scheduler/choices.ts';
import { analyseC, type CAnalysis } from './visibility-c.ts';

// Which steps another CPU can observe, for the exploration's partial-order reduction
// (docs/explore.md, "Preempting only where it can matter").
//
// A step is INVISIBLE when every event it emits writes only the stepping CPU's own slice or its
// running task's frames, and reads nothing another CPU's step writes. Such a step commutes with
// every step of every other CPU, and it neither enables nor disables any of their choices, so a
// schedule may run it glued to the same CPU's next visible step without losing a reachable
// state. Everything not listed here is visible: unknown means visible.
//
// Reasoned from the fold (src/model/fold/*.ts) and the CPU's step (src/kprobes/cpu-step.ts):
// - `handler.spin`, `handler.step`: the CPU's handler slice (spin count, step index). RCU's and
//   the text-patch sync's waiting sets read "is it in a handler / are its irqs off", which only
//   handler.enter/exit, kprobe.trap, kprobe.done and friends change (all visible).
// - `insn.exec`, `func.call`, `func.ret`: the task's frames (task context) or the handler's frames
//   (handler context). The step READS the text at its address (an armed point traps instead), so
//   it is invisible only at an address no probe of the run can be placed at: text is written
//   (text.arm/disarm, the optimizer's jumps) only at probe points. A func.call without an address
//   (a handler's call) reads no text.
// Visible by kind, among others: text.* and every kprobe.* (text bytes, the probe table, trap
// state with irqs off), mutex.*, ipi.ack and rcu.* (sync and grace-period acks), handler.enter
// and handler.exit (per-probe counters), printk and kernel.* (dmesg is output, its order is
// observable), sched.switch, task.* (the run queue, sleeping and waking), every c.* and mem.*
// event (module memory) but a local C step's (below), time.advance and irq.* (the clock and the
// timer).
//
// Runs with C modules (src/cexec). Module memory is shared by address, and a step of C code
// emits `c.step` (its writes, and its accesses of module data and kmalloc'd memory): such a step
// is visible unless all three of these hold (then it is invisible):
// - the instruction is LOCAL (./visibility-c.ts): it reads and writes only its frame's locals,
//   and no function of the modules takes a local's address;
// - it runs in task context, in a function that is not __init. Every instruction of module code
//   reads whether its module is loaded (R96, src/kprobes/cpu-step.ts execute). Once the module
//   is LIVE (see below), that cannot change while a task's frames are in its code: rmmod is
//   refused while a task runs the module's code (startRmmod, `module.busy`), a call into a GOING
//   module is refused (`module.noref`), and a module is loaded only once (a second insmod makes
//   the run opaque). (Before LIVE a failing init unloads the module under any task that called
//   into it; every step is visible then.) An __init function's text is freed when the module
//   goes LIVE, under any other task that called into it; a handler's code is protected by no
//   reference (a module whose exit forgets unregister_kprobe is unloaded under its running
//   handler): both stay visible;
// - its address is not one a probe can be armed at (as for every instruction step, below).
// A call into or a return from a module function (`func.call`/`func.ret` naming one) is visible:
// rmmod reads whether a task runs the module's code, and the call reads whether it is GOING.
// Where probes can be armed: a C module registers its probes from its struct's fields as they
// are when init calls register_kprobe(), which the setup cannot know; so until every C module
// has gone LIVE (`module.live`: its init returned) every instruction step is visible, and from
// then on the armable addresses are the scenario's probes' plus every address a `kprobe.register`,
// `kprobe.insert` or `text.arm` of the run named. No probe is registered at a new address later:
// register_kprobe() may be named only in __init code (else the run is opaque), init text is
// freed once LIVE, and each module is loaded once.
//
// Whole runs are treated as visible (no reduction) when instruction steps read shared state the
// events do not show, or values that the order of invisible steps changes: a timer (its
// interrupt lands on whichever instruction runs when the clock says, so running a CPU's
// invisible steps earlier or later moves it), optprobes (an optimized jump covers bytes past its
// point, §11), a module that is not C (its instructions are `insn.exec` of module text), a C
// module that reads the clock or the random generator or registers probes outside __init code,
// a module loaded twice, and an interactive task (a session's input adds probes and modules).

const PRIVATE: ReadonlySet<string> = new Set(['handler.spin', 'handler.step']);
const INSTRUCTION: ReadonlySet<string> = new Set(['insn.exec', 'func.call', 'func.ret']);
const C_STEP: ReadonlySet<string> = new Set(['c.step', 'c.frame']);

export interface Visibility {
  /** A step begins; `world` is the folded state with its `sched.pick` applied. */
  begin(world: KernelState): void;
  /** Whether `e` can be observed by another CPU's step (and so ends an invisible stretch). Sees every event of the run, in order. */
  visible(e: LoggedEvent): boolean;
}

/** Every step visible: the reduction is off. */
export const ALL_VISIBLE: Visibility = { begin: () => {}, visible: () => true };

/** Why every step of runs of `setup` counts as visible, or null when the reduction applies. */
export function opaqueReason(setup: Setup, c: CAnalysis | null): string | null {
  const sc = setup.scenario;
  if (sc.timer !== undefined) return 'a timer';
  if (sc.config?.optprobes === true) return 'optprobes';
  if (sc.tasks.some((t) => t.interactive === true)) return 'an interactive task';
  if ((sc.modules ?? []).some((m) => !isCModule(m))) return 'a module not written in C';
  if (c?.opaque) return c.opaque;
  const loads = new Map<string, number>();
  const count = (ops: readonly TaskOp[]): void => {
    for (const op of ops) {
      if (op.op === 'insmod') loads.set(op.module, (loads.get(op.module) ?? 0) + 1);
      if (op.op === 'fork') count(op.program);
    }
  };
  for (const t of sc.tasks) count(t.program);
  for (const [m, n] of loads) if (n > 1) return `${m} is loaded ${n} times`;
  return null;
}

export function visibilityOf(setup: Setup): Visibility {
  const cs = setup.c;
  const c = cs === undefined ? null : analyseC(cs);
  if (opaqueReason(setup, c) !== null) return ALL_VISIBLE;
  // Every address a probe of the run can be placed at (the text a CPU's step could find armed).
  const points = new Set<string>();
  for (const r of setup.resolutions.values()) if (r.ok) points.add(toHex(r.addr));
  const moduleFns = new Set<string>();
  for (const [name, code] of setup.code) if (code.fn.module !== undefined) moduleFns.add(name);
  // C modules not LIVE yet: until none is left, every instruction step is visible (see above).
  const pending = new Set((cs?.modules ?? []).map((m) => m.name));
  let world: KernelState | null = null;
  /** Whether the C step of task `pid` in this step runs a local instruction (see above). */
  const localStep = (pid: number): boolean => {
    if (c === null || c.framesEscape || world === null) return false;
    const f = findTask(world, pid)?.frames;
    if (f === null || f === undefined) return false;
    const local = c.local.get(f.fn);
    const code = setup.code.get(f.fn);
    if (local === undefined || code === undefined || code.fn.init === true) return false;
    const ip = code.addrs[f.pc];
    if (ip === undefined || points.has(ip)) return false;
    // The function's entry before its C code (ENDBR64, the fentry site) reads and writes nothing.
    const entry = code.fn.body.length - local.length;
    return f.pc < entry || local[f.pc - entry] === true;
  };
  return {
    begin(w) {
      world = w;
    },
    visible(e) {
      switch (e.type) {
        case 'module.live':
          pending.delete(e.module);
          return true;
        case 'kprobe.register':
          if (e.addr !== null) points.add(e.addr);
          return true;
        case 'kprobe.insert':
        case 'text.arm':
          points.add(e.addr);
          return true;
      }
      if (PRIVATE.has(e.type)) return false;
      if (pending.size > 0) return true;
      if (C_STEP.has(e.type)) {
        const s = e as Extract<LoggedEvent, { type: 'c.step' | 'c.frame' }>;
        return s.ctx !== 'task' || !localStep(s.pid);
      }
      if (!INSTRUCTION.has(e.type)) return true;
      const fn = (e as { fn?: string }).fn;
      if (fn !== undefined && moduleFns.has(fn)) return true;
      const ip = (e as { ip: string | null }).ip;
      return ip !== null && points.has(ip);
    },
  };
}

/**
 * Whether decision `menu` may leave the default schedule: the first decision; one after a
 * visible step; one where the CPU that stepped last cannot step again; one whose menu differs
 * from the previous decision's (a task woke by the clock, or something became blocked). Between
 * these, the default schedule runs: the same CPU steps on through its invisible steps.
 */
export function isBranchPoint(menu: readonly Choice[], prev: { readonly menu: readonly Choice[]; readonly cpu: number; readonly visible: boolean } | null): boolean {
  if (prev === null || prev.visible) return true;
  if (!menu.some((c) => c.cpu === prev.cpu && c.switch_to === null)) return true;
  if (menu.length !== prev.menu.length) return true;
  for (let i = 0; i < menu.length; i++) if (menu[i]!.cpu !== prev.menu[i]!.cpu || menu[i]!.switch_to !== prev.menu[i]!.switch_to) return true;
  return false;
}
