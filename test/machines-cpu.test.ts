import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NEVER } from 'rxjs';
import { createActor } from 'xstate';
import { cpuMachine, type CpuEvent } from '../src/machines/cpu.ts';
import {
  KPROBE_STATUS_STATES,
  KPROBE_STATUSES,
  STATUS_EDGES,
  STATUS_EVENTS,
  edgeKey,
  type CpuStatusValue,
  type StatusStateConfig,
} from '../src/machines/kprobe-status.ts';
import type { DomainEvent, LoggedEvent } from '../src/model/events.ts';
import { evolve } from '../src/model/evolve.ts';
import { evolveCpu } from '../src/model/fold/cpu.ts';
import { initialState } from '../src/model/initial.ts';
import type { CpuState, KprobeStatus } from '../src/model/state.ts';
import { InvariantMonitor } from '../src/monitors/invariants.ts';
import { scenario, type Unstamped } from './helpers.ts';

// The CPU's kprobe_status graph has one home, the machine config (src/machines/kprobe-status.ts).
// These tests walk it against the rules of docs/rules.md §6 (R43–R58, and the sections for the
// optimized, ftrace and kretprobe paths), drive the machine itself, and check that the copies
// derived from it (INV-status, the fold's status assignments) agree with it.

const STATES: Readonly<Record<CpuStatusValue, StatusStateConfig>> = KPROBE_STATUS_STATES;
const ADDR = '0xffffffff81000120' as const;

/** Every transition of the config as from --event--> to ('=' when it leaves the status as it is). */
function transitions(): { from: KprobeStatus; type: string; to: string; rules: readonly string[] }[] {
  return KPROBE_STATUSES.flatMap((from) =>
    Object.entries(STATES[from].on ?? {}).flatMap(([type, ts]) => ts.map((t) => ({ from, type, to: t.target ?? '=', rules: t.meta.rules }))),
  );
}

describe('the kprobe_status graph (machine config) against the rules', () => {
  it('every transition cites rules that docs/rules.md defines, and names a kernel function', () => {
    const doc = readFileSync(new URL('../docs/rules.md', import.meta.url), 'utf8');
    for (const from of KPROBE_STATUSES) {
      for (const [type, ts] of Object.entries(STATES[from].on ?? {})) {
        for (const t of ts) {
          expect(t.meta.rules.length, `${from} --${type}-->`).toBeGreaterThan(0);
          expect(t.meta.kernel, `${from} --${type}-->`).toMatch(/\w+\(/);
          for (const r of t.meta.rules) {
            const [base, sub] = r.split('.');
            expect(doc, `${from} --${type}--> cites ${r}`).toContain(`<a id="${base!.toLowerCase()}"></a>`);
            if (sub !== undefined) expect(doc).toContain(`**${r}**`);
          }
        }
      }
    }
  });

  it('the breakpoint path cites §6 (R43–R58) on every edge', () => {
    const breakpoint = new Set(['kprobe.hit', 'kprobe.miss', 'kprobe.ss', 'kprobe.ss.done', 'kprobe.ss.fault', 'kprobe.boost', 'kprobe.detour', 'kprobe.redirect', 'kprobe.bug']);
    for (const t of transitions().filter((t) => breakpoint.has(t.type))) {
      const six = t.rules.filter((r) => {
        const n = Number(r.slice(1).split('.')[0]);
        return n >= 43 && n <= 58;
      });
      expect(six.length, `${t.from} --${t.type}--> ${t.to}`).toBeGreaterThan(0);
    }
  });

  it('has exactly the kernel’s edges', () => {
    // Listed from the rules, not from the config:
    const saved = ['KPROBE_HIT_ACTIVE', 'KPROBE_HIT_SS', 'KPROBE_HIT_SSDONE'];
    const restore = (type: string) => saved.map((s) => `KPROBE_REENTER --${type}--> ${s}`);
    const expected = [
      // R46: a breakpoint hit on an idle CPU sets current_kprobe and enters HIT_ACTIVE.
      'idle --kprobe.hit--> KPROBE_HIT_ACTIVE',
      // R86, R92/R93, R75: the optimized callback, the ftrace handler and a kretprobe return
      // handler run their probe as current_kprobe in HIT_ACTIVE.
      'idle --kprobe.opt.hit--> KPROBE_HIT_ACTIVE',
      'idle --kprobe.ftrace.hit--> KPROBE_HIT_ACTIVE',
      'idle --kretprobe.ret_handler--> KPROBE_HIT_ACTIVE',
      // R69/R75: an instance recycled with no handler to run: no kprobe runs.
      'idle --kretprobe.put--> =',
      // R47.3: setup_singlestep() steps the copy in HIT_SS.
      'KPROBE_HIT_ACTIVE --kprobe.ss--> KPROBE_HIT_SS',
      // R47.1, R47.2: the detour buffer or a boosted copy: current_kprobe cleared, no post-handler.
      'KPROBE_HIT_ACTIVE --kprobe.detour--> idle',
      'KPROBE_HIT_ACTIVE --kprobe.boost--> idle',
      // R46: a pre-handler returned non-zero (a redirect, override_function_with_return, a jump).
      'KPROBE_HIT_ACTIVE --kprobe.redirect--> idle',
      'KPROBE_HIT_ACTIVE --kprobe.override--> idle',
      'KPROBE_HIT_ACTIVE --kprobe.jump--> idle',
      // R86: the optimized callback ends with current_kprobe NULL.
      'KPROBE_HIT_ACTIVE --kprobe.opt.done--> idle',
      // R92: an ftrace probe has no single-step: post-handlers (HIT_SSDONE) or done.
      'KPROBE_HIT_ACTIVE --kprobe.ftrace.post--> KPROBE_HIT_SSDONE',
      'KPROBE_HIT_ACTIVE --kprobe.done--> idle',
      // R75: after the return handler current_kprobe is NULL; R73: an entry handler's instance
      // given back changes nothing.
      'KPROBE_HIT_ACTIVE --kretprobe.put--> idle',
      'KPROBE_HIT_ACTIVE --kretprobe.put--> =',
      // R48/R49: the trap after the single-step: post-processing in HIT_SSDONE.
      'KPROBE_HIT_SS --kprobe.ss.done--> KPROBE_HIT_SSDONE',
      // R57: the stepped copy faulted: back to no kprobe.
      'KPROBE_HIT_SS --kprobe.ss.fault--> idle',
      // R49: the post-handlers ran; current_kprobe NULL.
      'KPROBE_HIT_SSDONE --kprobe.done--> idle',
      // R50: a hit in HIT_ACTIVE, HIT_SS or HIT_SSDONE is a miss stepped in REENTER.
      ...saved.map((s) => `${s} --kprobe.miss--> KPROBE_REENTER`),
      // R50, R47.3: the nested copy is stepped in REENTER; R49/R51, R57, R47.1/R47.2: however
      // the nested step ends, the saved status comes back.
      'KPROBE_REENTER --kprobe.ss--> =',
      ...restore('kprobe.ss.done'),
      ...restore('kprobe.ss.fault'),
      ...restore('kprobe.boost'),
      ...restore('kprobe.detour'),
      // R50: a hit in REENTER is BUG().
      'KPROBE_REENTER --kprobe.bug--> halted',
      // R54, R57, R58: an oops (no fixup, an int3 nobody owns) can happen in any status.
      ...KPROBE_STATUSES.map((s) => `${s} --kernel.oops--> halted`),
    ];
    const actual = transitions().map((t) => `${t.from} --${t.type}--> ${t.to}`);
    expect([...actual].sort()).toEqual([...expected].sort());
    expect(STATES.halted.type).toBe('final');
  });

  it('a hit in KPROBE_REENTER has no normal transition: only the BUG (R50, INV-status)', () => {
    const on = STATES.KPROBE_REENTER.on ?? {};
    for (const hit of ['kprobe.hit', 'kprobe.miss', 'kprobe.ftrace.hit', 'kprobe.opt.hit', 'kretprobe.ret_handler']) expect(on[hit]).toBeUndefined();
    expect(on['kprobe.bug']?.map((t) => t.target)).toEqual(['halted']);
    // And nowhere else is a hit a BUG.
    for (const s of KPROBE_STATUSES.filter((s) => s !== 'KPROBE_REENTER')) expect(STATES[s].on?.['kprobe.bug']).toBeUndefined();
  });
});

// ── the machine itself ──────────────────────────────────────────────────────────────────────

const s0 = initialState(scenario({ cpus: 1, probes: [{ name: 'kp', symbol: 'vfs_read' }], tasks: [{ comm: 'a', program: [] }] }));

function cpuActor() {
  // Only the graph's events are sent here: no grant comes (and view, outbox are not used).
  const a = createActor(cpuMachine, { input: { cpu: s0.cpus[0]!, view: {} as never, outbox: {} as never, grants: NEVER } });
  a.start();
  return a;
}

function ev(type: string, status: KprobeStatus, saved: KprobeStatus | null = null, extra: object = {}): CpuEvent {
  return { type, event: { type, cpu: 0, addr: ADDR, ...extra } as unknown as DomainEvent, status, saved } as CpuEvent;
}

describe('the CPU machine walks the graph and refuses what is off it', () => {
  it('a hit, its single-step and its post-handlers: idle → HIT_ACTIVE → HIT_SS → HIT_SSDONE → idle', () => {
    const a = cpuActor();
    const seen: string[] = [a.getSnapshot().value as string];
    for (const [type, from] of [['kprobe.hit', 'idle'], ['kprobe.ss', 'KPROBE_HIT_ACTIVE'], ['kprobe.ss.done', 'KPROBE_HIT_SS'], ['kprobe.done', 'KPROBE_HIT_SSDONE']] as const) {
      a.send(ev(type, from));
      seen.push(a.getSnapshot().value as string);
    }
    expect(seen).toEqual(['idle', 'KPROBE_HIT_ACTIVE', 'KPROBE_HIT_SS', 'KPROBE_HIT_SSDONE', 'idle']);
    expect(a.getSnapshot().context.refused).toEqual([]);
  });

  it('a nested hit: REENTER, then the saved status comes back (R50, R51)', () => {
    for (const outer of ['KPROBE_HIT_ACTIVE', 'KPROBE_HIT_SS', 'KPROBE_HIT_SSDONE'] as const) {
      const a = cpuActor();
      a.send(ev('kprobe.hit', 'idle'));
      if (outer !== 'KPROBE_HIT_ACTIVE') a.send(ev('kprobe.ss', 'KPROBE_HIT_ACTIVE'));
      if (outer === 'KPROBE_HIT_SSDONE') a.send(ev('kprobe.ss.done', 'KPROBE_HIT_SS'));
      expect(a.getSnapshot().value).toBe(outer);
      a.send(ev('kprobe.miss', outer));
      expect(a.getSnapshot().value).toBe('KPROBE_REENTER');
      a.send(ev('kprobe.ss', 'KPROBE_REENTER', outer));
      expect(a.getSnapshot().value).toBe('KPROBE_REENTER');
      a.send(ev('kprobe.ss.done', 'KPROBE_REENTER', outer));
      expect(a.getSnapshot().value).toBe(outer);
      expect(a.getSnapshot().context.refused).toEqual([]);
    }
  });

  it('a hit in KPROBE_REENTER is refused; the BUG halts the CPU (R50)', () => {
    const a = cpuActor();
    a.send(ev('kprobe.hit', 'idle'));
    a.send(ev('kprobe.miss', 'KPROBE_HIT_ACTIVE'));
    a.send(ev('kprobe.miss', 'KPROBE_REENTER', 'KPROBE_HIT_ACTIVE'));
    a.send(ev('kprobe.hit', 'KPROBE_REENTER', 'KPROBE_HIT_ACTIVE'));
    expect(a.getSnapshot().value).toBe('KPROBE_REENTER');
    expect(a.getSnapshot().context.refused).toEqual([
      { status: 'KPROBE_REENTER', type: 'kprobe.miss' },
      { status: 'KPROBE_REENTER', type: 'kprobe.hit' },
    ]);
    a.send(ev('kprobe.bug', 'KPROBE_REENTER', 'KPROBE_HIT_ACTIVE'));
    expect(a.getSnapshot().value).toBe('halted');
    expect(a.getSnapshot().status).toBe('done');
  });

  it('an event with no transition from the current status leaves the machine where it is', () => {
    const a = cpuActor();
    a.send(ev('kprobe.ss.done', 'idle'));
    a.send(ev('kprobe.done', 'idle'));
    expect(a.getSnapshot().value).toBe('idle');
    expect(a.getSnapshot().context.refused.map((r) => r.type)).toEqual(['kprobe.ss.done', 'kprobe.done']);
    // A restore needs a saved status (R51): without one it is refused too.
    a.send(ev('kprobe.hit', 'idle'));
    a.send(ev('kprobe.miss', 'KPROBE_HIT_ACTIVE'));
    a.send(ev('kprobe.ss.done', 'KPROBE_REENTER', null));
    expect(a.getSnapshot().value).toBe('KPROBE_REENTER');
    // kretprobe.put leaves HIT_ACTIVE only when the return handler finished (R75).
    const b = cpuActor();
    b.send(ev('kretprobe.ret_handler', 'idle'));
    b.send(ev('kretprobe.put', 'KPROBE_HIT_ACTIVE', null, { reason: 'entry_handler' }));
    expect(b.getSnapshot().value).toBe('KPROBE_HIT_ACTIVE');
    b.send(ev('kretprobe.put', 'KPROBE_HIT_ACTIVE', null, { reason: 'returned' }));
    expect(b.getSnapshot().value).toBe('idle');
    expect(b.getSnapshot().context.refused).toEqual([]);
  });
});

// ── the copies derived from it ──────────────────────────────────────────────────────────────

/** A CPU slice in `status` with a kprobe running (and, in REENTER, `saved` in prev_kprobe). */
function cpuIn(status: KprobeStatus, saved: KprobeStatus = 'KPROBE_HIT_ACTIVE'): CpuState {
  const c = s0.cpus[0]!;
  if (status === 'idle') return { ...c, preempt_count: 1 };
  const running = { ...c, status, current: ADDR, probes: ['kp'], preempt_count: 1 };
  if (status !== 'KPROBE_REENTER') return running;
  return { ...running, preempt_count: 2, prev: { current: ADDR, probes: ['kp'], status: saved, next: 0 } };
}

function domainEvent(type: string): DomainEvent {
  const base = { cpu: 0, pid: 100, addr: ADDR, probes: ['kp'] };
  if (type === 'kprobe.miss') return { ...base, type, running: ADDR, status: 'KPROBE_HIT_ACTIVE' } as DomainEvent;
  if (type === 'kretprobe.ret_handler') return { ...base, type, probe: 'kp', instance: 'i1' } as DomainEvent;
  if (type === 'kretprobe.put') return { ...base, type, probe: 'kp', instance: 'i1', reason: 'returned' } as DomainEvent;
  if (type === 'kprobe.redirect') return { ...base, type, ip: ADDR, pc: 0, skipped: [] } as DomainEvent;
  if (type === 'kprobe.override' || type === 'kprobe.jump') return { ...base, type, fn: 'f', ret: 0, skipped: [] } as DomainEvent;
  return { ...base, type } as unknown as DomainEvent;
}

describe('the copies derived from the graph agree with it', () => {
  it('the fold moves the status along every edge of the graph to the edge’s target', () => {
    for (const from of KPROBE_STATUSES) {
      for (const [type, ts] of Object.entries(STATES[from].on ?? {})) {
        for (const t of ts) {
          if (t.guard === 'returned' || (t.target === undefined && type === 'kretprobe.put')) continue; // reason-dependent, below
          const saved = typeof t.guard === 'object' ? t.guard.params.status : 'KPROBE_HIT_ACTIVE';
          const after = evolveCpu(cpuIn(from, saved), domainEvent(type));
          if (t.target === 'halted') expect(after.halted, `${from} --${type}-->`).toBe(true);
          else expect(after.status, `${from} --${type}-->`).toBe(t.target ?? from);
        }
      }
    }
    expect(evolveCpu({ ...cpuIn('KPROBE_HIT_ACTIVE'), trampoline: null }, domainEvent('kretprobe.put')).status).toBe('idle');
  });

  it('INV-status allows exactly the graph’s moves between two statuses', () => {
    const moves = transitions().filter((t) => t.to !== '=' && t.to !== 'halted' && t.to !== t.from);
    expect([...STATUS_EDGES].flatMap(([type, keys]) => [...keys].map((k) => `${type} ${k}`)).sort()).toEqual(
      [...new Set(moves.map((t) => `${t.type} ${edgeKey(t.from, t.to as KprobeStatus)}`))].sort(),
    );
    expect([...STATUS_EVENTS].sort()).toEqual([...new Set(transitions().map((t) => t.type))].sort());
  });

  it('INV-status flags a forbidden edge in a hand-made log, and not the legal one', () => {
    const run = (events: Unstamped[]) => {
      const m = new InvariantMonitor();
      let s = s0;
      events.forEach((e, i) => {
        const le = { seq: i + 1, t: i + 1, ...e } as LoggedEvent;
        const next = evolve(s, le);
        m.observe(s, le, next);
        s = next;
      });
      return m.violations.filter((v) => v.inv === 'INV-status');
    };
    const hit: Unstamped[] = [
      { src: 'cpu/0', type: 'kprobe.trap', cpu: 0, pid: 100, addr: ADDR },
      { src: 'cpu/0', type: 'kprobe.hit', cpu: 0, pid: 100, addr: ADDR, probes: ['kp'] },
    ];
    const legal: Unstamped[] = [
      ...hit,
      { src: 'cpu/0', type: 'kprobe.ss', cpu: 0, addr: ADDR },
      { src: 'cpu/0', type: 'kprobe.ss.done', cpu: 0, addr: ADDR },
      { src: 'cpu/0', type: 'kprobe.done', cpu: 0, addr: ADDR },
    ];
    expect(run(legal)).toEqual([]);
    // The single-step's trap without a single-step: HIT_ACTIVE → HIT_SSDONE is not an edge.
    const forbidden: Unstamped[] = [...hit, { src: 'cpu/0', type: 'kprobe.ss.done', cpu: 0, addr: ADDR }];
    expect(run(forbidden)).toEqual([
      { inv: 'INV-status', seq: 3, message: 'cpu 0: kprobe.ss.done moved kprobe_status KPROBE_HIT_ACTIVE → KPROBE_HIT_SSDONE' },
    ]);
  });
});
