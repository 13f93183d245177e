import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cModuleSpec, defaultTarget, loadModuleSpec } from '../src/cexec/index.ts';
import { KcsanMonitor, type KcsanReport } from '../src/kcsan/index.ts';
import type { LoggedEvent } from '../src/model/events.ts';
import { foldLog } from '../src/replay/fold-log.ts';
import { recordRun, type RunResult } from '../src/run/record.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { bumpers, COUNTER, messagePassing, orderingScenario } from './kcsan-fixtures.ts';

// KCSAN on module memory (issue 12): a data race is two accesses of one address by different
// threads, at least one a write and at least one plain, that nothing orders (happens-before over
// the run's events: src/kcsan). It is found on every run where the accesses are concurrent,
// whether or not a value was lost, and never where a lock, a fully ordered atomic, the
// registration of a probe or the unregistration's waits order them.

interface Run {
  readonly r: RunResult;
  readonly events: readonly LoggedEvent[];
  readonly log: string;
}

async function run(scenario: Scenario, seed: number): Promise<Run> {
  const lines: string[] = [];
  const r = await recordRun(scenario, { seed, strategy: 'random' }, { writeLine: (l) => (lines.push(l), true), drain: async () => {} });
  const log = join(mkdtempSync(join(tmpdir(), 'kcsan-')), 'run.jsonl');
  writeFileSync(log, lines.join('\n') + '\n');
  return { r, events: lines.slice(1).map((l) => JSON.parse(l) as LoggedEvent), log };
}

/** The value a module's exit printed: `NAME=V`. */
function printed(r: RunResult, name: string): number {
  const line = r.dmesg.find((l) => l.includes(` ${name}=`) || l.includes(`] ${name}=`));
  return Number(new RegExp(`${name}=(\\d+)`).exec(line ?? '')?.[1]);
}

/** Where the module's global lives, from the module's layout (not from a run). */
function globalAddr(scenario: Scenario, code: string, file: string, name: string): bigint {
  return loadModuleSpec(cModuleSpec(file, code), defaultTarget(scenario)).globals.get(name)!.addr;
}

/** The pid of the child that runs its program as `comm` (task.exec). */
function pidOf(events: readonly LoggedEvent[], comm: string): number {
  const f = events.find((e) => e.type === 'task.exec' && e.comm === comm);
  return f !== undefined && f.type === 'task.exec' ? f.pid : -1;
}

const N = 20;
const hex16 = (a: bigint) => `0x${a.toString(16).padStart(16, '0')}`;

describe('two tasks bump an unlocked module counter (count++: a plain 4-byte load, then a plain store)', () => {
  const scenario = bumpers('bump', N);
  const counter = globalAddr(scenario, COUNTER, 'racy.c', 'counter');

  it('every seed reports the race, on runs that lose an update and on runs that do not', async () => {
    // Tasks a and b are siblings: insmod forks both and waits for both, and nothing orders one's
    // accesses against the other's, so each run's first conflicting pair is a race, reported
    // where the second access is made. Whether both loads came before both stores (an update
    // lost) is the schedule's luck and changes nothing in what is reported.
    // One bump each rarely loses anything (the window is one load wide); twenty each usually do.
    const seen = { lost: 0, kept: 0 };
    for (const [times, sc] of [[1, bumpers('bump', 1)], [N, scenario]] as const) {
      for (let seed = 1; seed <= 6; seed++) {
      const { r, events } = await run(sc, seed);
      const value = printed(r, 'counter');
      if (value < 2 * times) seen.lost++;
      else seen.kept++;
      expect(r.kcsan.length).toBeGreaterThanOrEqual(1);
      const k = r.kcsan[0]!;
      expect(k.title).toBe('data-race in bump / bump');
      const pids = [pidOf(events, 'a'), pidOf(events, 'b')];
      expect([k.first.pid, k.second.pid].sort()).toEqual([...pids].sort());
      for (const side of [k.first, k.second]) {
        expect(side.addr).toBe(counter);
        expect(side.size).toBe(4);
        expect(side.marked).toBe(false);
        expect(side.by).toBe(`task ${side.pid}`);
      }
      expect(k.first.type === 'write' || k.second.type === 'write').toBe(true);
      // Reported once: the same two frames within KCSAN_REPORT_ONCE_IN_MS (3 s).
      expect(r.kcsan.length).toBe(1);
      }
    }
    expect(seen.lost).toBeGreaterThan(0);
    expect(seen.kept).toBeGreaterThan(0);
  });

  it('prints the report in dmesg as kernel/kcsan/report.c lays it out', async () => {
    const { r, events } = await run(scenario, 3);
    const k = r.kcsan[0]!;
    const text = r.dmesg.map((l) => l.replace(/^\[[ 0-9.]+\] /, ''));
    const at = text.indexOf('BUG: KCSAN: data-race in bump / bump');
    expect(at).toBeGreaterThan(0);
    expect(text[at - 1]).toBe('='.repeat(66));
    expect(text[at + 1]).toBe('');
    // The access that ran into the watchpoint first, then the watcher's (the earlier access).
    const line = (a: KcsanReport['first']) => `${a.type} to ${hex16(counter)} of 4 bytes by task ${a.pid} on cpu ${a.cpu}:`;
    expect(text[at + 2]).toBe(line(k.second));
    expect(text[at + 3]).toMatch(/^ bump\+0x[0-9a-f]+\/0x[0-9a-f]+ \[racy\]$/);
    const watcher = text.indexOf(line(k.first), at + 3);
    expect(watcher).toBeGreaterThan(at + 3);
    expect(text[watcher - 1]).toBe('');
    const footer = text.indexOf('Reported by Kernel Concurrency Sanitizer on:', watcher);
    // The watcher reports, from its own context (a module is loaded: tainted O).
    const comm = k.first.pid === pidOf(events, 'a') ? 'a' : 'b';
    expect(text[footer + 1]).toBe(`CPU: ${k.first.cpu} PID: ${k.first.pid} Comm: ${comm} Tainted: G           O       6.17.0-rc3 #1`);
    expect(text[footer + 2]).toBe('='.repeat(66));
    // count++ stores one more than it loaded: a store running into the watcher changes its bytes.
    if (k.second.type === 'write') {
      expect(k.change).not.toBeNull();
      expect(k.change!.new).toBe(k.change!.old + 1n);
      expect(text[footer - 2]).toBe(`value changed: 0x${k.change!.old.toString(16).padStart(8, '0')} -> 0x${k.change!.new.toString(16).padStart(8, '0')}`);
    } else {
      expect(k.change).toBeNull();
      expect(text.slice(watcher, footer).some((l) => l.startsWith('value changed'))).toBe(false);
    }
  });

  it('is deterministic: the same seed gives the same report lines, and folding the run\'s log gives them again', async () => {
    const a = await run(scenario, 5);
    const b = await run(scenario, 5);
    expect(b.r.kcsan.map((k) => k.lines)).toEqual(a.r.kcsan.map((k) => k.lines));
    let again: KcsanMonitor | null = null;
    await foldLog(a.log, (s) => {
      again = KcsanMonitor.of(s);
      return [again!];
    });
    expect(again!.reports.map((k) => k.lines)).toEqual(a.r.kcsan.map((k) => k.lines));
  });
});

describe('what orders the accesses: no report', () => {
  it('spin_lock around count++ (spin_unlock RELEASEs, spin_lock ACQUIREs the same lock): no update lost either', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { r } = await run(bumpers('bump_locked', N), seed);
      expect(r.kcsan).toEqual([]);
      expect(printed(r, 'counter')).toBe(2 * N);
    }
  });

  it('atomic_inc (marked accesses never form a data race with each other)', async () => {
    for (const seed of [1, 2, 3]) {
      const { r } = await run(bumpers('bump_atomic', N), seed);
      expect(r.kcsan).toEqual([]);
      expect(printed(r, 'acounter')).toBe(2 * N);
    }
  });

  it('READ_ONCE/WRITE_ONCE (marked, though an update can still be lost: that is not a data race)', async () => {
    for (const seed of [1, 2, 3]) {
      const { r } = await run(bumpers('bump_marked', N), seed);
      expect(r.kcsan).toEqual([]);
    }
  });

  it('a write in module_init before register_kprobe, read by the handler in a task that insmod did not fork (ordered by the registration)', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const { r, events } = await run(orderingScenario(true), seed);
      // The handler did run, and read what init wrote (threshold == 42: every hit counted).
      const hits = events.filter((e) => e.type === 'handler.enter').length;
      expect(hits).toBeGreaterThan(0);
      expect(printed(r, 'hits')).toBe(hits);
      // hits++ in the handler and module_exit's read of it after unregister_kprobe(): ordered by
      // unregistration's text-patch sync and grace period. No report at all.
      expect(r.kcsan).toEqual([]);
    }
  });

  it('message passing: data written before a fully ordered atomic_inc_return, read after one that saw it', async () => {
    for (const seed of [1, 2, 3]) {
      const { r } = await run(messagePassing(true), seed);
      expect(r.dmesg.some((l) => l.endsWith('data=1'))).toBe(true);
      expect(r.kcsan).toEqual([]);
    }
  });
});

describe('what does not order them: a report', () => {
  it('the write after register_kprobe: the handler may already run (init\'s write against the handler\'s read)', async () => {
    for (const seed of [1, 2]) {
      const { r, events } = await run(orderingScenario(false), seed);
      expect(r.kcsan.map((k) => k.title)).toEqual(['data-race in handler_pre / order_init']);
      const k = r.kcsan[0]!;
      const write = k.first.type === 'write' ? k.first : k.second;
      const read = write === k.first ? k.second : k.first;
      const insmod = events.find((e) => e.type === 'module.insmod');
      expect(write.pid).toBe(insmod !== undefined && insmod.type === 'module.insmod' ? insmod.pid : -1);
      expect(read.type).toBe('read');
      // x86's int3 handler runs as an NMI (irqentry_nmi_enter): in_task() is false.
      expect(read.by).toBe('interrupt');
    }
  });

  it('message passing through atomic_inc (unordered) instead of atomic_inc_return', async () => {
    const { r } = await run(messagePassing(false), 1);
    expect(r.dmesg.some((l) => l.endsWith('data=1'))).toBe(true);
    expect(r.kcsan.map((k) => k.title)).toEqual(['data-race in consumer / producer']);
  });

  it('a fully ordered atomic before count++ orders what came before it, not the bump after it', async () => {
    const { r } = await run(bumpers('bump_returning', 5), 3);
    expect(r.kcsan.map((k) => k.title)).toEqual(['data-race in bump_returning / bump_returning']);
  });
});
