import type { DomainEvent, Hex } from '../events.ts';
import type { Batch, KprobesState, ProbePoint, ProbeReg } from '../state.ts';
import { NEXT_PHASE } from '../../machines/kprobe-call.ts';
import { fail } from './errors.ts';
import { pointDisabled } from '../queries.ts';
import { probeName } from './input.ts';
import { own } from '../own.ts';
import { recDelete, recEntries, recGet, recSet } from './record.ts';

// ── the kprobe manager slice (owned by kprobes) ────────────────────────────────────────────

/** A `struct kprobe` its owner has set up and not registered: the caller may pass DISABLED (R2, R29). */
export function unregisteredProbe(disabled: boolean): ProbeReg {
  return { state: 'unregistered', addr: null, disabled, handle: null };
}

// What phase a call is in after one of its events (the manager's steps, spec §3 and §8): derived,
// once at load, from the call's graph in src/machines/kprobe-call.ts (a plain config object: no
// XState runtime here).

function advanceCall(k: KprobesState, pid: number, type: DomainEvent['type']): KprobesState {
  const call = k.calls[pid];
  if (call === undefined) return fail(`task ${pid} is in no kprobes call`);
  const phase = NEXT_PHASE[call.fn][type];
  if (phase === undefined) return k;
  return { ...k, calls: { ...k.calls, [pid]: { ...call, phase } } };
}

function withBatch(k: KprobesState, pid: number, f: (b: Batch) => Batch): KprobesState {
  const b = k.batches[pid];
  return b === undefined ? k : { ...k, batches: { ...k.batches, [pid]: f(b) } };
}

function endCall(k: KprobesState, pid: number): KprobesState {
  const calls = { ...k.calls };
  delete calls[pid];
  return { ...k, calls };
}

function setProbe(k: KprobesState, name: string, patch: Partial<KprobesState['probes'][string]>): KprobesState {
  const p = recGet(k.probes, name);
  if (p === undefined) return fail(`unknown probe "${name}"`);
  return { ...k, probes: recSet(k.probes, name, { ...p, ...patch }) };
}

function setPoint(
  k: KprobesState,
  addr: Hex,
  patch: { probes?: readonly string[]; armed?: boolean; boost?: true; opt?: ProbePoint['opt'] | null; aggr_disabled?: boolean | null },
): KprobesState {
  const point = recGet(k.table, addr);
  if (point === undefined && patch.probes === undefined) return fail(`no probe point at ${addr}`);
  const { opt, aggr_disabled, ...rest } = patch;
  const keep = opt === undefined ? point?.opt : (opt ?? undefined);
  const flag = aggr_disabled === undefined ? point?.aggr_disabled : (aggr_disabled ?? undefined);
  const next: ProbePoint = {
    probes: point?.probes ?? [],
    armed: point?.armed ?? false,
    ...(point?.boost ? { boost: true } : {}),
    ...rest,
    ...(keep !== undefined ? { opt: keep } : {}),
    ...(flag !== undefined ? { aggr_disabled: flag } : {}),
  };
  // R64/R68: an emptied aggregator leaves the table at once unless the optimizer still has to
  // unoptimize it, or a revival left it enabled (R15). A point with no probe whose breakpoint is
  // armed stays too: only a kernel that breaks R18 leaves one (a mutant, or an unlink before the
  // disarm), and INV-text reports it while the byte is there.
  const gone = next.probes.length === 0 && !next.armed && next.opt?.state !== 'unopt' && next.aggr_disabled !== false;
  return { ...k, table: gone ? recDelete(k.table, addr) : recSet(k.table, addr, next) };
}

/**
 * Whether phase 1 of a batch took `probe` down: a membership test in the batch's `effective` list,
 * asked once per entry in phase 2. A long list (a batch of thousands) is indexed once, on the first
 * question; lists are never mutated (each entry's phase 1 makes a new one), so the index stays
 * true for its list, and it goes with it.
 */
function inEffective(list: readonly string[], probe: string): boolean {
  if (list.length <= 16) return list.includes(probe);
  let index = effectiveIndex.get(list);
  if (index === undefined) {
    index = new Set(list);
    effectiveIndex.set(list, index);
  }
  return index.has(probe);
}

const effectiveIndex = new WeakMap<readonly string[], ReadonlySet<string>>();

function inEffectiveBatch(b: Batch | undefined, probe: string): boolean {
  return b !== undefined && inEffective(b.effective, probe);
}

export function evolveKprobes(k: KprobesState, e: DomainEvent): KprobesState {
  switch (e.type) {
    case 'input.probe': {
      const name = probeName(e.probe);
      if (recGet(k.probes, name) !== undefined) return fail(`probe "${name}" is already defined`);
      return { ...k, probes: recSet(k.probes, name, unregisteredProbe(e.probe.disabled === true)) };
    }
    case 'input.module': {
      // A C module's probe structs (src/cexec): the run's probes from now on, none registered.
      let probes = k.probes;
      for (const name of e.probes) {
        if (recGet(probes, name) !== undefined) return fail(`probe "${name}" is already defined`);
        probes = recSet(probes, name, unregisteredProbe(false));
      }
      return { ...k, probes };
    }
    case 'kprobe.register':
      return setProbe(
        { ...k, calls: { ...k.calls, [e.pid]: { fn: 'register_kprobe', probe: e.probe, phase: 'lock', effective: true } } },
        e.probe,
        // R22: the resolved address is written back to p->addr at once; R2: of the caller's flags
        // only DISABLED is kept.
        { state: 'registering', addr: e.addr, gone: false },
      );
    case 'kprobe.addr':
      // R2: the flags were reset on the way too (GONE, like every bit but DISABLED, is dropped).
      return setProbe(k, e.probe, { addr: e.addr, gone: false });
    case 'kprobe.clear':
      // Plain writes to the caller's struct: nothing else in the kernel changes (R22, R2).
      return setProbe(k, e.probe, { ...(e.addr ? { addr: null } : {}), ...(e.flags ? { disabled: false, gone: false } : {}) });
    case 'kprobe.unregister':
      return { ...k, calls: { ...k.calls, [e.pid]: { fn: 'unregister_kprobe', probe: e.probe, phase: 'lock', effective: false } } };
    case 'mutex.lock':
      if (k.mutex.owner !== null && k.mutex.owner !== e.pid) return fail(`kprobe_mutex is held by task ${k.mutex.owner}`);
      return advanceCall(
        { ...k, mutex: { owner: e.pid, waiters: k.mutex.waiters.filter((w) => w !== e.pid) } },
        e.pid,
        e.type,
      );
    case 'mutex.wait':
      return { ...k, mutex: { owner: k.mutex.owner, waiters: [...k.mutex.waiters, e.pid] } };
    case 'mutex.unlock':
      if (k.mutex.owner !== e.pid) return fail(`task ${e.pid} unlocks kprobe_mutex it does not hold`);
      // Hand-off: the first waiter owns the mutex at once; its own mutex.lock marks it running again.
      return advanceCall({ ...k, mutex: { owner: e.next, waiters: k.mutex.waiters } }, e.pid, e.type);
    case 'kprobe.insert': {
      const existing = recGet(k.table, e.addr);
      // An enabled child joining clears the aggregator's DISABLED (R13): it follows its children
      // again, whatever R15 or R36 had left.
      const k2 = setPoint(k, e.addr, { probes: [e.probe, ...(existing?.probes ?? [])], ...(e.disabled ? {} : { aggr_disabled: null }) });
      // R29: a probe registered with DISABLED enters the table but is not armed.
      return advanceCall(setProbe(k2, e.probe, { addr: e.addr, handle: e.handle, disabled: e.disabled }), e.pid, e.type);
    }
    case 'kprobe.boostable':
      return setPoint(k, e.addr, { boost: true });
    case 'kprobe.opt.queue':
      return setPoint(k, e.addr, { opt: { state: 'queued', due: e.due } });
    case 'kprobe.opt.patch':
      return setPoint(k, e.addr, { opt: { state: 'optimized' } });
    case 'kprobe.opt.unopt':
      return setPoint(k, e.addr, { opt: null });
    case 'kprobe.opt.unopt.queue': {
      const opt = recGet(k.table, e.addr)?.opt;
      if (opt?.state !== 'optimized' && opt?.state !== 'trapping') return fail(`${e.addr} is not an optimized point`);
      return setPoint(k, e.addr, { opt: { state: 'unopt', due: e.due, ...(opt.state === 'trapping' ? { int3: true as const } : {}) } });
    }
    case 'kprobe.opt.unpatch': {
      const point = recGet(k.table, e.addr);
      if (point?.opt?.state !== 'unopt') return fail(`${e.addr} has no unoptimization queued`);
      // The breakpoint comes back and, the aggregator being disabled, goes (not from freed text, R95).
      const gone = point.probes.length > 0 && point.probes.every((p) => recGet(k.probes, p)?.gone);
      return setPoint(k, e.addr, { opt: null, armed: gone ? point.armed : false });
    }
    case 'kprobe.opt.rearm':
    case 'kprobe.opt.revive': {
      const opt = recGet(k.table, e.addr)?.opt;
      if (opt?.state !== 'unopt') return fail(`${e.addr} has no unoptimization queued`);
      // A revival leaves the code as it was (the jump, or the int3 of an earlier re-arm).
      if (e.type === 'kprobe.opt.rearm') return setPoint(k, e.addr, { opt: { state: 'trapping' } });
      return setPoint(k, e.addr, { opt: opt.int3 ? { state: 'trapping' } : { state: 'optimized' }, aggr_disabled: false });
    }
    case 'kprobes.optimization': {
      const { opt_off: _was, ...rest } = k;
      return e.value ? rest : { ...k, opt_off: true };
    }
    case 'text.arm':
      // A breakpoint written where no probe is yet (the arm-before-insert mutant) is a point
      // without probes: get_kprobe() finds nothing to run there.
      return setPoint(k, e.addr, recGet(k.table, e.addr) === undefined ? { probes: [], armed: true } : { armed: true });
    case 'text.disarm':
      return setPoint(k, e.addr, { armed: false });
    case 'text.sync.start':
      return advanceCall({ ...k, sync: { gen: e.sync, waiting: e.waiting }, sync_gen: e.sync }, e.pid, e.type);
    case 'text.sync.end':
      return advanceCall({ ...k, sync: null }, e.pid, e.type);
    case 'kprobe.registered': {
      const done = endCall(setProbe(k, e.probe, { state: 'registered' }), e.pid);
      return withBatch(done, e.pid, (b) => ({ ...b, registered: b.registered + 1 }));
    }
    case 'kprobe.register.fail':
      // R32: a failed entry rolls back the entries registered before it, as one batch.
      return withBatch(k, e.pid, (b) => ({ ...b, errno: e.errno, undo: b.probes.slice(0, b.registered), undone: 0 }));
    case 'kprobe.batch':
      return {
        ...k,
        batches: {
          ...k.batches,
          [e.pid]: {
            fn: e.fn,
            probes: e.probes,
            registered: 0,
            errno: 0,
            undo: e.fn === 'unregister_kprobes' ? e.probes : null,
            undone: 0,
            effective: [],
          },
        },
      };
    case 'kprobe.batch.next': {
      // Phase 1 of one entry is done; the grace period is the batch's (R65). Each state keeps
      // its own list, so a batch of n entries still copies O(n²) elements in all; concat sizes
      // the copy exactly (a spread or slice-and-push is over twice as slow at 10,000 entries).
      const effective = k.calls[e.pid]?.effective ?? false;
      return withBatch(endCall(k, e.pid), e.pid, (b) => ({
        ...b,
        undone: b.undone + 1,
        effective: effective ? b.effective.concat([e.probe]) : b.effective,
      }));
    }
    case 'kprobe.batch.return': {
      const batches = { ...k.batches };
      delete batches[e.pid];
      return { ...k, batches };
    }
    case 'kprobe.disable': {
      const call = k.calls[e.pid];
      if (call === undefined) return fail(`task ${e.pid} is in no kprobes call`);
      if (call.fn === 'disable_kprobe') return advanceCall(setProbe(k, e.probe, { disabled: true }), e.pid, e.type);
      // Under kprobe_mutex the unregister found the probe registered: from here on it is this
      // call's to take down (R64).
      // __disable_kprobe() leaves a probe that is already disabled (or GONE) as it is.
      const k2 = { ...k, calls: { ...k.calls, [e.pid]: { ...call, effective: true } } };
      const reg = recGet(k.probes, e.probe);
      return advanceCall(setProbe(k2, e.probe, { disabled: reg?.disabled === true || reg?.gone !== true, state: 'unregistering' }), e.pid, e.type);
    }
    case 'kprobe.enable_kprobe':
    case 'kprobe.disable_kprobe': {
      const fn = e.type === 'kprobe.enable_kprobe' ? 'enable_kprobe' : 'disable_kprobe';
      return advanceCall({ ...k, calls: { ...k.calls, [e.pid]: { fn, probe: e.probe, phase: 'lock', effective: true } } }, e.pid, e.type);
    }
    case 'kprobe.enable': {
      // R36: with global arming off the child's flag clears but a DISABLED aggregator keeps its
      // own; otherwise enable_kprobe() clears (and arms) the aggregator too.
      const at = recGet(k.probes, e.probe)?.addr;
      const point = at === null || at === undefined ? undefined : recGet(k.table, at);
      const held = k.all_disarmed && point !== undefined && pointDisabled(k, point);
      const k2 = point === undefined ? k : setPoint(k, at!, { aggr_disabled: held ? true : null });
      return advanceCall(setProbe(k2, e.probe, { disabled: false }), e.pid, e.type);
    }
    case 'module.coming':
      if (own(k.modules, e.module) !== undefined) return fail(`module ${e.module} is already loaded`);
      return { ...k, modules: { ...k.modules, [e.module]: 'coming' } };
    case 'module.insmod':
    case 'module.rmmod':
    case 'module.init': {
      const fn = e.type === 'module.insmod' ? 'insmod' : e.type === 'module.rmmod' ? 'rmmod' : 'module_live';
      // delete_module(): a live module nobody holds is GOING from here on (the notifier follows).
      // A module whose init failed (src/cexec: module_live after a C init returned an error) is
      // unloaded from COMING: startRmmod refuses that to a task's rmmod, so only that path gets here.
      const going = e.type === 'module.rmmod' && (own(k.modules, e.module) === true || own(k.modules, e.module) === 'coming');
      const modules = going ? { ...k.modules, [e.module]: 'going' as const } : k.modules;
      return advanceCall({ ...k, modules, calls: { ...k.calls, [e.pid]: { fn, probe: '', phase: 'lock', effective: true } } }, e.pid, e.type);
    }
    case 'module.live':
    case 'module.gone': {
      // Built without `modules[name] = …`: an assignment to "__proto__" would set the prototype.
      const modules =
        e.type === 'module.live'
          ? { ...k.modules, [e.module]: true as const }
          : Object.fromEntries(Object.entries(k.modules).filter(([m]) => m !== e.module));
      // R95/R96: probes on freed text become GONE; they stay registered.
      let out: KprobesState = { ...k, modules };
      for (const p of e.gone) out = setProbe(out, p, { gone: true });
      // The breakpoint went with the freed text: text loaded there later has none (R14).
      for (const [at, point] of recEntries(out.table) as [Hex, ProbePoint][]) {
        // kill_optimized_kprobe(): off the optimizer's queues, OPTIMIZED cleared, code untouched.
        if (point.probes.length > 0 && point.probes.every((p) => recGet(out.probes, p)?.gone)) out = setPoint(out, at, { armed: false, opt: null });
      }
      return out;
    }
    case 'module.done':
      return endCall(k, e.pid);
    case 'kprobes.enabled_write':
      return advanceCall({ ...k, calls: { ...k.calls, [e.pid]: { fn: 'kprobes_enabled', probe: '', phase: 'lock', effective: true } } }, e.pid, e.type);
    case 'kprobes.all_disarmed':
      return advanceCall({ ...k, all_disarmed: e.value }, e.pid, e.type);
    case 'kprobes.enabled_written':
      return endCall(k, e.pid);
    case 'kprobe.returned':
      return endCall(k, e.pid);
    case 'kprobe.unlink': {
      const point = recGet(k.table, e.addr);
      if (point === undefined) return fail(`no probe point at ${e.addr}`);
      return advanceCall(setPoint(k, e.addr, { probes: point.probes.filter((p) => p !== e.probe) }), e.pid, e.type);
    }
    case 'rcu.gp.start':
      return { ...k, gps: { ...k.gps, [e.gp]: e.waiting }, gp_gen: e.gp };
    case 'rcu.gp.end': {
      const gps = { ...k.gps };
      delete gps[e.gp];
      return { ...k, gps };
    }
    case 'kprobe.unregistered':
      if (!(k.calls[e.pid]?.effective || inEffectiveBatch(k.batches[e.pid], e.probe))) {
        // R64: phase 1 failed for this probe, so the kernel sets p->addr = NULL (which a struct
        // reused without clearing then needs, R22). Not under a registration racing with it.
        const idle = recGet(k.probes, e.probe)?.state === 'unregistered';
        return endCall(idle ? setProbe(k, e.probe, { addr: null }) : k, e.pid);
      }
      // The struct keeps its addr (R22) and the DISABLED flag the unregister set (R64): reusing it
      // needs both cleared first (`clear_kprobe`), or the next registration fails or is disabled.
      return endCall(setProbe(k, e.probe, { state: 'unregistered', handle: null }), e.pid);
    default:
      return k;
  }
}
