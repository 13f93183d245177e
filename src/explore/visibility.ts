import type { LoggedEvent } from '../model/events.ts';
import { toHex } from '../model/hex.ts';
import type { Setup } from '../model/setup.ts';
import type { Choice } from '../scheduler/choices.ts';

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
// event (module memory), time.advance and irq.* (the clock and the timer).
//
// Whole runs are treated as visible (no reduction) when instruction steps read shared state the
// events do not show: a module's code reads whether the module is loaded (R96), an optimized
// jump covers bytes past its point (§11), the timer interrupt fires by the clock.

const PRIVATE: ReadonlySet<string> = new Set(['handler.spin', 'handler.step']);
const INSTRUCTION: ReadonlySet<string> = new Set(['insn.exec', 'func.call', 'func.ret']);

export interface Visibility {
  /** Whether `e` can be observed by another CPU's step (and so ends an invisible stretch). */
  visible(e: LoggedEvent): boolean;
}

/** Every step visible: the reduction is off. */
export const ALL_VISIBLE: Visibility = { visible: () => true };

export function visibilityOf(setup: Setup): Visibility {
  const sc = setup.scenario;
  const opaque = (sc.modules?.length ?? 0) > 0 || setup.c !== undefined || sc.timer !== undefined || sc.config?.optprobes === true;
  // Every address a probe of the run can be placed at (the text a CPU's step could find armed).
  const points = new Set<string>();
  for (const r of setup.resolutions.values()) if (r.ok) points.add(toHex(r.addr));
  return {
    visible(e) {
      if (PRIVATE.has(e.type)) return false;
      if (opaque || !INSTRUCTION.has(e.type)) return true;
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
