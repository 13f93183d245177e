import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../src/actors/simulation.ts';
import { ExpectMonitor } from '../src/expect/monitor.ts';
import type { LoggedEvent } from '../src/model/events.ts';
import type { KernelState } from '../src/model/state.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import type { Expectation, Scenario } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { randomStrategy } from '../src/scheduler/strategies.ts';
import { cliInProcess } from './cli-in-process.ts';

// A scenario's expect assertions at run time (docs/expect.md): `always` after every event, `at_end`
// on the final state; a failure names the expectation, the seq and the values that decided it, is
// kind "expect" for explore, and makes `kprobesim run` exit 1.

/** Two CPUs enter vfs_read's probe, whose pre-handler spins: R20 lets both run it at once. */
function twoReaders(expect: Expectation[]): Scenario {
  return validateScenario({
    name: 'two-readers',
    cpus: 2,
    probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 30 }] }],
    tasks: [
      { comm: 'insmod', cpu: 0, program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'vfs_read', times: 3 }] },
      { comm: 'cat', cpu: 1, program: [{ op: 'sleep', ticks: 5 }, { op: 'call', fn: 'vfs_read', times: 3 }] },
    ],
    expect,
  });
}

function runWith(s: Scenario, seed: number) {
  const monitor = ExpectMonitor.of(s)!;
  const states: KernelState[] = [];
  const events: LoggedEvent[] = [];
  const sim = new Simulation(s, { seed, strategy: randomStrategy(seed), projections: [monitor, { observe: (_b, _e, a) => states.push(a) }] });
  sim.events$.subscribe((e) => events.push(e));
  sim.run();
  return { failures: monitor.failures, states, events };
}

const ONE_CPU = { always: 'count(c in cpus: c.handler == "kp") <= 1', name: "kp's handlers never run on two CPUs at once" };

describe('expect assertions while a scenario runs', () => {
  it('an "always" condition fails at the first event after which it is false, with the values that decided it', () => {
    const s = twoReaders([ONE_CPU]);
    for (const seed of [1, 2, 3]) {
      const { failures, states } = runWith(s, seed);
      // Where it must fail, found from the fold without the expression language: the first state
      // in which both CPUs are inside kp's handler.
      const first = states.find((st) => st.cpus.filter((c) => c.handler?.probe === 'kp').length === 2);
      expect(first, `seed ${seed}: the handlers overlap (R20)`).toBeDefined();
      expect(failures).toEqual([
        {
          kind: 'expect',
          index: 0,
          mode: 'always',
          name: ONE_CPU.name,
          expr: ONE_CPU.always,
          seq: first!.seq,
          message: `expect[0] "${ONE_CPU.name}" (always) is false after seq ${first!.seq}: count(c in cpus: c.handler == "kp") is 2`,
        },
      ]);
    }
  });

  it('with one reader the same condition holds throughout', () => {
    const s = validateScenario({ ...twoReaders([ONE_CPU]), tasks: [twoReaders([]).tasks[0]!] });
    expect(runWith(s, 1).failures).toEqual([]);
  });

  it('"at_end" is checked once, on the state the run ends with', () => {
    // Every hit of kp is handled (nothing nests, nothing is disabled): pre_calls == hits == 6.
    const s = twoReaders([
      { at_end: 'probes.kp.pre_calls == probes.kp.hits && probes.kp.hits == 6' },
      { at_end: 'probes.kp.nmissed > 0', name: 'some hit was missed' },
      // False at the start (nothing registered yet), true at the end: at_end does not look before.
      { at_end: 'probes.kp.registered && exited == 2' },
    ]);
    const { failures, events } = runWith(s, 4);
    const end = events.at(-1)!;
    expect(end.type).toBe('log.end');
    expect(failures).toEqual([
      expect.objectContaining({ index: 1, mode: 'at_end', seq: end.seq, message: `expect[1] "some hit was missed" (at_end) is false at the end (seq ${end.seq}): probes.kp.nmissed is 0` }),
    ]);
  });

  it('explains an all() by its first counter-example, and a division by zero as such', () => {
    const s = twoReaders([
      { always: 'all(c in cpus: c.handler == null)' },
      { always: '10 / (probes.kp.hits - probes.kp.hits) > 0' },
    ]);
    const { failures } = runWith(s, 1);
    expect(failures.map((f) => f.message.replace(/ after seq \d+/, ''))).toEqual([
      'expect[1] 10 / (probes.kp.hits - probes.kp.hits) > 0 (always) is false: division by zero',
      expect.stringMatching(/^expect\[0\] all\(c in cpus: c\.handler == null\) \(always\) is false: not for cpu [01]: c\.handler is "kp"$/),
    ]);
    // The division fails at the first event (hits is 0 from the start); the handler one later.
    expect(failures[0]!.seq).toBe(1);
  });

  it('printk-recursion: kp_printk misses the hits from handlers (R50, R52), and the accounting of R53 holds', async () => {
    const s: Scenario = {
      ...BUILTIN_SCENARIOS.get('printk-recursion')!,
      expect: [
        { at_end: 'probes.kp_printk.nmissed > 0 && probes.kp_printk.hits == probes.kp_printk.handled + probes.kp_printk.nmissed' },
        { always: 'all(c in cpus: c.handler != null => c.preempt_count > 0)', name: 'handlers run with preemption off (R59)' },
        { at_end: 'all(p in probes: p.hits == p.handled + p.nmissed + p.skipped)' },
      ],
    };
    const r = await recordRun(validateScenario(s), { seed: 42, strategy: 'random' }, null);
    expect(r.expectFailures).toEqual([]);
    expect(r.violations).toEqual([]);
  });

  it('kprobesim run prints the verdicts and exits 1 when one fails; a type error is exit 2 naming the place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kprobesim-expect-'));
    const file = join(dir, 'two.json');
    writeFileSync(file, JSON.stringify(twoReaders([ONE_CPU, { at_end: 'probes.kp.hits == 6' }])));
    const r = await cliInProcess(['run', file, '--no-log', '--seed', '2']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^expectations: 1 of 2 FAILED\n {2}expect\[0\] "kp's handlers never run on two CPUs at once" \(always\) is false after seq \d+: count\(c in cpus: c\.handler == "kp"\) is 2$/m);
    expect(r.out).toContain('invariants: all hold');

    const ok = join(dir, 'ok.json');
    writeFileSync(ok, JSON.stringify(twoReaders([{ at_end: 'probes.kp.hits == 6' }])));
    const good = await cliInProcess(['run', ok, '--no-log']);
    expect(good.code).toBe(0);
    expect(good.out).toContain('expectations: all 1 hold');

    const typo = join(dir, 'typo.json');
    writeFileSync(typo, JSON.stringify({ ...twoReaders([]), expect: [{ always: 'true' }, { always: 'count(c in cpus: probes.kp.hitz > 0) > 0' }] }));
    const bad = await cliInProcess(['run', typo, '--no-log']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^kprobesim: .*typo\.json: scenario\.expect\[1\]\.always:1:28: unknown field "hitz" of a probe \(expected one of .*; did you mean "hits"\?\)\n$/);
  });

  it('a log keeps its scenario\'s expectations: the header carries them and replay re-executes identically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kprobesim-expect-log-'));
    const file = join(dir, 's.json');
    writeFileSync(file, JSON.stringify(twoReaders([ONE_CPU])));
    const log = join(dir, 'run.jsonl');
    expect((await cliInProcess(['run', file, '--log', log, '--seed', '3'])).code).toBe(1);
    const replay = await cliInProcess(['replay', log]);
    expect(replay.code).toBe(0);
    expect(replay.out).toMatch(/identical/);
  });
});
