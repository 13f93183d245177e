import { describe, expect, it } from 'vitest';
import type { LoggedEvent } from '../src/model/events.ts';
import { initialState } from '../src/model/initial.ts';
import type { CpuState, Frame, KernelState, KretprobePool } from '../src/model/state.ts';
import { AggrOrderChecker } from '../src/monitors/inv-aggr-order.ts';
import { KretprobeChecker } from '../src/monitors/inv-kretprobe.ts';
import type { InvariantChecker } from '../src/monitors/checker.ts';
import { InvariantMonitor, type Violation } from '../src/monitors/invariants.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { ofType, scenario, trace, type Unstamped } from './helpers.ts';

// Issue 12's two monitor blind spots. INV-kretprobe now holds a pool's free count to the calls
// that hold its instances (R72, R75), so a leaked instance is named where the call returns and
// again when the pool then looks empty; INV-aggr-order checks that one point's children run
// newest-registered first (R9, R10, R11). Each is shown to pass the correct kernel on the
// built-ins that exercise it and to report a hand-built broken sequence.

/** Feeds hand-built steps (an event and the state after it) through one checker, in order. */
function fold(checker: InvariantChecker, start: KernelState, steps: readonly (readonly [Unstamped, KernelState])[]): Violation[] {
  const out: Violation[] = [];
  let before = start;
  steps.forEach(([e, after], i) => {
    checker.observe(before, { seq: i + 1, t: i + 1, ...e } as LoggedEvent, after, (seq, message) => out.push({ inv: checker.inv, seq, message }));
    before = after;
  });
  return out;
}

function withCpu(s: KernelState, id: number, patch: Partial<CpuState>): KernelState {
  const cpus = s.cpus.slice();
  cpus[id] = { ...cpus[id]!, ...patch };
  return { ...s, cpus };
}

describe('INV-kretprobe: free = maxactive − instances held by calls (R72, R75)', () => {
  const k0 = initialState(
    scenario({ cpus: 2, probes: [{ name: 'rp', kind: 'kretprobe', symbol: 'kernel_clone', maxactive: 1 }], tasks: [{ comm: 'a', program: [] }] }),
  );
  const pid = k0.tasks[0]!.pid;
  const pool = (p: Partial<KretprobePool>): KernelState['kretprobes'] => ({
    rp: { maxactive: 1, free: 1, nmissed: 0, attached: true, taken: 0, first: 1, slots: [0], held: {}, data: [0], ...p },
  });
  const frames = (f: Frame | null): KernelState['tasks'] => k0.tasks.map((t) => (t.pid === pid ? { ...t, frames: f } : t));
  const entry = { probe: 'rp', phase: 'pre' as const, step: 0, spin: 0, frames: null };
  const call: Frame = { fn: 'kernel_clone', pc: 0, up: null };

  // One call of kernel_clone on cpu 0, hooked by the kretprobe with a pool of one, as the fold
  // has it after each event: the entry handler takes rp#1 and hooks the frame (R73); the
  // function returns into the trampoline, which runs the return handler (R75).
  const s1 = withCpu({ ...k0, kretprobes: pool({ free: 0, taken: 1, slots: [], held: { 'rp#1': 0 } }) }, 0, { handler: { ...entry, instance: 'rp#1' } });
  const s2 = withCpu({ ...s1, tasks: frames({ ...call, rp: ['rp#1'] }) }, 0, { handler: null });
  const s3 = withCpu(s2, 0, { trampoline: { fn: 'kernel_clone', ret: 101, pending: ['rp#1'] } });
  const head: (readonly [Unstamped, KernelState])[] = [
    [{ src: 'kprobes', type: 'kretprobe.pool', cpu: 1, pid, probe: 'rp', maxactive: 1 }, { ...k0, kretprobes: pool({}) }],
    [{ src: 'cpu/0', type: 'kretprobe.take', cpu: 0, pid, probe: 'rp', instance: 'rp#1' }, s1],
    [{ src: 'cpu/0', type: 'kretprobe.hook', cpu: 0, pid, probe: 'rp', instance: 'rp#1', fn: 'kernel_clone' }, s2],
    [{ src: 'cpu/0', type: 'kretprobe.trampoline', cpu: 0, pid, fn: 'kernel_clone', ret: 101, instances: ['rp#1'] }, s3],
    [{ src: 'cpu/0', type: 'kretprobe.ret_handler', cpu: 0, pid, probe: 'rp', instance: 'rp#1', addr: '0xffffffff81000000' }, s3],
  ];
  const ret = { src: 'cpu/0', type: 'kretprobe.return', cpu: 0, pid, fn: 'kernel_clone', ret: 101 } as const;
  const end = { src: 'log', type: 'log.end', digest: 'x', reason: 'done' } as const;

  it('a call that gives its instance back before returning: nothing to report', () => {
    // R75: the instance goes back to the pool (free 1), then the real return drops the frame.
    const put = withCpu({ ...s3, kretprobes: pool({ taken: 1 }) }, 0, { trampoline: { fn: 'kernel_clone', ret: 101, pending: [] } });
    const done = withCpu({ ...put, tasks: frames(null) }, 0, { trampoline: null });
    const steps = [...head, [{ src: 'cpu/0', type: 'kretprobe.put', cpu: 0, pid, probe: 'rp', instance: 'rp#1', reason: 'returned' }, put], [ret, done], [end, done]] as const;
    expect(fold(new KretprobeChecker(), k0, steps)).toEqual([]);
  });

  it('a leaked instance is reported where its call returns, and the empty pool is not taken for a legitimate miss', () => {
    // The broken kernel returns without giving rp#1 back: the pool stays at 0 free with no call
    // holding anything, so the next entry hit finds it empty (R73) although maxactive is 1.
    const leaked = withCpu({ ...s3, tasks: frames(null) }, 0, { trampoline: null });
    const steps = [...head, [ret, leaked], [{ src: 'cpu/1', type: 'kretprobe.miss', cpu: 1, pid, probe: 'rp', reason: 'empty' }, leaked]] as const;
    expect(fold(new KretprobeChecker(), k0, steps)).toEqual([
      { inv: 'INV-kretprobe', seq: 6, message: 'kernel_clone returned on cpu 0 without giving back instance rp#1: it leaks from rp\'s pool (R75)' },
      { inv: 'INV-kretprobe', seq: 7, message: 'rp: 0 free of maxactive 1 with 0 held by calls, 1 instance leaked: neither free nor held by a call (R72, R75)' },
    ]);
  });

  it('an instance counted free while a call still holds it is reported', () => {
    // A put that freed the slot while the frame still has rp#1 hooked (no trampoline walk yet).
    const twice = { ...s2, kretprobes: pool({ taken: 1 }) };
    const v = fold(new KretprobeChecker(), k0, [...head.slice(0, 3), [end, twice]]);
    expect(v.map((x) => x.message)).toEqual(['rp: 1 free of maxactive 1 with 1 held by calls, 1 instance counted free while a call holds it (R72, R75)']);
  });

  for (const seed of [1, 2, 3]) {
    it(`kretprobe-pool (seed ${seed}): the correct kernel's pool runs dry without a violation; dropping a put is named`, () => {
      const t = trace(BUILTIN_SCENARIOS.get('kretprobe-pool')!, { seed });
      expect(t.violations).toEqual([]);
      // The checks ran where they matter: calls returned and hits found the pool empty.
      expect(ofType(t.events, 'kretprobe.miss').length).toBeGreaterThan(0);
      expect(ofType(t.events, 'kretprobe.return').length).toBeGreaterThan(0);
      // The same run with its first returning put left out of the log: the call leaks it.
      const m = new InvariantMonitor();
      const start = initialState(BUILTIN_SCENARIOS.get('kretprobe-pool')!);
      const drop = t.events.findIndex((e) => e.type === 'kretprobe.put' && e.reason === 'returned');
      t.events.forEach((e, i) => {
        if (i !== drop) m.observe(i === 0 ? start : t.states[i - 1]!, e, t.states[i]!);
      });
      const put = t.events[drop] as Extract<LoggedEvent, { type: 'kretprobe.put' }>;
      expect(m.violations.filter((v) => v.inv === 'INV-kretprobe').map((v) => v.message)[0]).toMatch(
        new RegExp(`^kernel_clone returned on cpu ${put.cpu} without giving back instance ${put.instance}: it leaks from rp's pool \\(R75\\)$`),
      );
    });
  }
});

describe('INV-aggr-order: one point\'s children run newest-registered first (R9, R10, R11)', () => {
  const s0 = initialState(scenario({ cpus: 2, probes: [{ name: 'first', symbol: 'kernel_clone' }, { name: 'second', symbol: 'kernel_clone' }], tasks: [{ comm: 'a', program: [] }] }));
  const ADDR = '0xffffffff81000000' as const;
  const insert = (probe: string): Unstamped => ({ src: 'kprobes', type: 'kprobe.insert', cpu: 0, pid: 100, probe, addr: ADDR, bucket: 0, handle: probe, disabled: false });
  const hit = (probes: string[]): Unstamped => ({ src: 'cpu/1', type: 'kprobe.hit', cpu: 1, pid: 101, addr: ADDR, probes });
  const enter = (probe: string, phase: 'pre' | 'post'): Unstamped => ({ src: 'cpu/1', type: 'handler.enter', cpu: 1, probe, phase });
  const skip = (probe: string, phase: 'pre' | 'post'): Unstamped => ({ src: 'cpu/1', type: 'handler.skip', cpu: 1, probe, phase, reason: 'no_handler' });
  const run = (events: Unstamped[]) => fold(new AggrOrderChecker(), s0, events.map((e) => [e, s0] as const));

  it('second registered after first: its list, and its pre- and post-handlers, come first', () => {
    expect(run([insert('first'), insert('second'), hit(['second', 'first']), enter('second', 'pre'), enter('first', 'pre'), skip('second', 'post'), enter('first', 'post')])).toEqual([]);
    // A new hit starts a new walk.
    expect(run([insert('first'), insert('second'), hit(['second', 'first']), enter('first', 'pre'), hit(['second', 'first']), enter('second', 'pre')])).toEqual([]);
  });

  it('a hit whose list has the older child first is reported (list_add_rcu links at the front)', () => {
    expect(run([insert('first'), insert('second'), hit(['first', 'second'])])).toEqual([
      { inv: 'INV-aggr-order', seq: 3, message: `the hit at ${ADDR} lists first before second, which was registered later: list_add_rcu puts a new child first (R9)` },
    ]);
  });

  it('handlers walked oldest first are reported, in the pre and in the post phase', () => {
    expect(run([insert('first'), insert('second'), hit(['second', 'first']), enter('first', 'pre'), enter('second', 'pre')]).map((v) => v.message)).toEqual([
      "cpu 1: pre-handler of second reached after first's, but second was registered later: children run newest first (R9, R10)",
    ]);
    expect(run([insert('first'), insert('second'), hit(['second', 'first']), enter('first', 'post'), skip('second', 'post')]).map((v) => v.message)).toEqual([
      "cpu 1: post-handler of second reached after first's, but second was registered later: children run newest first (R9, R11)",
    ]);
  });

  for (const name of ['aggregate', 'unregister-shared-point']) {
    for (const seed of [1, 2, 3]) {
      it(`${name} (seed ${seed}): the correct kernel runs newest first; the same run with the hit's list reversed is reported`, () => {
        const t = trace(BUILTIN_SCENARIOS.get(name)!, { seed });
        expect(t.violations).toEqual([]);
        const at = t.events.findIndex((e) => e.type === 'kprobe.hit' && e.probes.length > 1);
        expect(at).toBeGreaterThan(-1);
        const m = new InvariantMonitor();
        const start = initialState(BUILTIN_SCENARIOS.get(name)!);
        t.events.forEach((e, i) => {
          const seen = i === at && e.type === 'kprobe.hit' ? { ...e, probes: [...e.probes].reverse() } : e;
          m.observe(i === 0 ? start : t.states[i - 1]!, seen, t.states[i]!);
        });
        expect(m.violations.filter((v) => v.inv === 'INV-aggr-order').map((v) => v.seq)).toEqual([t.events[at]!.seq]);
      });
    }
  }
});
