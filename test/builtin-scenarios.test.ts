import { describe, expect, it } from 'vitest';
import { MemoryLog } from '../src/log/writer.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { indexOf, ofType, trace } from './helpers.ts';

// Each built-in scenario's promised outcome, checked over several seeds.

const SEEDS = [1, 2, 42, 1234];

describe('built-in scenarios', () => {
  it('every built-in is a valid scenario', () => {
    for (const s of BUILTIN_SCENARIOS.values()) expect(validateScenario(s)).toEqual({ ...s });
  });

  for (const seed of SEEDS) {
    it(`default (seed ${seed}): kprobe_example prints the sample's x86 lines for every hit, then unregisters`, async () => {
      const r = await recordRun(BUILTIN_SCENARIOS.get('default')!, { seed, strategy: 'random' }, new MemoryLog());
      expect(r.violations).toEqual([]);
      expect(r.endReason).toBe('done');
      const text = r.dmesg.map((l) => l.replace(/^\[ *\d+\.\d{6}\] /, ''));
      const planted = /^Planted kprobe at ([0-9a-f]{16})$/.exec(text[0]!);
      expect(planted).not.toBeNull();
      const p = planted![1]!;
      expect(text.at(-1)).toBe(`kprobe at ${p} unregistered`);
      // samples/kprobes/kprobe_example.c, CONFIG_X86 branch: ip is p->addr + 1 (after int3).
      const pre = text.filter((l) => l.startsWith('<kernel_clone> pre_handler'));
      const post = text.filter((l) => l.startsWith('<kernel_clone> post_handler'));
      for (const l of pre) expect(l).toBe(`<kernel_clone> pre_handler: p->addr = 0x${p}, ip = ffffffff81000001, flags = 0x246`);
      for (const l of post) expect(l).toBe(`<kernel_clone> post_handler: p->addr = 0x${p}, flags = 0x246`);
      const kp = r.state.stats.kp!;
      expect(kp.hits).toBeGreaterThan(0);
      expect(pre).toHaveLength(kp.pre_calls);
      expect(post).toHaveLength(kp.post_calls);
      expect(kp.pre_calls).toBe(kp.hits);
      expect(r.state.kprobes.probes.kp!.state).toBe('unregistered');
    });

    it(`printk-recursion (seed ${seed}): each handler's print is a miss on the probed _printk; handlers never nest`, () => {
      const run = trace(BUILTIN_SCENARIOS.get('printk-recursion')!, { seed });
      expect(run.violations).toEqual([]);
      const { kp_printk, kp_read } = run.final.stats;
      // Every handler prints once through _printk while its kprobe runs: one miss each (R50).
      expect(kp_printk!.nmissed).toBe(kp_printk!.pre_calls + kp_read!.pre_calls);
      expect(kp_read!.nmissed).toBe(0);
      expect(kp_read!.pre_calls).toBe(3);
      expect(kp_printk!.nmissed).toBeGreaterThan(3);
      expect(ofType(run.events, 'kprobe.miss').every((m) => m.probes.includes('kp_printk'))).toBe(true);
    });

    it(`unregister-race (seed ${seed}): unregister_kprobe returns only after every CPU left the handler`, () => {
      const run = trace(BUILTIN_SCENARIOS.get('unregister-race')!, { seed });
      expect(run.violations).toEqual([]);
      const returned = ofType(run.events, 'kprobe.unregistered')[0]!;
      const lastExit = ofType(run.events, 'handler.exit').at(-1)!;
      expect(returned.seq).toBeGreaterThan(lastExit.seq);
      const i = run.events.indexOf(returned);
      expect(run.states[i]!.cpus.every((c) => c.handler === null && c.status === 'idle')).toBe(true);
    });
  }
});

describe('one built-in scenario per spec section', () => {
  const run = (name: string, seed = 42) => trace(BUILTIN_SCENARIOS.get(name)!, { seed });

  it('aggregate (§1.3): handlers run newest first at each hit, and the forker\'s miss counts on both children (R9, R12)', () => {
    const r = run('aggregate');
    const pre = ofType(r.events, 'printk').map((p) => p.text);
    expect(pre).toEqual(['second: pre', 'first: pre']);
    expect(r.final.stats.first).toMatchObject({ hits: 2, nmissed: 1 });
    expect(r.final.stats.second).toMatchObject({ hits: 2, nmissed: 1 });
    expect(ofType(r.events, 'kprobe.miss')[0]!.probes).toEqual(['second', 'first']);
    expect(r.violations).toEqual([]);
  });

  it('mutex-contention (§2): critical sections of the two tasks never overlap (R16)', () => {
    const r = run('mutex-contention');
    expect(ofType(r.events, 'mutex.wait').length).toBeGreaterThan(0);
    let owner: number | null = null;
    for (const e of r.events) {
      if (e.type === 'mutex.lock') owner = e.pid;
      if (e.type === 'mutex.unlock') owner = null;
      if (e.type === 'kprobe.insert' || e.type === 'text.arm' || e.type === 'kprobe.unlink' || e.type === 'text.disarm') expect(e.pid).toBe(owner);
    }
    expect(r.violations).toEqual([]);
  });

  it('registration-errors (§3): each refusal returns its errno (R21, R23, R26, R28)', () => {
    const r = run('registration-errors');
    expect(ofType(r.events, 'kprobe.register.fail').map((f) => [f.probe, f.errno])).toEqual([
      ['blacklisted', -22],
      ['mid_insn', -84],
      ['padding', -2],
      ['ok', -22],
    ]);
    expect(r.final.kprobes.probes.ok!.state).toBe('registered');
  });

  it('enable-disable (§4): every hit falls between enable_kprobe returning and disable_kprobe returning (R29, R34, R35)', () => {
    const r = run('enable-disable');
    const [enabled, disabled] = ofType(r.events, 'kprobe.returned');
    const traps = ofType(r.events, 'kprobe.trap');
    expect(traps.length).toBeGreaterThan(0);
    for (const t of traps) {
      expect(t.seq).toBeGreaterThan(enabled!.seq);
      expect(t.seq).toBeLessThan(disabled!.seq);
    }
    expect(r.violations).toEqual([]);
  });

  it('global-switch (§5): no breakpoint trap while the switch is off (R42)', () => {
    const r = run('global-switch');
    const off = ofType(r.events, 'kprobes.enabled_written').find((e) => !e.value)!;
    const on = ofType(r.events, 'kprobes.all_disarmed').find((e) => !e.value)!;
    const traps = ofType(r.events, 'kprobe.trap');
    expect(traps.some((t) => t.seq < off.seq)).toBe(true);
    expect(traps.some((t) => t.seq > on.seq)).toBe(true);
    expect(traps.some((t) => t.seq > off.seq && t.seq < on.seq)).toBe(false);
  });

  it('kunit-missed (§6): nmissed == 2 with each handler run once (R52)', () => {
    expect(run('kunit-missed').final.stats.kp).toMatchObject({ hits: 3, nmissed: 2, pre_calls: 1, post_calls: 1 });
  });

  it('sleep-in-handler (§7): a scheduling-while-atomic BUG, and no switch of that CPU meanwhile (R61)', () => {
    const r = run('sleep-in-handler');
    expect(ofType(r.events, 'printk').map((p) => p.text)).toContain('BUG: scheduling while atomic: cat/700/0x00000001');
    expect(r.violations).toEqual([]);
  });

  it('module-unload (§13): the probe becomes GONE at rmmod, cannot be enabled, and unregisters (R95, R97)', () => {
    const r = run('module-unload');
    expect(ofType(r.events, 'module.gone')[0]!.gone).toEqual(['kp']);
    expect(ofType(r.events, 'kprobe.returned').map((e) => e.ret)).toEqual([-22]);
    expect(r.final.stats.kp!.hits).toBe(2);
    expect(r.final.kprobes.probes.kp!.state).toBe('unregistered');
    expect(r.violations).toEqual([]);
  });

  it('module-init (§13): the init code is probed while it runs, the probe turns GONE at LIVE; rmmod during the init is refused (R96, R25.4, R31)', () => {
    const r = run('module-init');
    expect(r.violations).toEqual([]);
    const insmod = ofType(r.events, 'module.coming')[0]!.pid;
    // Registered between COMING and LIVE; the init's call into slow_setup then hits it once.
    const coming = indexOf(r.events, (e) => e.type === 'module.coming');
    const registered = indexOf(r.events, (e) => e.type === 'kprobe.registered');
    const live = indexOf(r.events, (e) => e.type === 'module.live');
    expect(coming).toBeLessThan(registered);
    expect(registered).toBeLessThan(live);
    expect(ofType(r.events, 'printk').map((e) => [e.text, e.pid])).toEqual([['slow_setup ran in insmod: the init is probed', insmod]]);
    expect(r.events[live]).toMatchObject({ gone: ['init_probe'] });
    // The first rmmod came while insmod ran the module's code: refused, nothing else happened.
    expect(ofType(r.events, 'module.busy')).toMatchObject([{ module: 'slow_mod', users: [insmod] }]);
    // The second one unloads it; the GONE probe then unregisters cleanly.
    expect(ofType(r.events, 'module.gone')).toHaveLength(1);
    expect(r.final.kprobes.probes.init_probe!.state).toBe('unregistered');
    expect(r.final.kprobes.table).toEqual({});
  });

  it('ss-fault (§6.5): the stepped copy faults, the probe hits again after the page is mapped, nothing is missed (R57)', () => {
    const r = run('ss-fault');
    expect(ofType(r.events, 'kprobe.ss.fault')).toHaveLength(1);
    expect(ofType(r.events, 'insn.fault').map((e) => e.outcome)).toEqual(['resolved']);
    const lines = ofType(r.events, 'printk').map((e) => e.text.replace(/ = [0-9a-f]{16}/, ''));
    expect(lines).toEqual(['pre_handler: p->addr, hit on cpu 0', 'pre_handler: p->addr, hit on cpu 0', 'post_handler: p->addr']);
    expect(r.final.stats.kp).toMatchObject({ hits: 2, nmissed: 0 });
    expect(r.violations).toEqual([]);
  });

  it('ftrace-probes (§12): entry probes fire through ftrace at +4 after ENDBR64; a breakpoint handler’s nested call is a miss, an ftrace handler’s is dropped (R24, R90–R92)', () => {
    const r = run('ftrace-probes');
    expect(r.violations).toEqual([]);
    expect(ofType(r.events, 'kprobe.trap').map((e) => e.addr)).toEqual([ofType(r.events, 'kprobe.registered').find((e) => e.probe === 'bp_open')!.addr]);
    expect(ofType(r.events, 'kprobe.ss')).toHaveLength(1);
    // ksys_read twice: vfs_read's probe fires twice; each pre-handler's getname call is dropped.
    expect(r.final.stats.ft_read).toMatchObject({ hits: 2, nmissed: 0, pre_calls: 2, post_calls: 2 });
    expect(ofType(r.events, 'kprobe.ftrace.recursion')).toHaveLength(2);
    // do_sys_open: the breakpoint handler's getname is a miss; do_sys_openat2's own call a hit.
    expect(r.final.stats.ft_getname).toMatchObject({ hits: 2, nmissed: 1, pre_calls: 1 });
  });

  it('timer-tick (§7): the probe on scheduler_tick fires from the timer interrupt on both CPUs, interrupting each CPU’s own task (R59, R60)', () => {
    const r = run('timer-tick');
    expect(r.violations).toEqual([]);
    const lines = new Set(ofType(r.events, 'printk').map((e) => e.text));
    expect(lines).toEqual(new Set(['scheduler_tick on cpu 0, interrupting insmod', 'scheduler_tick on cpu 1, interrupting cat']));
    // Every hit happened inside an interrupt: between an irq.enter and its irq.exit on that CPU.
    for (const h of ofType(r.events, 'kprobe.hit')) {
      const i = r.events.indexOf(h);
      expect(r.states[i]!.cpus[h.cpu]!.in_irq).toBe(1);
    }
    expect(r.final.stats.tick!.hits).toBeGreaterThan(2);
    expect(r.final.stats.tick!.nmissed).toBe(0);
  });

  it('optprobes (§11): queued, the breakpoint path honours the pre-handler’s return (R46); once patched the jump ignores it (R86); a nested call is a miss (R84–R87)', () => {
    const r = run('optprobes');
    expect(r.violations).toEqual([]);
    const patch = ofType(r.events, 'kprobe.opt.patch')[0]!;
    const redirect = ofType(r.events, 'kprobe.redirect');
    expect(redirect).toHaveLength(1);
    expect(r.events.indexOf(redirect[0]!)).toBeLessThan(r.events.indexOf(patch));
    expect(ofType(r.events, 'kprobe.opt.hit')).toHaveLength(1);
    expect(ofType(r.events, 'kprobe.opt.miss')).toMatchObject([{ probes: ['fast'] }]);
    expect(r.final.stats.fast).toMatchObject({ hits: 3, nmissed: 1, pre_calls: 2 });
    // R87/R68: unregistering queues the unoptimization; the optimizer restores the code later
    // (the run goes on idle until it has), and the emptied aggregator leaves the table then.
    expect(ofType(r.events, 'kprobe.opt.unopt.queue').map((e) => e.addr)).toEqual([patch.addr]);
    expect(ofType(r.events, 'kprobe.opt.unpatch').map((e) => e.addr)).toEqual([patch.addr]);
    expect(r.final.kprobes.table).toEqual({});
  });

  it('optprobes-teardown (§11): the unregistered probe\'s jump stays until the optimizer; a DISABLED probe registered meanwhile revives the aggregator, which outlives it (R87, R68, R15)', () => {
    const r = run('optprobes-teardown');
    expect(r.violations).toEqual([]);
    const at = ofType(r.events, 'kprobe.opt.patch')[0]!.addr;
    // Only the first call, through the jump, runs a handler.
    expect(ofType(r.events, 'printk').map((e) => e.text)).toEqual(['first: vfs_read by insmod']);
    expect(ofType(r.events, 'kprobe.trap')).toEqual([]);
    // first's unregister queued the unoptimization; late's registration revived the aggregator
    // before the optimizer ran, so nothing was ever unpatched.
    const queued = indexOf(r.events, (e) => e.type === 'kprobe.opt.unopt.queue');
    const revive = indexOf(r.events, (e) => e.type === 'kprobe.opt.revive');
    expect(queued).toBeGreaterThan(0);
    expect(revive).toBeGreaterThan(queued);
    expect(r.events[revive]!.t).toBeLessThan(ofType(r.events, 'kprobe.opt.unopt.queue')[0]!.due);
    expect(ofType(r.events, 'kprobe.opt.unpatch')).toEqual([]);
    // Every later call still jumps: late's (no handler: disabled), then with no child at all.
    expect(ofType(r.events, 'kprobe.opt.hit').map((e) => e.probes)).toEqual([['first'], ['late'], []]);
    expect(r.final.kprobes.table[at]).toEqual({ probes: [], armed: true, opt: { state: 'optimized' }, aggr_disabled: false });
  });

  it('jprobe-4.14 (§10): each fork runs the jprobe handler at _do_fork’s entry, then _do_fork itself (R82)', () => {
    const r = run('jprobe-4.14');
    expect(r.violations).toEqual([]);
    const lines = ofType(r.events, 'printk').map((e) => e.text);
    expect(lines).toEqual(['jprobe: clone in sh', 'jprobe: clone in sh']);
    // Both forks happened: the handler did not stop the call.
    expect(ofType(r.events, 'task.exec').map((e) => e.comm)).toEqual(['ls', 'cat']);
    expect(r.final.stats.my_jprobe).toMatchObject({ hits: 2, nmissed: 0 });
  });
});
