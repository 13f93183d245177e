import { describe, expect, it } from 'vitest';
import { Simulation } from '../src/actors/simulation.ts';
import type { LoggedEvent } from '../src/model/events.ts';
import { MemoryLog } from '../src/log/writer.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { roundRobinStrategy } from '../src/scheduler/strategies.ts';
import { checkLabel } from './label-checker.ts';

// Issue 12, "Shrinking and explaining": each decision of a log carries a label saying what its
// step does (src/scheduler/label.ts), read from the state before the step. These tests check the
// labels against the kernel path the step follows (docs/rules.md §6 for the hit, §3 and §8 for
// the calls), and against the events every step of real runs emits.

type Ev = LoggedEvent & Record<string, unknown>;

/** Each decision's label with the events its step emitted on the chosen CPU. */
function steps(events: readonly Ev[]): { label: string; cpu: number; events: Ev[] }[] {
  const out: { label: string; cpu: number; events: Ev[] }[] = [];
  for (const e of events) {
    if (e.type === 'sched.pick') out.push({ label: e.label as string, cpu: e.cpu as number, events: [] });
    else if (out.length > 0 && e.cpu === out.at(-1)!.cpu) out.at(-1)!.events.push(e);
  }
  return out;
}

describe('decision labels', () => {
  it('say what each step of a register, a hit and an unregister on one CPU does, in kernel words', () => {
    // One CPU and one task: the schedule is forced, so every step is known in advance.
    const scenario = validateScenario({
      name: 'one-hit',
      description: 'register, hit once, unregister',
      cpus: 1,
      probes: [{ name: 'kp', symbol: 'just_return_func', pre: [{ do: 'spin', steps: 2 }, { do: 'print', text: 'hi' }] }],
      tasks: [{ comm: 'insmod', pid: 100, cpu: 0, program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'just_return_func' }, { op: 'unregister_kprobe', probe: 'kp' }] }],
    });
    const sim = new Simulation(scenario, { seed: 1, strategy: roundRobinStrategy(), labels: true });
    const labels: string[] = [];
    sim.events$.subscribe((e) => {
      if (e.type === 'sched.pick') labels.push(e.label!);
    });
    sim.run();
    // The printk's own instructions (the handler's call into _printk) are left out: one label each.
    const told = labels.filter((l) => !/ runs (_printk|vprintk|vprintk_emit|do_exit|exit_mm)\+/.test(l));
    expect(told).toEqual([
      // The task is switched onto the idle CPU; that step starts register_kprobe (its checks, R21-R28).
      'cpu0: switch to insmod (pid 100)',
      // §3: kprobe_mutex, then into the table before the breakpoint is written (R18), then the
      // int3 and its text_poke_sync, which waits for no other CPU here (one CPU), so the same step
      // ends it and the next unlocks.
      'cpu0: insmod register_kprobe(kp) mutex_lock',
      'cpu0: insmod register_kprobe(kp) hlist_add_head_rcu',
      'cpu0: insmod register_kprobe(kp) arm_kprobe',
      'cpu0: insmod register_kprobe(kp) mutex_unlock',
      // The call's first instruction is the armed point: the int3, then kprobe_int3_handler's
      // lookup finds kp with no kprobe running (a hit, R46).
      'cpu0: insmod calls just_return_func',
      'cpu0: int3 kp',
      'cpu0: kp hit',
      // aggr_pre_handler: kp's pre-handler, its steps one at a time (spin 2, print), its return.
      'cpu0: kp pre-handler',
      'cpu0: kp pre-handler spin',
      'cpu0: kp pre-handler spin',
      'cpu0: kp pre-handler print',
      'cpu0: kp pre-handler returns',
      // No more children: setup_singlestep (R47.3), then the trap after the copy (R48), then
      // aggr_post_handler finds no post-handler, and kprobe_post_process's end (R49).
      'cpu0: single-step kp',
      'cpu0: kp single-step done',
      'cpu0: kp has no post-handler',
      'cpu0: kp done',
      // §8: unregister_kprobe: the mutex, the disarm (its sync waits for no one), the unlink,
      // the unlock, then the grace period (R65, R67).
      'cpu0: insmod calls unregister_kprobe(kp)',
      'cpu0: insmod unregister_kprobe(kp) mutex_lock',
      'cpu0: insmod unregister_kprobe(kp) __disable_kprobe',
      'cpu0: insmod unregister_kprobe(kp) hlist_del_rcu',
      'cpu0: insmod unregister_kprobe(kp) mutex_unlock',
      'cpu0: insmod unregister_kprobe(kp) synchronize_rcu',
      // No operation left: the task calls do_exit.
      'cpu0: insmod exits',
    ]);
    // The handler's print calls _printk: its first instruction is the step after the print.
    expect(labels[labels.indexOf('cpu0: kp pre-handler print') + 1]).toBe('cpu0: kp pre-handler runs _printk+0x0');
  });

  it('while CPU 1 sits in the handler, CPU 0 unregistering names the call step it waits at (unregister-race)', async () => {
    const log = new MemoryLog();
    await recordRun(BUILTIN_SCENARIOS.get('unregister-race')!, { seed: 1, strategy: 'random' }, log);
    const labels = log.lines.flatMap((l) => (l.includes('"sched.pick"') ? [(JSON.parse(l) as { label: string }).label] : []));
    const at = (label: string) => labels.indexOf(label);
    // The scenario's rmmod disarms kp ("slow") while CPU 1 is between its hit and its end.
    expect(at('cpu1: slow hit')).toBeLessThan(at('cpu0: rmmod unregister_kprobe(slow) __disable_kprobe'));
    expect(at('cpu0: rmmod unregister_kprobe(slow) __disable_kprobe')).toBeLessThan(at('cpu1: slow done'));
    // R55: the text-patch sync waits for CPU 1 (interrupts off in the breakpoint handler), so the
    // step that ends it is offered only after CPU 1's kprobe is done; then the unlink, and the
    // grace period last (R65, R67).
    expect(at('cpu0: rmmod unregister_kprobe(slow) text_poke_sync')).toBeGreaterThan(at('cpu1: slow done'));
    expect(at('cpu0: rmmod unregister_kprobe(slow) hlist_del_rcu')).toBeGreaterThan(at('cpu0: rmmod unregister_kprobe(slow) text_poke_sync'));
    expect(at('cpu0: rmmod unregister_kprobe(slow) synchronize_rcu')).toBeGreaterThan(at('cpu0: rmmod unregister_kprobe(slow) mutex_unlock'));
    // In between, CPU 1 runs its handler's steps: the spin of its pre-handler, one label per iteration.
    expect(labels.filter((l) => l === 'cpu1: slow pre-handler spin').length).toBeGreaterThan(1);
  });

  // Every built-in scenario, two seeds each: every label is of a known kind and its step emitted
  // the events that kind of step emits (test/label-checker.ts).
  const runs = [...BUILTIN_SCENARIOS.keys()].flatMap((name) => [1, 2].map((seed) => [name, seed] as const));
  it.each(runs)('in %s seed %i every step does what its label says', async (name, seed) => {
    const scenario = BUILTIN_SCENARIOS.get(name)!;
    const log = new MemoryLog();
    await recordRun(scenario, { seed, strategy: 'random' }, log);
    const events = log.lines.slice(1).map((l) => JSON.parse(l) as Ev);
    const sim = new Simulation(scenario, { seed, strategy: roundRobinStrategy() });
    const wrong = steps(events).flatMap((s) => {
      const why = checkLabel(sim.setup, s.label, s.cpu, s.events);
      return why === null ? [] : [why];
    });
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('the checker refuses a label its step does not bear out', () => {
    const setup = new Simulation(BUILTIN_SCENARIOS.get('default')!, { seed: 1, strategy: roundRobinStrategy() }).setup;
    const exec = { seq: 9, t: 4, src: 'cpu/0', type: 'insn.exec', cpu: 0, pid: 100, ip: '0xffffffff81000000', ctx: 'task' } as unknown as Ev;
    expect(checkLabel(setup, 'cpu0: int3 kp', 0, [exec])).toMatch(/expected one of kprobe.trap/);
    expect(checkLabel(setup, 'cpu1: int3 kp', 0, [exec])).toMatch(/does not name cpu0/);
    expect(checkLabel(setup, 'cpu0: bash runs kernel_clone+0x1', 0, [exec])).not.toBeNull();
    expect(checkLabel(setup, 'cpu0: bash runs kernel_clone+0x0', 0, [exec])).toBeNull();
    expect(checkLabel(setup, 'cpu0: something new', 0, [exec])).toMatch(/no kind the checker knows/);
  });

  it('a run without a log computes no labels; a logged run labels every decision', async () => {
    const scenario = BUILTIN_SCENARIOS.get('default')!;
    const picks: LoggedEvent[] = [];
    const sim = new Simulation(scenario, { seed: 3, strategy: roundRobinStrategy() });
    sim.events$.subscribe((e) => e.type === 'sched.pick' && picks.push(e));
    sim.run();
    expect(picks.every((p) => !('label' in p))).toBe(true);
    const log = new MemoryLog();
    await recordRun(scenario, { seed: 3, strategy: 'round-robin' }, log);
    const logged = log.lines.filter((l) => l.includes('"type":"sched.pick"'));
    expect(logged.length).toBe(picks.length);
    // The label comes last, after the decision it describes (the fast replay path reads the decision first).
    expect(logged.every((l) => /,"cpu":(\d+),"switch_to":(null|\d+),"label":"cpu\1: [^"]+"\}$/.test(l))).toBe(true);
  });
});
