import type { Setup } from '../model/setup.ts';
import type { CpuState, Frame, KernelState, TaskState } from '../model/state.ts';
import { functionOf } from '../model/setup.ts';
import { atLeast, DEFAULT_KERNEL, kretprobeTrampolineChain, type KernelVersion } from '../kernel/index.ts';

// dump_stack() output in the x86 layout: a header naming CPU, PID and Comm, then the call trace
// innermost first, each frame as `sym+off/size` at its return address (the kernel prints the
// return address, so a caller's line points just past its call instruction).

/** `uname -r` of each modelled release, as dump_stack() prints it. */
export const KERNEL_RELEASE: Record<KernelVersion, string> = { '4.14': '4.14.0', '5.10': '5.10.0', '6.17': '6.17.0-rc3' };

function frameLines(setup: Setup, f: Frame | null, innermostExact: boolean): string[] {
  const out: string[] = [];
  let first = innermostExact;
  // R79: a kretprobed frame's return address is the trampoline; unwinders only translate it back
  // to the real caller since v5.16.
  const showTrampoline = !atLeast(setup.scenario.kernel ?? DEFAULT_KERNEL, '5.16');
  const trampoline = setup.symbols.lookup('kretprobe_trampoline');
  let calleeHooked = false;
  for (let fr = f; fr !== null; fr = fr.up) {
    if (calleeHooked && showTrampoline && trampoline !== undefined) {
      out.push(` kretprobe_trampoline+0x0/0x${trampoline.size.toString(16)}`);
      calleeHooked = (fr.rp?.length ?? 0) > 0;
      first = false;
      continue;
    }
    calleeHooked = (fr.rp?.length ?? 0) > 0;
    const fn = functionOf(setup, fr.fn);
    // Outer frames already advanced past their call; the innermost shows where it stands.
    // (A C frame's pc stands on its calling instruction until the call returns: src/cexec.)
    const index = first || fr.cl !== undefined ? fr.pc : Math.max(0, fr.pc - 1);
    const insn = fn.body[Math.min(index, fn.body.length - 1)]!;
    const off = first ? insn.off : insn.off + insn.len;
    out.push(` ${fn.name}+0x${off.toString(16)}/0x${fn.size.toString(16)}`);
    first = false;
  }
  return out;
}

/**
 * The trampoline's frames under a return handler, innermost first: each function's return
 * address is just past its call of the one inside it (the innermost calls the handler, which the
 * model does not lay out: its line points past its first instruction, as does the asm
 * trampoline's, whose call of the C part the model's stub lacks).
 */
function trampolineLines(setup: Setup): string[] {
  const chain = kretprobeTrampolineChain(setup.symbols.image.arch, setup.scenario.kernel ?? DEFAULT_KERNEL);
  return chain.map((name, i) => {
    const fn = functionOf(setup, name);
    const inner = chain[i - 1];
    const call = fn.body.find((insn) => insn.op.k === 'call' && insn.op.fn === inner) ?? fn.body[0]!;
    return ` ${fn.name}+0x${(call.off + call.len).toString(16)}/0x${fn.size.toString(16)}`;
  });
}

export function dumpStackLines(setup: Setup, _w: KernelState, c: CpuState, task: TaskState | undefined): string[] {
  const comm = task?.comm ?? 'swapper';
  const pid = task?.pid ?? 0;
  // R75: a return handler runs from the trampoline after the hooked function returned: the stack
  // is the trampoline's frames on the caller's, which resumes at the real return address. The
  // returned function's frame is gone (the model pops it only after the walk).
  const returning = c.handler?.phase === 'ret' && c.trampoline !== null;
  const taskFrames = task?.frames ?? null;
  return [
    `CPU: ${c.id} UID: 0 PID: ${pid} Comm: ${comm} Not tainted ${KERNEL_RELEASE[setup.scenario.kernel ?? DEFAULT_KERNEL]} #1 PREEMPT(voluntary)`,
    'Call Trace:',
    ' <TASK>',
    ...(c.handler ? frameLines(setup, c.handler.frames, false) : []),
    ...(returning ? [...trampolineLines(setup), ...frameLines(setup, taskFrames?.up ?? null, false)] : frameLines(setup, taskFrames, true)),
    ' </TASK>',
  ];
}
