import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../src/actors/simulation.ts';
import { MUTANT_INFO, MUTANTS, type MutantName } from '../src/kprobes/mutants.ts';
import { checkHeader } from '../src/log/header.ts';
import { MemoryLog } from '../src/log/writer.ts';
import type { LoggedEvent } from '../src/model/events.ts';
import { InvariantMonitor, type Violation } from '../src/monitors/invariants.ts';
import { replayLog } from '../src/replay/replay.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { randomStrategy } from '../src/scheduler/strategies.ts';
import { cliInProcess } from './cli-in-process.ts';
import { indexOf, ofType } from './helpers.ts';

// Planted-bug kernels (issue 12): each mutant breaks one kernel rule at one step, and a normal run
// of a scenario that exercises that step holds every invariant while the same run with the mutant
// is caught by the invariant the mutant names. The mutants test the monitors.

interface Run {
  readonly events: LoggedEvent[];
  readonly violations: readonly Violation[];
}

function run(name: string, seed: number, mutant?: MutantName, patch: Partial<Scenario> = {}): Run {
  const monitor = new InvariantMonitor();
  const sim = new Simulation({ ...BUILTIN_SCENARIOS.get(name)!, ...patch }, { seed, strategy: randomStrategy(seed), projections: [monitor], ...(mutant ? { mutant } : {}) });
  const events: LoggedEvent[] = [];
  sim.events$.subscribe((e) => events.push(e));
  sim.run();
  return { events, violations: monitor.violations };
}

const invs = (r: Run) => [...new Set(r.violations.map((v) => v.inv))];

describe('kprobesim mutants and --mutant', () => {
  it('lists every mutant with one line: its name, the rule it breaks, the invariant that catches it', async () => {
    const r = await cliInProcess(['mutants']);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual([...MUTANTS]);
    for (const m of MUTANTS) {
      const line = lines.find((l) => l.startsWith(`${m} `))!;
      expect(line).toContain(`caught by ${MUTANT_INFO[m].caughtBy}`);
      expect(line).toContain(`breaks ${MUTANT_INFO[m].rules.join(', ')}`);
    }
    // The four the issue names, and one per historical fix of the spec (R54-R56, v6.3).
    expect(MUTANTS).toEqual(expect.arrayContaining(['no-grace-period', 'arm-before-insert', 'no-reenter-check', 'disarm-without-sync', 'int3-sync-gap']));
  });

  it('an unknown mutant is bad input (exit 2) that names every valid one', async () => {
    const r = await cliInProcess(['run', '--no-log', '--mutant', 'no-such-bug']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    for (const m of MUTANTS) expect(r.err).toContain(m);
  });

  it('a mutant run says so, its log header carries the mutant, and replay re-executes the same kernel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kprobesim-mutants-'));
    const log = join(dir, 'ngp.jsonl');
    const r = await cliInProcess(['run', 'unregister-shared-point', '--seed', '3', '--mutant', 'no-grace-period', '--log', log]);
    // INV-unregister is violated: exit 1.
    expect(r.code).toBe(1);
    expect(r.out).toContain('MUTANT kernel: no-grace-period');
    expect(r.out).toMatch(/INV-unregister: VIOLATED/);
    const header = JSON.parse(readFileSync(log, 'utf8').split('\n')[0]!);
    expect(header.mutant).toBe('no-grace-period');
    expect(checkHeader(header)).toBeNull();
    // The correct kernel would make other events (its grace period waits): only replaying with the
    // header's mutant gives the logged events back.
    expect(await replayLog(log)).toMatchObject({ kind: 'identical' });
    expect((await cliInProcess(['state', log])).code).toBe(0);
  });

  it('a correct run has no "mutant" in its header (its bytes are what they were); a bad one is refused', async () => {
    const w = new MemoryLog();
    await recordRun(BUILTIN_SCENARIOS.get('default')!, { seed: 1, strategy: 'random' }, w);
    const header = JSON.parse(w.text().split('\n')[0]!);
    expect('mutant' in header).toBe(false);
    expect(checkHeader({ ...header, mutant: 'typo' })).toBe(`log header field "mutant" is "typo" (expected one of ${MUTANTS.map((m) => `"${m}"`).join(', ')})`);
  });
});

describe('each mutant is caught by the invariant it names, and the correct kernel is not', () => {
  it('no-grace-period (R65, R67): unregister_kprobe(slow) returns while cpu 1 is still in its handler: INV-unregister', () => {
    // unregister-shared-point: keeper keeps vfs_read's breakpoint armed, so unregistering slow
    // disarms nothing and no text-patch sync waits (R13, R64). CPU 1 spins 400 steps in slow's
    // pre-handler from its first call (t ≈ 40) while CPU 0 sleeps until t = 300: when CPU 0
    // unregisters, CPU 1 is in the handler, and only the grace period can wait for it.
    for (const seed of [1, 2, 3, 4, 5]) {
      const good = run('unregister-shared-point', seed);
      expect(good.violations, `seed ${seed}`).toEqual([]);
      const gp = ofType(good.events, 'rcu.gp.start').find((e) => e.pid === 100);
      expect(gp?.waiting, `seed ${seed}: the correct grace period waits for cpu 1`).toEqual([1]);
      expect(ofType(good.events, 'text.disarm')).toEqual([]);

      const bad = run('unregister-shared-point', seed, 'no-grace-period');
      expect(invs(bad), `seed ${seed}`).toEqual(['INV-unregister']);
      expect(bad.violations[0]!.message).toBe('unregister_kprobe(slow) returned while cpu 1 is still in it (R67)');
      expect(ofType(bad.events, 'rcu.gp.start').find((e) => e.pid === 100)?.waiting).toEqual([]);
    }
  });

  it('arm-before-insert (R18): the breakpoint is written before the probe is in the table: INV-text at that text.arm', () => {
    for (const seed of [1, 2]) {
      const good = run('default', seed);
      expect(good.violations).toEqual([]);
      // The correct order: insert, then arm.
      expect(indexOf(good.events, (e) => e.type === 'kprobe.insert')).toBeLessThan(indexOf(good.events, (e) => e.type === 'text.arm'));

      const bad = run('default', seed, 'arm-before-insert');
      const arm = indexOf(bad.events, (e) => e.type === 'text.arm');
      const insert = indexOf(bad.events, (e) => e.type === 'kprobe.insert');
      expect(arm).toBeLessThan(insert);
      // The first violation is at the arm itself, whatever the other CPUs do in the window.
      expect(bad.violations[0]).toEqual({ inv: 'INV-text', seq: bad.events[arm]!.seq, message: `breakpoint armed at ${(bad.events[arm] as { addr: string }).addr} with no probe there (R18)` });
    }
  });

  it('no-reenter-check (R50): a hit inside a handler is handled as a new hit: INV-status at that kprobe.hit', () => {
    // printk-recursion: kp_read's pre-handler prints through _printk, which kp_printk probes: a
    // hit on a CPU already in KPROBE_HIT_ACTIVE. The kernel counts a miss (R50) and runs nothing.
    const good = run('printk-recursion', 7);
    expect(good.violations).toEqual([]);
    expect(ofType(good.events, 'kprobe.miss').length).toBeGreaterThan(0);

    const bad = run('printk-recursion', 7, 'no-reenter-check', { max_steps: 5000 });
    expect(ofType(bad.events, 'kprobe.miss')).toEqual([]);
    const v = bad.violations.find((x) => x.inv === 'INV-status')!;
    const hit = bad.events.find((e) => e.seq === v.seq)!;
    expect(hit.type).toBe('kprobe.hit');
    expect(v.message).toMatch(/^cpu \d: kprobe\.hit in KPROBE_HIT_ACTIVE, which the kprobe_status graph has no move for/);
    expect(bad.violations[0]).toBe(v);
  });

  // unregister-busy: CPU 1 calls kfree 60 times; each call traps, and a trap stays pending (taken,
  // get_kprobe() not yet run) for one of CPU 1's ~14 steps per call. The mutants open a window
  // only when CPU 0 disarms while a trap is pending and then takes its next step (the unlink)
  // before CPU 1 takes its lookup: about 1/14 × 1/2 of the random schedules, so some seed in
  // 1..100 shows it (P(none) ≈ 0.965^100 ≈ 3%, and the runs are deterministic).
  function firstCaught(mutant: MutantName, patch: Partial<Scenario> = {}): { seed: number; bad: Run } {
    for (let seed = 1; seed <= 100; seed++) {
      const bad = run('unregister-busy', seed, mutant, patch);
      if (bad.violations.length > 0) return { seed, bad };
    }
    throw new Error(`${mutant} was never caught`);
  }

  it('disarm-without-sync (R18, R55): a trap in flight at the disarm finds no probe: "int3" oops, INV-removed-race', () => {
    const { seed, bad } = firstCaught('disarm-without-sync');
    expect(invs(bad)).toEqual(['INV-removed-race']);
    const oops = ofType(bad.events, 'kernel.oops')[0]!;
    expect(oops.message).toBe('int3 with no kprobe behind it');
    // The interleaving: cpu 1 traps, cpu 0 writes the original byte back (no sync) and unlinks,
    // then cpu 1 looks the address up.
    const trap = ofType(bad.events, 'kprobe.trap').filter((e) => e.seq < oops.seq).at(-1)!;
    const disarm = ofType(bad.events, 'text.disarm')[0]!;
    const unlink = ofType(bad.events, 'kprobe.unlink')[0]!;
    expect(trap.seq < disarm.seq && disarm.seq < unlink.seq && unlink.seq < oops.seq).toBe(true);
    expect(bad.events.filter((e) => e.type === 'text.sync.start' && e.seq > disarm.seq && e.seq < unlink.seq)).toEqual([]);
    // The same seed on the correct kernel: the sync after the disarm waits for cpu 1.
    const good = run('unregister-busy', seed);
    expect(good.violations).toEqual([]);
  });

  it('int3-sync-gap (R54-R56, the v6.3 fix undone): the sync ignores a trapped CPU: INV-removed-race; before 6.3 it is the release\'s own behaviour', () => {
    const { seed, bad } = firstCaught('int3-sync-gap');
    expect(invs(bad)).toEqual(['INV-removed-race']);
    const oops = ofType(bad.events, 'kernel.oops')[0]!;
    const sync = ofType(bad.events, 'text.sync.start').filter((e) => e.seq < oops.seq).at(-1)!;
    // The trapped CPU was not waited for: the sync started with nobody to wait for.
    expect(sync.waiting).not.toContain(oops.cpu);
    expect(run('unregister-busy', seed).violations).toEqual([]);
    // Kernel 5.10 has the gap and its recovery (R54): the mutant changes nothing there.
    const legacy = { kernel: '5.10' as const };
    for (const s of [seed, seed + 1]) {
      const plain = run('unregister-busy', s, undefined, legacy);
      const mutated = run('unregister-busy', s, 'int3-sync-gap', legacy);
      expect(mutated.events).toEqual(plain.events);
      expect(plain.violations).toEqual([]);
    }
  });

  it('every mutant of `kprobesim mutants` is caught on its scenario by its invariant; the correct kernel holds every invariant there', () => {
    for (const m of MUTANTS) {
      const { scenario, caughtBy } = MUTANT_INFO[m];
      let caught: number | null = null;
      for (let seed = 1; seed <= 100 && caught === null; seed++) {
        const bad = run(scenario, seed, m, m === 'no-reenter-check' ? { max_steps: 3000 } : {});
        if (bad.violations.length > 0) {
          expect(bad.violations[0]!.inv, `${m}, seed ${seed}`).toBe(caughtBy);
          caught = seed;
        }
      }
      expect(caught, m).not.toBeNull();
      for (let seed = 1; seed <= caught!; seed++) expect(run(scenario, seed).violations, `${scenario} seed ${seed}`).toEqual([]);
    }
  });
});
