import { describe, expect, it } from 'vitest';
import { executeRun, type RunRecord } from '../src/explore/execute.ts';
import { blocksOf, contextSwitches, mergeMoves, reordered, type StepInfo } from '../src/explore/shrink-reorder.ts';
import { contextSwitchesOf, preemptionsOf, shrinkSchedule, type ShrinkSpec } from '../src/explore/shrink.ts';
import type { LoggedEvent } from '../src/model/events.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import type { Choice } from '../src/scheduler/choices.ts';
import { forcedStrategy } from '../src/scheduler/strategies.ts';
import { smallRace } from './explore-fixtures.ts';

// Issue 12, "Shrinking and explaining" step 1: reorder adjacent independent steps to remove
// context switches (src/explore/shrink-reorder.ts, run by src/explore/shrink.ts between ddmin
// rounds). The race of the small fixture under `disarm-without-sync` (R55: with no text-patch
// sync between the disarm and the unlink, a CPU that trapped before the disarm finds no probe)
// needs one ordering: rmmod on cpu0 runs its unregistration right after one of cpu1's traps.

const spec: ShrinkSpec = { scenario: smallRace, seed: 42, mutant: 'disarm-without-sync' };
const cpu = (c: number): Choice => ({ cpu: c, switch_to: null });

function run(s: ShrinkSpec, forced: Readonly<Record<number, Choice>>): { record: RunRecord; events: LoggedEvent[] } {
  const events: LoggedEvent[] = [];
  const record = executeRun({ ...s, strategy: forcedStrategy('explore', (i) => forced[i]), menus: true, stopAtFailure: true, onEvent: (e) => events.push(e) });
  return { record, events };
}

/** The decisions at which `type` was emitted by `cpuId`'s step, in the run `events`. */
function decisionsOf(events: readonly LoggedEvent[], type: string, cpuId: number): number[] {
  const out: number[] = [];
  let d = -1;
  for (const e of events) {
    if (e.type === 'sched.pick') d++;
    if (e.type === type && (e as { cpu?: number }).cpu === cpuId) out.push(d);
  }
  return out;
}

// The default schedule: cpu1 runs its reader while it can, so cpu1 traps on vfs_read at some
// decisions; rmmod's sleep has ended by the later ones (it wakes only when cpu1 is done).
const dflt = run(spec, {});
const traps = decisionsOf(dflt.events, 'kprobe.trap', 1);
// The second-to-last trap: rmmod is runnable there (its 30 ticks are long over) and cpu1 still has calls to make.
const d = traps.at(-2)!;

/**
 * The race told the long way round: cpu0 is preempted in at d (rmmod wakes), cpu1 back at d+1
 * (its trap, the step it would have made at d), cpu0 again at d+2 (the unregistration, while
 * cpu1's trap is in flight). Three preemptions, where one does: cpu0 at d+1, after the trap.
 */
const detour = { [d]: cpu(0), [d + 1]: cpu(1), [d + 2]: cpu(0) };

describe('blocks and context switches', () => {
  it('cuts decisions into blocks of one CPU; each boundary is a context switch', () => {
    const ds = [cpu(0), cpu(0), cpu(1), { cpu: 1, switch_to: 101 }, cpu(0), cpu(2)];
    expect(blocksOf(ds)).toEqual([
      { cpu: 0, start: 0, end: 2 },
      { cpu: 1, start: 2, end: 4 },
      { cpu: 0, start: 4, end: 5 },
      { cpu: 2, start: 5, end: 6 },
    ]);
    expect(contextSwitches(ds)).toBe(3);
    expect(contextSwitches([])).toBe(0);
  });

  it('proposes, for A1 B A2, B after A2 and B before A1; an invisible block jumped over first', () => {
    // 0 0 | 1 | 0 0 | 1: the merges are around block 1 (cpu1 at 2) and block 2 (cpu0 at 3-4).
    const ds = [cpu(0), cpu(0), cpu(1), cpu(0), cpu(0), cpu(1)];
    const step = (visible: boolean): StepInfo => ({ visible, what: visible ? 'text.disarm' : 'handler.spin' });
    // cpu0's steps 3-4 are invisible (a handler spinning), the rest visible.
    const steps = [step(true), step(true), step(true), step(false), step(false), step(true)];
    const moves = mergeMoves(ds, steps).map((m) => reordered(ds, m).map((c) => c.cpu).join(''));
    // Around cpu1's 2: past cpu0's invisible 3-4 (0 visible steps jumped) or before cpu0's 0-1
    // (2 visible). Around cpu0's 3-4: past cpu1's 5 or before cpu1's 2 (1 visible each; a tie
    // keeps B-later first). Fewest visible steps jumped first, then fewest steps.
    expect(moves).toEqual(['000011', '001100', '000011', '100001']);
    for (const m of moves) expect(contextSwitches([...m].map((c) => cpu(Number(c))))).toBeLessThan(contextSwitches(ds));
  });
});

describe('the reorder pass', () => {
  it('the fixture is what the test assumes: the detour fails with INV-removed-race, the default schedule does not', () => {
    expect(dflt.record.failure).toBeNull();
    // rmmod's sleep is over by the time of the trap at d: it can be preempted in there.
    const sleep = dflt.events.find((e) => e.type === 'task.sleep' && (e as { cpu?: number }).cpu === 0) as unknown as { until: number };
    let i = -1;
    const trapAtD = dflt.events.find((e) => (e.type === 'sched.pick' && ++i > d) || (i === d && e.type === 'kprobe.trap'))!;
    expect(trapAtD.type).toBe('kprobe.trap');
    expect(trapAtD.t).toBeGreaterThanOrEqual(sleep.until);
    const r = run(spec, detour).record;
    expect(r.failure?.check).toBe('INV-removed-race');
    expect(preemptionsOf(r).map((p) => p.at)).toEqual([d, d + 1, d + 2]);
  });

  it('ddmin alone keeps all three preemptions: every subset of them loses the race', () => {
    const r = run(spec, detour).record;
    const s = shrinkSchedule(spec, r.decisions.slice(0, r.failureAt), r.failure!, { reorder: false, advance: false });
    expect(s.preemptions.map((p) => p.at)).toEqual([d, d + 1, d + 2]);
  });

  it("moves cpu1's trap before rmmod's wake (they commute): one preemption, two context switches fewer, the same failure no later", () => {
    const r = run(spec, detour).record;
    const s = shrinkSchedule(spec, r.decisions.slice(0, r.failureAt), r.failure!, { advance: false });
    // cpu1 traps at d, cpu0 wakes at d+1 and runs on: the one preemption is cpu0 at d+1, labelled
    // with its step, rmmod's wake from its sleep.
    expect(s.preemptions).toEqual([{ at: d + 1, choice: cpu(0), label: 'cpu0: rmmod wakes' }]);
    expect(s.record.failure?.check).toBe('INV-removed-race');
    expect(s.record.failureAt).toBeLessThanOrEqual(r.failureAt);
    // The switches at d (cpu1 to cpu0) and d+1 (back) are gone; the rest of the run is as it was.
    expect(contextSwitchesOf(s.record)).toBe(contextSwitchesOf(r) - 2);
  });

  it('with advancing, the window moves to the first trap after rmmod can run: an earlier failure, still one preemption', () => {
    const r = run(spec, detour).record;
    const s = shrinkSchedule(spec, r.decisions.slice(0, r.failureAt), r.failure!);
    expect(s.preemptions).toHaveLength(1);
    expect(s.record.failure?.check).toBe('INV-removed-race');
    // The preemption follows one of cpu1's traps of the default schedule, the earliest at which
    // preempting fails: the ones before do not (checked one by one).
    const at = s.preemptions[0]!.at;
    expect(traps).toContain(at - 1);
    for (const t of traps.filter((x) => x + 1 < at)) expect(run(spec, { [t + 1]: cpu(0) }).record.failure).toBeNull();
    expect(s.record.failureAt).toBeLessThan(r.failureAt);
  });

  it('never accepts a candidate that fails differently: an expectation false when cpu1 is trapped at the time of decision d rules the merge out', () => {
    // The time at which decision d runs, read from the detour's events (rmmod's wake is at d).
    const wake = run(spec, detour).events.find((e) => e.type === 'task.wake' && (e as { cpu?: number }).cpu === 0)!;
    const scenario: Scenario = validateScenario({ ...smallRace, expect: [{ always: `all(c in cpus: !(c.trapped && t == ${wake.t}))`, name: 'no trap in flight at the time of decision d' }] });
    const guarded: ShrinkSpec = { ...spec, scenario };
    const r = run(guarded, detour).record;
    // The detour itself traps at d+1, after that time: it fails as before.
    expect(r.failure?.check).toBe('INV-removed-race');
    // The merge (the trap at d) now fails expect[0] first, and is not kept; nor is the other
    // merge (rmmod's whole unregistration before the trap: no trap in flight, no failure).
    const s = shrinkSchedule(guarded, r.decisions.slice(0, r.failureAt), r.failure!, { advance: false });
    expect(s.record.failure?.kind).toBe('invariant');
    expect(s.record.failure?.check).toBe('INV-removed-race');
    expect(s.preemptions.map((p) => p.at)).toEqual([d, d + 1, d + 2]);
    // Unguarded, the same input shrinks to one preemption (the test above): the guard is what stops it.
    expect(run(guarded, { [d + 1]: cpu(0) }).record.failure?.check).toBe('expect[0]');
  });

  it('is deterministic: the same input gives the same shrunk schedule and run', () => {
    const r = run(spec, detour).record;
    const a = shrinkSchedule(spec, r.decisions.slice(0, r.failureAt), r.failure!);
    const b = shrinkSchedule(spec, r.decisions.slice(0, r.failureAt), r.failure!);
    expect(b.preemptions).toEqual(a.preemptions);
    expect(b.record.decisions).toEqual(a.record.decisions);
    expect(b.runs).toBe(a.runs);
  });
});
