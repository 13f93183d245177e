import { CALL_STATES, phaseOf } from '../machines/kprobe-call.ts';
import { KPROBE_STATUS_STATES, type KernelStep, type StepChoice, type StepGuard } from '../machines/kprobe-status.ts';
import { hereOf, irqInKprobe, onTrampoline, stepped, timerDue, trapped } from '../kprobes/cpu-step.ts';
import { effectiveSteps } from '../kprobes/callbacks.ts';
import { stepsOf, type Here } from '../kprobes/here.ts';
import { inOptimizedRun } from '../kprobes/opt-step.ts';
import { isFtraceSite } from '../kprobes/resolve.ts';
import { instanceProbe } from '../model/evolve.ts';
import { recGet } from '../model/fold/record.ts';
import { findTask, jumpInPlace, kprobeDisabled, taskReady } from '../model/queries.ts';
import { codeOf, programOf, type Setup } from '../model/setup.ts';
import type { ApiCall, ApiPhase, Frame, KernelState, TaskState } from '../model/state.ts';
import type { Choice } from './choices.ts';

// A scheduling decision's label: what the chosen CPU's step is about to do, in kernel words
// (`cpu1: int3 kp`, `cpu1: kp pre-handler spin`, `cpu0: rmmod unregister_kprobe(kp) synchronize_rcu`).
// It is logged beside the decision (`sched.pick`'s `label`), so a log can be replayed by what
// each step did rather than only by which CPU took it, after the model changed, and a schedule
// that no longer applies is reported at its first decision whose step would now do something
// else. The label is read from the state before the step, the way the CPU machine decides:
// the status's `step` list of src/machines/kprobe-status.ts with the same guards
// (src/kprobes/cpu-step.ts), then, for the kernel function that wins, the one fact that function
// branches on first (a pending trap's point, the handler step due, the call step the task's
// kprobes call stands at, the next instruction and whether a breakpoint is armed there). It
// never computes the step's events: it runs at every decision and must stay cheap.

/** What labels a decision: the scheduler asks it for the choice it made in the state it decided on. */
export type Labeller = (w: KernelState, choice: Choice) => string | undefined;

/** The label of choice `choice` in the state `w` the scheduler decides on. */
export function decisionLabel(setup: Setup, w: KernelState, choice: Choice): string {
  return `cpu${choice.cpu}: ${stepLabel(setup, w, choice)}`;
}

function stepLabel(setup: Setup, w: KernelState, choice: Choice): string {
  if (choice.switch_to !== null) {
    const next = findTask(w, choice.switch_to);
    return `switch to ${next?.comm ?? '?'} (pid ${choice.switch_to})`;
  }
  const c = w.cpus[choice.cpu];
  if (c === undefined) return 'no such CPU';
  // The step sees the clock after its own sched.pick (one tick on): a timer due then fires in it.
  const after = setup.scenario.timer === undefined ? w : { ...w, t: w.t + 1 };
  const h = hereOf(setup, after, c);
  return KERNEL_STEP_LABELS[machineStep(h)](h);
}

const GUARDS: Readonly<Record<StepGuard, (h: Here) => boolean>> = { timerDue, trapped, irqInKprobe, onTrampoline, stepped };

/** Each status's step list with its guards bound, once (the label runs at every decision). */
const STEP_LISTS: ReadonlyMap<string, readonly { readonly test: ((h: Here) => boolean) | null; readonly run: KernelStep }[]> = new Map(
  Object.entries(KPROBE_STATUS_STATES).map(([status, config]) => [
    status,
    ((config as { step?: readonly StepChoice[] }).step ?? []).map((s) => ({ test: s.guard === undefined ? null : GUARDS[s.guard], run: s.run })),
  ]),
);

/** The kernel function the CPU machine runs for this step: the first of its status's step list whose guard holds. */
function machineStep(h: Here): KernelStep {
  const list = STEP_LISTS.get(h.c.status)!;
  for (let i = 0; i < list.length; i++) {
    const s = list[i]!;
    if (s.test === null || s.test(h)) return s.run;
  }
  return 'run_task';
}

const KERNEL_STEP_LABELS: Readonly<Record<KernelStep, (h: Here) => string>> = {
  timer_interrupt: () => 'timer interrupt',
  kprobe_int3_handler: int3Handler,
  run_task: runTask,
  rethook_trampoline_handler: (h) => {
    const t = h.c.trampoline!;
    const instance = t.pending[0];
    return instance === undefined ? `kretprobe trampoline returns from ${t.fn}` : `kretprobe trampoline ${instanceProbe(instance)}`;
  },
  kretprobe_rethook_handler: (h) => {
    const probe = h.c.probes[0] ?? '?';
    if (h.c.handler !== null) return handlerStep(h, probe, 'ret');
    return h.c.next === 0 ? `${probe} return-handler` : `${probe} instance put back`;
  },
  aggr_pre_handler: (h) => aggrHandler(h, 'pre'),
  aggr_post_handler: (h) => aggrHandler(h, 'post'),
  setup_singlestep: singlestep,
  kprobe_post_process: (h) => `${names(h.c.probes)} single-step done`,
};

const names = (probes: readonly string[]): string => (probes.length === 0 ? '?' : probes.join(','));
const PHASE_NAME = { pre: 'pre-handler', post: 'post-handler', ret: 'return-handler' } as const;

/** kprobe_int3_handler(): get_kprobe() at the trapped address, then a hit, a miss or a BUG (R50, R54). */
function int3Handler(h: Here): string {
  const { c, setup } = h;
  const point = recGet(h.w.kprobes.table, c.trap!);
  if (point === undefined) return setup.legacyInt3 ? 'int3 recovered, no kprobe there' : 'int3 with no kprobe: oops';
  if (c.status === 'idle' || setup.mutant === 'no-reenter-check') return `${names(point.probes)} hit`;
  if (c.status === 'KPROBE_REENTER') return `${names(point.probes)} unrecoverable reentry`;
  return `${names(point.probes)} miss`;
}

/** aggr_pre_handler / aggr_post_handler: the handler step due, the next child's handler, or the phase's end. */
function aggrHandler(h: Here, phase: 'pre' | 'post'): string {
  const { c } = h;
  if (c.handler !== null) return handlerStep(h, c.handler.probe, phase);
  const probe = c.probes[c.next];
  if (probe === undefined) {
    if (phase === 'post') return `${names(c.probes)} done`;
    if (inOptimizedRun(h)) return `${names(c.probes)} optimized done`;
    return isFtraceSite(h.setup.symbols, BigInt(c.current!)) ? `${names(c.probes)} pre-handlers done` : singlestep(h);
  }
  // The aggregator's test (cpu-step.ts aggr_handler_step), asked only of a disabled child.
  if (kprobeDisabled(recGet(h.w.kprobes.probes, probe))) {
    const aggregated = c.probes.length > 1 || c.opt_run === true || recGet(h.w.kprobes.table, c.current!)?.opt !== undefined;
    if (aggregated) return `${probe} ${PHASE_NAME[phase]} skipped`;
  }
  if (stepsOf(h, probe, phase) === undefined) return `${probe} has no ${PHASE_NAME[phase]}`;
  return `${probe} ${PHASE_NAME[phase]}`;
}

/** One step of a running handler: its call's next instruction, its next declared step, or its return. */
function handlerStep(h: Here, probe: string, phase: 'pre' | 'post' | 'ret'): string {
  const run = h.c.handler!;
  const who = `${probe} ${PHASE_NAME[phase]}`;
  if (run.frames !== null) return instruction(h, who, run.frames);
  const op = effectiveSteps(stepsOf(h, probe, phase) ?? [], run)[run.step];
  return op === undefined ? `${who} returns` : `${who} ${op.do}`;
}

/** setup_singlestep(): the copy out of line, or the detour buffer or boosted copy (R47). */
function singlestep(h: Here): string {
  const { c } = h;
  const point = recGet(h.w.kprobes.table, c.current!);
  const nested = c.status === 'KPROBE_REENTER';
  if (point?.opt && !nested) return `${names(c.probes)} detour`;
  if (point?.boost && !nested) return `${names(c.probes)} boost`;
  return `single-step ${names(c.probes)}`;
}

/** The next instruction of `frames`: a breakpoint (or ftrace site, or optimized jump) armed there, or the instruction itself. */
function instruction(h: Here, who: string, frames: Frame): string {
  const { fn, addrs } = codeOf(h.setup, frames.fn);
  const insn = fn.body[frames.pc];
  const addr = addrs[frames.pc];
  // A C instruction resumed after an interleaving point is past its breakpoint (cpu-step.ts execute()).
  const point = addr === undefined || frames.cm !== undefined ? undefined : recGet(h.w.kprobes.table, addr);
  if (point?.armed) {
    if (insn?.op.k === 'fentry') return `ftrace ${names(point.probes)}`;
    if (jumpInPlace(point)) return `optimized ${names(point.probes)}`;
    return `int3 ${names(point.probes)}`;
  }
  return `${who} runs ${fn.name}+0x${(insn?.off ?? 0).toString(16)}`;
}

/** The running task's step (run_task): its code, a wake-up, its next operation, or its kprobes call. */
function runTask(h: Here): string {
  const { task, w, setup } = h;
  if (task === undefined) return 'idle';
  const comm = task.comm;
  if (task.wait !== null) {
    if (!taskReady(w, task)) return `${comm} waits`;
    if (task.wait.on === 'time' || task.wait.on === 'children') return `${comm} wakes`;
    return apiCall(h, task);
  }
  if (w.kprobes.calls[task.pid] !== undefined || w.c?.calls[task.pid] !== undefined) return apiCall(h, task);
  if (task.frames !== null) return instruction(h, comm, task.frames);
  const op = programOf(setup, task.prog)[task.job];
  if (op === undefined) return setup.scenario.tasks[task.prog]?.interactive ? `${comm} waits for input` : `${comm} exits`;
  switch (op.op) {
    case 'call':
      return `${comm} calls ${op.fn}`;
    case 'c_exit':
      return `${comm} calls ${op.fn}`;
    case 'printk':
    case 'sleep':
    case 'ftrace_failure':
    case 'user_int3':
    case 'c_load':
    case 'wait_children':
      return `${comm} ${op.op}`;
    case 'kunit_test':
      return `${comm} kunit_test ${op.name}`;
    case 'clear_kprobe':
      return `${comm} clear_kprobe(${op.probe})`;
    default:
      return apiCall(h, task);
  }
}

/** "rmmod unregister_kprobe(kp) synchronize_rcu": the task's kprobes call and the step of the call graph it is at. */
function apiCall(h: Here, task: TaskState): string {
  const { w, setup } = h;
  const comm = task.comm;
  const call = w.kprobes.calls[task.pid];
  const op = programOf(setup, task.prog)[task.job];
  if (call !== undefined) {
    const arg = call.probe !== '' ? call.probe : op !== undefined && 'module' in op ? op.module : '';
    return `${comm} ${call.fn}(${arg}) ${callStepOf(call.fn, call.phase)}`;
  }
  // Not in a call yet: this step starts one (startCall in src/kprobes/api-step.ts), or a batch's next entry.
  const batch = w.kprobes.batches[task.pid];
  if (batch !== undefined) {
    const head = `${comm} ${batch.fn}(${batch.probes.join(',')})`;
    if (batch.undo === null) {
      const next = batch.probes[batch.registered];
      return next === undefined ? `${head} returns` : `${head} calls register_kprobe(${next})`;
    }
    const next = batch.undo[batch.undone];
    return next === undefined ? `${head} synchronize_rcu` : `${head} calls unregister_kprobe(${next})`;
  }
  const cc = w.c?.calls[task.pid];
  if (cc !== undefined) return `${comm} calls ${cc.fn}(${cc.probe})`;
  if (op === undefined) return `${comm} calls nothing`;
  switch (op.op) {
    case 'register_kprobe':
    case 'unregister_kprobe':
    case 'enable_kprobe':
    case 'disable_kprobe':
    case 'clear_kprobe':
      return `${comm} calls ${op.op}(${op.probe})`;
    case 'register_kprobes':
    case 'unregister_kprobes':
      return `${comm} calls ${op.op}(${op.probes.join(',')})`;
    case 'insmod':
    case 'rmmod':
    case 'module_live':
      return `${comm} calls ${op.op}(${op.module})`;
    case 'kprobes_enabled':
    case 'kprobes_optimization':
      return `${comm} writes ${op.op}`;
    default:
      return `${comm} calls ${op.op}`;
  }
}

/** The call graph's step (its state's key: mutex_lock, text_poke_sync, synchronize_rcu, …) for a call's phase. */
const CALL_STEP: ReadonlyMap<string, string> = (() => {
  const out = new Map<string, string>();
  for (const s of CALL_STATES.values()) {
    const phase = phaseOf(s);
    const fn = s.id.split('.')[1];
    if (phase !== undefined && fn !== undefined) out.set(`${fn}:${phase}`, s.key);
  }
  return out;
})();

function callStepOf(fn: ApiCall['fn'], phase: ApiPhase): string {
  return CALL_STEP.get(`${fn}:${phase}`) ?? phase;
}
