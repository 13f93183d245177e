import { describe, expect, it } from 'vitest';
import { executeRun, type RunRecord } from '../src/explore/execute.ts';
import { LABEL_WINDOW, labelReplay, type LabelledPreemption } from '../src/explore/shrink-replay.ts';
import type { LoggedEvent } from '../src/model/events.ts';
import type { Choice } from '../src/scheduler/choices.ts';
import { forcedStrategy, type Strategy } from '../src/scheduler/strategies.ts';
import { smallRace } from './explore-fixtures.ts';

// Issue 12, "Shrinking and explaining" (2): a shrink candidate is replayed leniently by labelled
// decisions (src/explore/shrink-replay.ts). A kept preemption whose choice is not on the menu at
// its decision index (the run before it changed length: an earlier preemption left out, the
// window advanced) is applied at the first decision within LABEL_WINDOW after it where the choice
// with its label is; replaying by index alone skips it.
//
// The fixture, on the correct kernel: rmmod on cpu0 wakes right after one of cpu1's int3 traps
// and calls unregister_kprobe(kp); it disarms the point and then waits in text_poke_sync for
// cpu1, which is in the int3 path (R55, R56): cpu0 is off the menu until cpu1 has finished that
// hit (its ipi.ack), and the default schedule then keeps cpu1 running.

const cpu0: Choice = { cpu: 0, switch_to: null };
const spec = { scenario: smallRace, seed: 42, menus: true, stopAtFailure: true } as const;

interface Traced {
  readonly record: RunRecord;
  /** Each decision's sched.pick. */
  readonly picks: readonly { cpu: number; label: string }[];
}

function traced(strategy: Strategy, labelChoices?: Parameters<typeof executeRun>[0]['labelChoices']): Traced {
  const picks: { cpu: number; label: string }[] = [];
  const onEvent = (e: LoggedEvent) => {
    if (e.type === 'sched.pick') picks.push({ cpu: e.cpu, label: e.label! });
  };
  const record = executeRun(labelChoices === undefined ? { ...spec, strategy, onEvent } : { ...spec, strategy, onEvent, labelChoices });
  return { record, picks };
}

const byIndex = (forced: readonly LabelledPreemption[]) => {
  const at = new Map(forced.map((p) => [p.at, p.choice]));
  return traced(forcedStrategy('explore', (i) => at.get(i)));
};
const byLabels = (forced: readonly LabelledPreemption[]) => {
  const replay = labelReplay(forced);
  return { ...traced(replay.strategy, replay.labelChoices), applied: replay.applied };
};

// The default schedule's traps of cpu1; the second-to-last falls after rmmod's 30-tick sleep.
const dflt = traced(forcedStrategy('explore', () => undefined));
const traps = dflt.picks.flatMap((p, i) => (p.cpu === 1 && p.label === 'cpu1: int3 kp' ? [i] : []));
const d = traps.at(-2)!;
const wake: LabelledPreemption = { at: d + 1, choice: cpu0, label: 'cpu0: rmmod wakes' };
const waking = byIndex([wake]);
const onMenu = waking.record.menus!.map((m) => m.some((c) => c.cpu === 0 && c.switch_to === null));
/** The first decision after the wake where cpu0 is blocked, and the first after that where it can step again. */
const blocked = onMenu.findIndex((x, i) => i > d + 1 && !x);
const ready = onMenu.findIndex((x, i) => i > blocked && x);
// The step rmmod takes when it is preempted in as soon as it can run again, read from that run.
const resumed = byIndex([wake, { at: ready, choice: cpu0, label: '' }]).picks[ready]!.label;

describe('replaying a shrink candidate by labels', () => {
  it('the fixture is what the test assumes: rmmod wakes after the trap, blocks in its unregistration, and can step again later', () => {
    expect(waking.picks[d + 1]).toEqual({ cpu: 0, label: 'cpu0: rmmod wakes' });
    expect(blocked).toBeGreaterThan(d + 1);
    // Blocked for longer than the window: the cases below fall inside it.
    expect(ready - blocked).toBeGreaterThan(LABEL_WINDOW);
    // By default cpu1 runs on when cpu0 is back on the menu.
    expect(waking.picks[ready]!.cpu).toBe(1);
    // What rmmod does then is the rest of its unregister_kprobe(kp) call.
    expect(resumed).toMatch(/^cpu0: rmmod unregister_kprobe\(kp\) /);
  });

  it('a preemption whose index falls while its CPU is still blocked is applied where its labelled step becomes possible; by index it is skipped', () => {
    const late: LabelledPreemption = { at: ready - 3, choice: cpu0, label: resumed };
    const lenient = byLabels([wake, late]);
    expect(lenient.applied).toEqual([d + 1, ready]);
    expect(lenient.picks[ready]).toEqual({ cpu: 0, label: resumed });
    // Replayed by index the same candidate loses it: cpu0 is off the menu at ready-3, so that
    // decision is the default one and nothing brings cpu0 in at `ready`.
    const exact = byIndex([wake, late]);
    expect(exact.record.menus![ready - 3]!.some((c) => c.cpu === 0)).toBe(false);
    expect(exact.picks[ready]!.cpu).toBe(1);
    expect(exact.record.decisions).toEqual(waking.record.decisions);
  });

  it('on the menu at its index, a preemption is applied there, as by index; the window is bounded; runs are deterministic', () => {
    expect(byLabels([wake]).record.decisions).toEqual(waking.record.decisions);
    // More than LABEL_WINDOW decisions before its step is possible: skipped, as by index.
    const tooEarly: LabelledPreemption = { at: ready - LABEL_WINDOW - 1, choice: cpu0, label: resumed };
    expect(onMenu[tooEarly.at]).toBe(false);
    const skipped = byLabels([wake, tooEarly]);
    expect(skipped.applied).toEqual([d + 1, null]);
    expect(skipped.record.decisions).toEqual(waking.record.decisions);
    // The same candidate gives the same run.
    const late: LabelledPreemption = { at: ready - 3, choice: cpu0, label: resumed };
    const a = byLabels([wake, late]);
    const b = byLabels([wake, late]);
    expect(b.record.decisions).toEqual(a.record.decisions);
    expect(b.picks).toEqual(a.picks);
    expect(b.applied).toEqual(a.applied);
  });
});
