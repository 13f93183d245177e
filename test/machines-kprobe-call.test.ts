import { readFileSync } from 'node:fs';
import { createMachine, getInitialSnapshot, getNextSnapshot, type AnyMachineSnapshot, type StateValue } from 'xstate';
import { describe, expect, it } from 'vitest';
import { CALL_STATES, NEXT_PHASE, kprobeCallConfig, phaseOf, type CallState } from '../src/machines/kprobe-call.ts';
import { kprobeCallMachine } from '../src/machines/kprobe-call-actor.ts';
import type { DomainEvent } from '../src/model/events.ts';
import type { ApiCall, ApiPhase } from '../src/model/state.ts';

// The call a task makes under kprobe_mutex, as one XState machine config (src/machines/kprobe-call.ts),
// walked against docs/rules.md §2, §3, §4 and §8 and kernel/kprobes.c. The expected orders are the
// kernel's: register_kprobe() takes kprobe_mutex, puts the probe in kprobe_table
// (hlist_add_head_rcu), arms it (arm_kprobe → text_poke + text_poke_sync), unlocks and returns;
// unregister_kprobes() runs __unregister_kprobe_top() under the mutex (disable, disarm with its
// sync, unlink), unlocks, synchronize_rcu(), then __unregister_kprobe_bottom() and returns.

type EventType = DomainEvent['type'];
type Fn = ApiCall['fn'];

const machine = createMachine(kprobeCallConfig as unknown as Parameters<typeof createMachine>[0]);

/** The deepest state of a snapshot's value, as its XState id. */
function leafId(value: StateValue, prefix = 'kprobe_call'): string {
  if (typeof value === 'string') return `${prefix}.${value}`;
  const [[k, v]] = Object.entries(value) as [[string, StateValue]];
  return leafId(v, `${prefix}.${k}`);
}
const keyOf = (id: string) => id.slice(id.lastIndexOf('.') + 1);
const send = (s: AnyMachineSnapshot, type: EventType) => getNextSnapshot(machine, s, { type });

/** A snapshot standing in the state with this id (`kprobe_call.register_kprobe.arm_kprobe`). */
function at(id: string): AnyMachineSnapshot {
  const path = id.split('.').slice(1);
  let value: StateValue = path[path.length - 1]!;
  for (const k of path.slice(0, -1).reverse()) value = { [k]: value };
  return machine.resolveState({ value, context: undefined });
}

/**
 * Walk one call step by step, as the manager takes them (each step publishes its events at one
 * interleaving point). Returns the state the call stands in after each step (its kernel name), and
 * checks that the fold's derived table puts the call in that state's phase.
 */
function walk(fn: Fn, steps: readonly (readonly EventType[])[]): string[] {
  let s = getInitialSnapshot(machine);
  let phase: ApiPhase | null = null;
  const out: string[] = [];
  for (const step of steps) {
    for (const type of step) {
      s = send(s, type);
      const next = NEXT_PHASE[fn][type];
      if (next !== undefined) phase = next;
    }
    const state = CALL_STATES.get(leafId(s.value))!;
    if (state.config.type !== 'final') expect(phaseOf(state), `${state.id} after ${step.join(', ')}`).toBe(phase);
    out.push(state.key);
  }
  return out;
}

/** Every event type a transition of the graph names. */
const EVENT_TYPES: readonly EventType[] = [
  ...new Set([...CALL_STATES.values()].flatMap((s) => Object.keys(s.config.on ?? {}) as EventType[])),
];

/** The calls of the graph (every top-level state but idle). */
const CALLS = Object.keys(kprobeCallConfig.states).filter((k) => k !== 'idle') as Fn[];

/** The states of one call that are steps (they have a phase). */
const stepsOf = (fn: Fn): CallState[] => [...CALL_STATES.values()].filter((s) => s.id.split('.')[1] === fn && phaseOf(s) !== undefined);

/** Every move XState makes from a step of `fn`: [from, event, to] by kernel name (self-loops left out). */
function edges(fn: Fn): [string, EventType, string][] {
  const out: [string, EventType, string][] = [];
  for (const from of stepsOf(fn)) {
    for (const type of EVENT_TYPES) {
      const to = leafId(send(at(from.id), type).value);
      if (to !== from.id) out.push([from.key, type, keyOf(to)]);
    }
  }
  return out;
}
const into = (fn: Fn, key: string) => edges(fn).filter(([, , to]) => to === key).map(([from, type]) => `${from} --${type}-->`);
const outOf = (fn: Fn, key: string) => edges(fn).filter(([from]) => from === key).map(([, type, to]) => `--${type}--> ${to}`);

describe('register_kprobe: lock, insert, arm, sync, unlock (§2, §3)', () => {
  it('R16, R18, R27: an armed registration goes mutex_lock → hlist_add_head_rcu → arm_kprobe → text_poke_sync → mutex_unlock, then returns', () => {
    const states = walk('register_kprobe', [
      ['kprobe.register', 'kretprobe.pool'],
      ['mutex.wait'], // another task holds kprobe_mutex: the call still waits for it
      ['mutex.lock'],
      ['kprobe.insert', 'kprobe.boostable'],
      ['text.arm', 'text.sync.start'],
      [], // a CPU with interrupts off has not acknowledged the IPI yet
      ['text.sync.end'],
      ['mutex.unlock', 'kprobe.registered', 'kprobe.opt.queue'],
    ]);
    expect(states).toEqual(['mutex_lock', 'mutex_lock', 'hlist_add_head_rcu', 'arm_kprobe', 'text_poke_sync', 'text_poke_sync', 'mutex_unlock', 'registered']);
  });

  it('R18: the probe enters the table (under kprobe_mutex, R16) before its breakpoint is written, and the mutex is released only after the sync', () => {
    expect(into('register_kprobe', 'hlist_add_head_rcu')).toEqual(['mutex_lock --mutex.lock-->']);
    expect(into('register_kprobe', 'arm_kprobe')).toEqual(['hlist_add_head_rcu --kprobe.insert-->']);
    expect(into('register_kprobe', 'text_poke_sync')).toEqual(['arm_kprobe --text.sync.start-->']);
    expect(into('register_kprobe', 'mutex_unlock')).toEqual(['text_poke_sync --text.sync.end-->']);
    // It returns with the mutex released: after the unlock step, or from the insert's own step
    // when nothing was armed (below); never while a text patch is unsynchronized.
    expect(into('register_kprobe', 'registered').sort()).toEqual(['arm_kprobe --kprobe.registered-->', 'mutex_unlock --kprobe.registered-->']);
    expect(outOf('register_kprobe', 'text_poke_sync')).toEqual(['--text.sync.end--> mutex_unlock']);
  });

  it('R8, R29, R30: a probe that is not armed (DISABLED, arming off, or joining an armed point) unlocks and returns in the step that inserts it', () => {
    expect(walk('register_kprobe', [['kprobe.register'], ['mutex.lock'], ['kprobe.insert', 'mutex.unlock', 'kprobe.registered']])).toEqual([
      'mutex_lock',
      'hlist_add_head_rcu',
      'registered',
    ]);
  });
});

describe('unregister_kprobe: __unregister_kprobe_top, grace period, __unregister_kprobe_bottom (§8)', () => {
  it('R64, R55, R18, R65, R67: disable and disarm, wait for every CPU, unlink, unlock, wait for the grace period, then return', () => {
    const states = walk('unregister_kprobe', [
      ['kprobe.unregister'],
      ['mutex.lock'],
      ['kprobe.disable', 'text.disarm', 'text.sync.start'], // CPU 1 is in the handler, interrupts off
      [],
      ['text.sync.end'],
      ['kprobe.unlink', 'kretprobe.detach'],
      ['mutex.unlock'],
      ['rcu.gp.start'], // a CPU is still in a preempt-disabled region
      [],
      ['rcu.gp.end', 'kprobe.unregistered'],
    ]);
    expect(states).toEqual([
      'mutex_lock',
      '__disable_kprobe',
      'text_poke_sync',
      'text_poke_sync',
      'hlist_del_rcu',
      'mutex_unlock',
      'synchronize_rcu',
      'synchronize_rcu',
      'synchronize_rcu',
      '__unregister_kprobe_bottom',
    ]);
  });

  it('R55, R18: once the disarm has started its sync, the probe is unlinked only after every CPU acknowledged it', () => {
    expect(outOf('unregister_kprobe', 'text_poke_sync')).toEqual(['--text.sync.end--> hlist_del_rcu']);
    // Into the unlink: after the sync, or straight from the disable when no byte is restored
    // (another enabled probe keeps the point armed, R13, or the probe was disabled already, R34).
    expect(into('unregister_kprobe', 'hlist_del_rcu').sort()).toEqual(['__disable_kprobe --kprobe.disable-->', 'text_poke_sync --text.sync.end-->']);
  });

  it('R16, R64: phase 1 runs under kprobe_mutex: the mutex is released only after the unlink, or at once when the probe is not registered', () => {
    expect(into('unregister_kprobe', 'mutex_unlock')).toEqual(['hlist_del_rcu --kprobe.unlink-->']);
    expect(walk('unregister_kprobe', [['kprobe.unregister'], ['mutex.lock'], ['mutex.unlock'], ['rcu.gp.start', 'rcu.gp.end', 'kprobe.unregistered']])).toEqual([
      'mutex_lock',
      '__disable_kprobe',
      'synchronize_rcu',
      '__unregister_kprobe_bottom',
    ]);
  });

  it('R65, R67: the call returns only from the grace period, which starts after kprobe_mutex is released', () => {
    expect(into('unregister_kprobe', '__unregister_kprobe_bottom').sort()).toEqual([
      'synchronize_rcu --kprobe.batch.next-->',
      'synchronize_rcu --kprobe.unregistered-->',
    ]);
    expect(into('unregister_kprobe', 'synchronize_rcu').sort()).toEqual(['__disable_kprobe --mutex.unlock-->', 'mutex_unlock --mutex.unlock-->']);
    // Waiting CPUs hold it there: nothing but the end of the grace period moves it.
    expect(outOf('unregister_kprobe', 'synchronize_rcu').every((e) => e.endsWith('__unregister_kprobe_bottom'))).toBe(true);
  });

  it('R63, R65: an entry of unregister_kprobes() ends its call at the grace period, which the batch waits once for all', () => {
    expect(walk('unregister_kprobe', [['kprobe.unregister'], ['mutex.lock'], ['kprobe.disable'], ['kprobe.unlink'], ['mutex.unlock'], ['kprobe.batch.next']])).toEqual([
      'mutex_lock',
      '__disable_kprobe',
      'hlist_del_rcu',
      'mutex_unlock',
      'synchronize_rcu',
      '__unregister_kprobe_bottom',
    ]);
  });
});

describe('enable_kprobe and disable_kprobe (§4)', () => {
  it('R35, R34, R18: the flag changes under kprobe_mutex; a step that patches the text waits for its sync before unlocking', () => {
    expect(walk('enable_kprobe', [['kprobe.enable_kprobe'], ['mutex.lock'], ['kprobe.enable', 'text.arm', 'text.sync.start'], ['text.sync.end'], ['mutex.unlock', 'kprobe.returned']])).toEqual([
      'mutex_lock',
      'enable_kprobe',
      'text_poke_sync',
      'mutex_unlock',
      'returned',
    ]);
    expect(walk('disable_kprobe', [['kprobe.disable_kprobe'], ['mutex.lock'], ['kprobe.disable', 'text.disarm', 'text.sync.start', 'text.sync.end'], ['mutex.unlock', 'kprobe.returned']])).toEqual([
      'mutex_lock',
      '__disable_kprobe',
      'mutex_unlock',
      'returned',
    ]);
    expect(outOf('disable_kprobe', 'text_poke_sync')).toEqual(['--text.sync.end--> mutex_unlock']);
  });

  it('R37: neither enable nor disable has a grace period; only unregistration waits for one', () => {
    for (const fn of ['enable_kprobe', 'disable_kprobe'] as const) expect(stepsOf(fn).map((s) => phaseOf(s))).not.toContain('gp');
    expect(stepsOf('unregister_kprobe').map((s) => phaseOf(s))).toContain('gp');
  });
});

describe('the graph is the one definition (§2)', () => {
  it('R16: every call takes kprobe_mutex first, and every step of every call can reach the call\'s return', () => {
    for (const fn of CALLS) {
      const starts = Object.entries(kprobeCallConfig.states.idle.on) as [EventType, string][];
      const first = leafId(send(getInitialSnapshot(machine), starts.find(([, target]) => target === fn)![0]).value);
      expect(keyOf(first), fn).toBe('mutex_lock');
      // Reachability over XState's own moves (INV-progress needs every call to be able to end).
      const moves = edges(fn);
      const finals = new Set([...CALL_STATES.values()].filter((s) => s.id.split('.')[1] === fn && s.config.type === 'final').map((s) => s.key));
      for (const from of stepsOf(fn)) {
        const reach = new Set<string>([from.key]);
        const queue = [from.key];
        while (queue.length > 0) {
          const a = queue.shift()!;
          for (const [x, , b] of moves) {
            if (x === a && !reach.has(b)) {
              reach.add(b);
              queue.push(b);
            }
          }
        }
        expect([...reach].some((k) => finals.has(k)), `${fn}: ${from.key} reaches a return`).toBe(true);
      }
    }
  });

  it('the fold\'s phase table agrees with XState: from every step, an event moves the call to the phase the table names', () => {
    for (const fn of CALLS) {
      for (const from of stepsOf(fn)) {
        for (const type of EVENT_TYPES) {
          const to = CALL_STATES.get(leafId(send(at(from.id), type).value))!;
          if (to === from || to.config.type === 'final') continue;
          expect(NEXT_PHASE[fn][type], `${fn}: ${from.key} --${type}--> ${to.key}`).toBe(phaseOf(to));
        }
      }
    }
  });

  it('the call machine runs, in each step, the kernel function of the step\'s own name; idle starts a call', () => {
    for (const s of CALL_STATES.values()) {
      const api = kprobeCallMachine.getStateNodeById(s.id).on.API;
      if (s.id === 'kprobe_call.idle') expect(api?.[0]?.actions, s.id).toEqual([{ type: 'callStep', params: { step: 'start' } }]);
      else if (phaseOf(s) === undefined) expect(api, s.id).toBeUndefined();
      else expect(api?.[0]?.actions, s.id).toEqual([{ type: 'callStep', params: { step: s.key } }]);
    }
    // One step per phase, in the kernel's order (R18, R27; R64, R65).
    const steps = (fn: Fn) => stepsOf(fn).map((s) => `${phaseOf(s)}:${s.key}`);
    expect(steps('register_kprobe')).toEqual(['lock:mutex_lock', 'insert:hlist_add_head_rcu', 'arm:arm_kprobe', 'sync:text_poke_sync', 'unlock:mutex_unlock']);
    expect(steps('unregister_kprobe')).toEqual(['lock:mutex_lock', 'disable:__disable_kprobe', 'sync:text_poke_sync', 'unlink:hlist_del_rcu', 'unlock:mutex_unlock', 'gp:synchronize_rcu']);
    for (const fn of CALLS) expect(new Set(stepsOf(fn).map((s) => phaseOf(s))).size, fn).toBe(stepsOf(fn).length);
  });

  it('every step names its kernel code and cites rules that docs/rules.md explains', () => {
    const rules = readFileSync('docs/rules.md', 'utf8');
    for (const s of CALL_STATES.values()) {
      if (phaseOf(s) === undefined) continue;
      const meta = s.config.meta!;
      expect(meta.kernel, s.id).toContain(s.key);
      expect(meta.rules.length, s.id).toBeGreaterThan(0);
      for (const r of meta.rules) expect(rules, `${s.id} cites ${r}`).toContain(`id="${r.toLowerCase()}"`);
    }
  });
});
