import { describe, expect, it } from 'vitest';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { placeSlices } from '../src/timeline/build.ts';
import type { Slice, Timeline } from '../src/timeline/model.ts';
import { scenario } from './helpers.ts';
import { contains, runLog, slicesOn, stackAt, timelineOf } from './timeline-helpers.ts';

// The timeline model of small runs: which slices a kprobe hit, a miss, an unregister that waits
// and a kretprobe leave on which track, how they nest, and what a seq window does to them. The
// expected shapes come from the scenarios and the kernel's breakpoint path (docs/events.md,
// "Reading a hit in the log"), not from the builder's output.

/**
 * Every two slices of a track are disjoint or nested, and depth counts the slices containing
 * each one. A sweep per track in (start, longest first, depth) order: a slice must end within
 * every open slice that has not ended before it starts, and its depth is how many are open.
 */
function expectProperNesting(tl: Timeline): void {
  const byTrack = new Map<string, Slice[]>();
  for (const s of tl.slices) byTrack.set(s.track, [...(byTrack.get(s.track) ?? []), s]);
  const problems: string[] = [];
  const show = (x: Slice) => `"${x.name}" [${x.startSeq},${x.endSeq}] depth ${x.depth}`;
  for (const [track, list] of byTrack) {
    const sorted = [...list].sort((a, b) => a.startSeq - b.startSeq || b.endSeq - a.endSeq || a.depth - b.depth);
    const open: Slice[] = [];
    for (const x of sorted) {
      if (x.startSeq > x.endSeq) problems.push(`${track}: ${show(x)} ends before it starts`);
      while (open.length > 0 && open[open.length - 1]!.endSeq < x.startSeq) open.pop();
      const top = open[open.length - 1];
      if (top !== undefined && top.endSeq < x.endSeq) problems.push(`${track}: ${show(x)} overlaps ${show(top)}`);
      if (x.depth !== open.length) problems.push(`${track}: ${show(x)} is inside ${open.length} slice(s)`);
      open.push(x);
    }
  }
  expect(problems).toEqual([]);
}

describe('timeline of a kprobe hit', () => {
  // One CPU, one task calling vfs_read once, a probe with a printing pre- and post-handler.
  const s = scenario({
    probes: [{ name: 'p', symbol: 'vfs_read', pre: [{ do: 'print', text: 'pre' }], post: [{ do: 'print', text: 'post' }] }],
    tasks: [{ comm: 'reader', program: [{ op: 'register_kprobe', probe: 'p' }, { op: 'call', fn: 'vfs_read' }] }],
  });

  it('nests trap → pre-handler, single-step, post-handler inside the probed call on the CPU', async () => {
    const tl = timelineOf(await runLog(s));
    expectProperNesting(tl);
    const call = slicesOn(tl, 'cpu/0', (x) => x.cat === 'call' && x.name === 'vfs_read');
    expect(call).toHaveLength(1);
    const kprobe = slicesOn(tl, 'cpu/0', (x) => x.cat === 'kprobe');
    expect(kprobe).toHaveLength(1);
    expect(kprobe[0]!.name).toBe('kprobe p');
    expect(contains(call[0]!, kprobe[0]!)).toBe(true);
    // The breakpoint path's three parts, in the kernel's order, each directly inside the trap.
    const parts = slicesOn(tl, 'cpu/0', (x) => contains(kprobe[0]!, x) && x.depth === kprobe[0]!.depth + 1);
    expect(parts.map((x) => x.name)).toEqual(['pre_handler p', 'single-step', 'post_handler p']);
    expect(parts.map((x) => x.cat)).toEqual(['handler', 'singlestep', 'handler']);
    expect(parts[0]!.endSeq).toBeLessThan(parts[1]!.startSeq);
    expect(parts[1]!.endSeq).toBeLessThan(parts[2]!.startSeq);
    // Each handler prints, so it calls _printk: a call slice in handler context inside it.
    for (const h of [parts[0]!, parts[2]!]) {
      const inner = slicesOn(tl, 'cpu/0', (x) => contains(h, x) && x.name === '_printk');
      expect(inner).toHaveLength(1);
      expect(inner[0]!.args.ctx).toBe('handler');
    }
    // The task slice holds it all, and nothing is left open in a run that ended.
    const task = slicesOn(tl, 'cpu/0', (x) => x.cat === 'task');
    expect(task.some((t) => contains(t, call[0]!))).toBe(true);
    expect(tl.slices.some((x) => x.clippedEnd || x.clippedStart)).toBe(false);
    expect(tl.partial).toBe(false);
  });

  it('counts the hit: p hits 0 → 1, nmissed stays 0; the register call is on the task track', async () => {
    const tl = timelineOf(await runLog(s));
    const hits = tl.counters.find((c) => c.id === 'hits/p')!;
    expect(hits.points.map((p) => p.value)).toEqual([0, 1]);
    const hit = slicesOn(tl, 'cpu/0', (x) => x.cat === 'kprobe')[0]!;
    expect(hits.points[1]!.seq).toBeGreaterThanOrEqual(hit.startSeq);
    expect(hits.points[1]!.seq).toBeLessThanOrEqual(hit.endSeq);
    expect(tl.counters.find((c) => c.id === 'nmissed/p')!.points.map((p) => p.value)).toEqual([0]);
    const task = tl.tracks.find((t) => t.kind === 'task')!;
    expect(task.name).toMatch(/^reader \(pid \d+\)$/);
    expect(slicesOn(tl, task.id, (x) => x.cat === 'api').map((x) => x.name)).toEqual(['register_kprobe(p)']);
    // kprobe_mutex is held once, by the registering task, inside its call.
    const held = slicesOn(tl, 'mutex');
    expect(held).toHaveLength(1);
    const reg = slicesOn(tl, task.id, (x) => x.cat === 'api')[0]!;
    expect(held[0]!.startSeq).toBeGreaterThan(reg.startSeq);
    expect(held[0]!.endSeq).toBeLessThanOrEqual(reg.endSeq);
  });

  it('orders tracks: CPUs, scheduler, kprobe_mutex, tasks; ids and orders unique', async () => {
    const tl = timelineOf(await runLog({ ...s, cpus: 2 }));
    expect(tl.tracks.map((t) => t.kind).slice(0, 4)).toEqual(['cpu', 'cpu', 'sched', 'mutex']);
    expect(tl.tracks.map((t) => t.name).slice(0, 4)).toEqual(['CPU 0', 'CPU 1', 'scheduler', 'kprobe_mutex']);
    expect(new Set(tl.tracks.map((t) => t.id)).size).toBe(tl.tracks.length);
    expect(tl.tracks.map((t) => t.order)).toEqual(tl.tracks.map((_, i) => i));
    expect(tl.times).toHaveLength(tl.lastSeq - tl.firstSeq + 1);
  });
});

describe('timeline of a miss (printk-recursion)', () => {
  it('marks each reentrant hit with a miss instant carrying the probe and its nmissed', async () => {
    const log = await runLog(BUILTIN_SCENARIOS.get('printk-recursion')!);
    const tl = timelineOf(log);
    expectProperNesting(tl);
    const misses = tl.instants.filter((i) => i.severity === 'miss');
    // Both probes' pre-handlers print: a _printk called from a handler, while that probe's hit is
    // running, reaches kp_printk's breakpoint again and misses: a hit while a kprobe runs is a miss.
    const missEvents = log.events.filter((e) => e.type === 'kprobe.miss');
    expect(misses).toHaveLength(missEvents.length);
    expect(misses.length).toBeGreaterThan(0);
    misses.forEach((m, i) => {
      expect(m.name).toBe('miss kp_printk');
      expect(m.args.probes).toEqual(['kp_printk']);
      // nmissed counts up by one with each miss (nothing else misses in this scenario).
      expect(m.args.nmissed).toBe(i + 1);
      // It happens inside a running pre-handler, in the _printk that handler called.
      const stack = stackAt(tl, m.track, m.seq);
      const h = stack.findIndex((x) => x.cat === 'handler');
      expect(h).toBeGreaterThan(0);
      expect(stack[h]!.name).toMatch(/^pre_handler kp_(printk|read)$/);
      expect(stack.slice(h).some((x) => x.name === '_printk' && x.args.ctx === 'handler')).toBe(true);
    });
    // The missed trap is a slice of its own: single-stepped right away, no handler in it.
    const missed = tl.slices.filter((x) => x.name === 'kprobe miss kp_printk');
    expect(missed).toHaveLength(misses.length);
    for (const m of missed) {
      const inside = slicesOn(tl, m.track, (x) => contains(m, x));
      expect(inside.map((x) => x.cat)).toEqual(['singlestep']);
    }
    const nmissed = tl.counters.find((c) => c.id === 'nmissed/kp_printk')!;
    expect(nmissed.points.at(-1)!.value).toBe(misses.length);
  });
});

describe('timeline of an unregister that waits (unregister-race)', () => {
  it("shows CPU 0's text-patch sync waiting while CPU 1 is in the handler, with flows both ways", async () => {
    const tl = timelineOf(await runLog(BUILTIN_SCENARIOS.get('unregister-race')!));
    expectProperNesting(tl);
    // rmmod (CPU 0) unregisters `slow` at t ≈ 312 while reader (CPU 1) spins 400 steps in its
    // pre-handler: the disarm's sync must wait for CPU 1 to leave the breakpoint path, where its interrupts are off.
    const unreg = slicesOn(tl, 'cpu/0', (x) => x.cat === 'api' && x.name === 'unregister_kprobe(slow)');
    expect(unreg).toHaveLength(1);
    const sync = slicesOn(tl, 'cpu/0', (x) => x.cat === 'sync' && contains(unreg[0]!, x));
    expect(sync).toHaveLength(1);
    expect(sync[0]!.name).toBe('text_poke_sync: waits for CPU 1');
    expect(sync[0]!.args.waiting).toEqual([1]);
    // Then the grace period, after the sync, in the same call.
    const gp = slicesOn(tl, 'cpu/0', (x) => x.cat === 'gp' && contains(unreg[0]!, x));
    expect(gp).toHaveLength(1);
    expect(gp[0]!.startSeq).toBeGreaterThan(sync[0]!.endSeq);

    const wait = tl.flows.filter((f) => f.cat === 'wait');
    expect(wait).toHaveLength(1);
    expect(wait[0]!.from).toEqual({ track: 'cpu/0', seq: sync[0]!.startSeq });
    expect(wait[0]!.to.track).toBe('cpu/1');
    // Where the arrow lands, CPU 1 is inside the probe's pre-handler.
    const there = stackAt(tl, 'cpu/1', wait[0]!.to.seq).map((x) => x.name);
    expect(there).toContain('kprobe slow');
    expect(there).toContain('pre_handler slow');
    // CPU 1 acknowledges after its breakpoint path, and that ends the sync.
    const release = tl.flows.filter((f) => f.cat === 'release');
    expect(release).toHaveLength(1);
    expect(release[0]!.from.track).toBe('cpu/1');
    expect(release[0]!.to).toEqual({ track: 'cpu/0', seq: sync[0]!.endSeq });
    const hit = stackAt(tl, 'cpu/1', wait[0]!.to.seq).find((x) => x.name === 'kprobe slow')!;
    expect(release[0]!.from.seq).toBeGreaterThan(hit.endSeq);
    expect(release[0]!.from.seq).toBeLessThan(sync[0]!.endSeq);
    // The whole call is on rmmod's own track too, with the same waits.
    const task = tl.tracks.find((t) => t.kind === 'task' && t.name.startsWith('rmmod'))!;
    expect(slicesOn(tl, task.id).map((x) => x.cat)).toEqual(['api', 'sync', 'api', 'sync', 'gp']);
  });
});

describe('timeline of a kretprobe', () => {
  // One CPU: a kretprobe on vfs_read whose return handler prints the return value.
  const s = scenario({
    probes: [{ name: 'rp', kind: 'kretprobe', symbol: 'vfs_read', handler: [{ do: 'print', text: 'returned {retval}' }] }],
    tasks: [{ comm: 'reader', program: [{ op: 'register_kprobe', probe: 'rp' }, { op: 'call', fn: 'vfs_read' }] }],
  });

  it('nests the trampoline, the instance and the return handler at the end of the probed call', async () => {
    const tl = timelineOf(await runLog(s));
    expectProperNesting(tl);
    const call = slicesOn(tl, 'cpu/0', (x) => x.name === 'vfs_read')[0]!;
    const inCall = slicesOn(tl, 'cpu/0', (x) => contains(call, x) && x.cat !== 'call');
    // The entry: a breakpoint hit whose pre-handler takes an instance; the return: the trampoline.
    expect(inCall.map((x) => x.name)).toEqual(['kprobe rp', 'pre_handler rp', 'single-step', 'kretprobe_trampoline vfs_read', 'kretprobe rp (rp#1)', 'ret_handler rp']);
    const [entry, , , tramp, inst, ret] = inCall;
    expect(tramp!.startSeq).toBeGreaterThan(entry!.endSeq);
    expect(contains(tramp!, inst!)).toBe(true);
    expect(contains(inst!, ret!)).toBe(true);
    // The trampoline returns for vfs_read: the call and the trampoline end together.
    expect(tramp!.endSeq).toBe(call.endSeq);
    // maxactive 0 on one CPU: max(10, 2 × 1) = 10 instances; one goes out and comes back.
    const free = tl.counters.find((c) => c.id === 'free/rp')!;
    expect(free.points.map((p) => p.value)).toEqual([10, 9, 10]);
    expect(free.points[2]!.seq).toBeGreaterThanOrEqual(inst!.startSeq);
    expect(free.points[2]!.seq).toBeLessThanOrEqual(inst!.endSeq);
  });
});

describe('a seq window', () => {
  it('clips slices cut by --from/--to instead of dropping them', async () => {
    const log = await runLog(BUILTIN_SCENARIOS.get('unregister-race')!);
    const whole = timelineOf(log);
    const handler = whole.slices.find((x) => x.name === 'pre_handler slow')!;
    // A window inside the first pre-handler's last step, a spin of 400 steps (no call running).
    const from = handler.endSeq - 60;
    const to = handler.endSeq - 10;
    const tl = timelineOf(log, { from, to });
    expectProperNesting(tl);
    expect([tl.firstSeq, tl.lastSeq]).toEqual([from, to]);
    expect(tl.times).toEqual(log.events.filter((e) => e.seq >= from && e.seq <= to).map((e) => e.t));
    const clipped = tl.slices.find((x) => x.name === 'pre_handler slow')!;
    expect(clipped).toMatchObject({ startSeq: from, endSeq: to, clippedStart: true, clippedEnd: true });
    // Its containers are clipped the same way: task, call, trap.
    expect(stackAt(tl, 'cpu/1', from).map((x) => x.cat)).toEqual(['task', 'call', 'kprobe', 'handler']);
    for (const x of tl.slices) {
      expect(x.startSeq).toBeGreaterThanOrEqual(from);
      expect(x.endSeq).toBeLessThanOrEqual(to);
    }
    for (const i of tl.instants) expect(i.seq).toBeGreaterThanOrEqual(from);
    // Counters start at the window with the value they had then.
    expect(tl.counters.find((c) => c.id === 'hits/slow')!.points).toEqual([{ seq: from, value: 1 }]);
    // No flow has both ends in this window.
    expect(tl.flows).toEqual([]);
  });

  it('a window past a slice keeps nothing of it', async () => {
    const log = await runLog(BUILTIN_SCENARIOS.get('unregister-race')!);
    const whole = timelineOf(log);
    const sync = whole.slices.find((x) => x.cat === 'sync' && x.track === 'cpu/0' && x.name.includes('CPU 1'))!;
    const tl = timelineOf(log, { from: sync.endSeq + 1 });
    expect(tl.slices.some((x) => x.cat === 'sync' && x.name.includes('CPU 1'))).toBe(false);
    expect(tl.flows).toEqual([]);
  });
});

describe('bugs and violations', () => {
  it('a sleep in a handler is a BUG instant on its CPU, inside the handler', async () => {
    const tl = timelineOf(await runLog(BUILTIN_SCENARIOS.get('sleep-in-handler')!));
    const bugs = tl.instants.filter((i) => i.severity === 'bug');
    expect(bugs.length).toBeGreaterThan(0);
    for (const b of bugs) {
      expect(b.name).toBe('BUG: sleeping function called from invalid context');
      expect(b.track).toMatch(/^cpu\/\d+$/);
      expect(stackAt(tl, b.track, b.seq).some((x) => x.cat === 'handler')).toBe(true);
    }
    expect(tl.instants.some((i) => i.severity === 'violation')).toBe(false);
  });

  it("a planted bug's invariant violations are instants where the checker saw them", async () => {
    // no-reenter-check: a reentrant hit runs the handlers again instead of missing, which
    // INV-status reports; printk-recursion reenters on every print from a handler.
    const log = await runLog({ ...BUILTIN_SCENARIOS.get('printk-recursion')!, max_steps: 2000 }, 42, 'no-reenter-check');
    const tl = timelineOf(log);
    const vs = tl.instants.filter((i) => i.severity === 'violation');
    expect(vs.length).toBeGreaterThan(0);
    for (const v of vs) {
      expect(v.cat).toBe('violation');
      expect(v.args.inv).toBe('INV-status');
      expect(v.name).toBe('INV-status violated');
      expect(typeof v.args.message).toBe('string');
      // On the track of the CPU whose event showed it.
      const e = log.events[v.seq - 1]!;
      expect(v.track).toBe(e.src);
    }
    expectProperNesting(tl);
  });
});

describe('placement', () => {
  it('moves a slice that would overlap without nesting to an async track of the same parent', () => {
    const raw = (start: number, end: number, n: number) => ({ track: 'mutex', name: `s${n}`, cat: 'mutex', start, end, args: {}, level: 0, n, clippedStart: false, clippedEnd: false });
    const tracks = [{ id: 'mutex', name: 'kprobe_mutex', kind: 'mutex' as const, order: 0 }];
    const { slices, tracks: out } = placeSlices([raw(1, 10, 0), raw(2, 5, 1), raw(4, 12, 2), raw(11, 20, 3)], tracks);
    expect(out).toEqual([
      { id: 'mutex', name: 'kprobe_mutex', kind: 'mutex', order: 0 },
      { id: 'mutex~1', name: 'kprobe_mutex (2)', kind: 'async', order: 1, parent: 'mutex' },
    ]);
    expect(slices.map((x) => [x.name, x.track, x.depth])).toEqual([
      ['s0', 'mutex', 0],
      ['s1', 'mutex', 1],
      ['s3', 'mutex', 0],
      ['s2', 'mutex~1', 0],
    ]);
  });
});

describe('every built-in scenario', () => {
  it.each([...BUILTIN_SCENARIOS.keys()])('%s: slices nest on every track, flows and instants point into the window', async (name) => {
    const tl = timelineOf(await runLog(BUILTIN_SCENARIOS.get(name)!));
    expectProperNesting(tl);
    const ids = new Set(tl.tracks.map((t) => t.id));
    for (const x of tl.slices) expect(ids.has(x.track)).toBe(true);
    for (const i of tl.instants) {
      expect(ids.has(i.track)).toBe(true);
      expect(i.seq).toBeGreaterThanOrEqual(tl.firstSeq);
      expect(i.seq).toBeLessThanOrEqual(tl.lastSeq);
    }
    for (const f of tl.flows) for (const end of [f.from, f.to]) expect(stackAt(tl, end.track, end.seq).length, `${f.name} ${JSON.stringify(end)}`).toBeGreaterThan(0);
    // Serialisable as it is (the viewer embeds it).
    expect(JSON.parse(JSON.stringify(tl))).toEqual(tl);
  });
});
