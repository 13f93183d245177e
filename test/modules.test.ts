import { describe, expect, it } from 'vitest';
import { EINVAL, ENOENT } from '../src/kprobes/errno.ts';
import type { ProbeSpec, Scenario, TaskOp } from '../src/scenario/types.ts';
import { InputError } from '../src/errors.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { kprobesList } from '../src/views/debugfs.ts';
import { indexOf, ofType, scenario, trace } from './helpers.ts';

// Loadable modules and init memory (spec §13, R25).

function withModule(program: TaskOp[], probes: ProbeSpec[] = [{ name: 'kp', symbol: 'test_mod:mod_work', pre: [{ do: 'spin' as const, steps: 1 }] }]): Scenario {
  const s = scenario({ probes: [], tasks: [] });
  return validateScenario({
    ...s,
    modules: [
      {
        name: 'test_mod',
        functions: [
          { name: 'mod_init', init: true, calls: ['mod_work'] },
          { name: 'mod_work', calls: ['kfree'], ret: 7 },
        ],
      },
    ],
    probes,
    tasks: [{ comm: 'insmod', program }],
  });
}

describe('modules', () => {
  it('R21/R25.2: MOD:SYM resolves in module text only once it is loaded (-ENOENT before); an address there before the load is -EINVAL', () => {
    const r = trace(withModule([{ op: 'register_kprobe', probe: 'kp' }, { op: 'insmod', module: 'test_mod' }, { op: 'register_kprobe', probe: 'kp' }]));
    // R21: the module's symbols are not in kallsyms yet: unknown symbol, and p->addr stays NULL,
    // so the same struct registers once the module is there.
    const fails = ofType(r.events, 'kprobe.register.fail');
    expect(fails.map((f) => f.errno)).toEqual([-ENOENT]);
    expect(ofType(r.events, 'kprobe.addr')).toEqual([]);
    const reg = ofType(r.events, 'kprobe.registered')[0]!;
    expect(BigInt(reg.addr) >= 0xffffffffc0000000n).toBe(true);
    expect(r.violations).toEqual([]);
    // R25.2: the same address given as such, before the module is loaded, is not kernel text.
    const byAddr = trace(withModule([{ op: 'register_kprobe', probe: 'ka' }, { op: 'insmod', module: 'test_mod' }, { op: 'register_kprobe', probe: 'ka' }], [{ name: 'ka', addr: reg.addr, pre: [] }]));
    expect(ofType(byAddr.events, 'kprobe.register.fail').map((f) => f.errno)).toEqual([-EINVAL]);
    expect(ofType(byAddr.events, 'kprobe.registered').map((e) => e.addr)).toEqual([reg.addr]);
  });

  it('R25.4: init text cannot be probed once the module has initialised (-ENOENT)', () => {
    const r = trace(
      withModule([{ op: 'insmod', module: 'test_mod' }, { op: 'register_kprobe', probe: 'ki' }], [{ name: 'ki', symbol: 'test_mod:mod_init', pre: [] }]),
    );
    expect(ofType(r.events, 'kprobe.register.fail').map((f) => f.errno)).toEqual([-ENOENT]);
  });

  it('R95/R97/R99: rmmod makes the probes in its text GONE; they stay registered; enable is -EINVAL, disable 0; the list shows [GONE]', () => {
    const s = withModule([
      { op: 'insmod', module: 'test_mod' },
      { op: 'register_kprobe', probe: 'kp' },
      { op: 'call', fn: 'test_mod:mod_work' },
      { op: 'rmmod', module: 'test_mod' },
      { op: 'enable_kprobe', probe: 'kp' },
      { op: 'disable_kprobe', probe: 'kp' },
    ]);
    const r = trace(s);
    const gone = ofType(r.events, 'module.gone')[0]!;
    expect(gone.gone).toEqual(['kp']);
    expect(r.final.kprobes.probes.kp).toMatchObject({ state: 'registered', gone: true });
    expect(ofType(r.events, 'kprobe.returned').map((e) => [e.fn, e.ret])).toEqual([
      ['enable_kprobe', -EINVAL],
      ['disable_kprobe', 0],
    ]);
    // The breakpoint is left in the freed text (R95), so no disarm happened.
    expect(ofType(r.events, 'text.disarm')).toHaveLength(0);
    const at = r.sim.setup.symbols.lookup('test_mod:mod_work')!.addr.toString(16);
    expect(kprobesList(r.final, s, r.sim.setup.symbols)).toBe(`${at}  k  mod_work+0x0  test_mod [GONE]\n`);
    expect(r.final.stats.kp!.hits).toBe(1);
    expect(r.violations).toEqual([]);
  });

  it('R95: unregistering a GONE probe unlinks it without touching the freed text', () => {
    const r = trace(
      withModule([
        { op: 'insmod', module: 'test_mod' },
        { op: 'register_kprobe', probe: 'kp' },
        { op: 'rmmod', module: 'test_mod' },
        { op: 'unregister_kprobe', probe: 'kp' },
      ]),
    );
    expect(ofType(r.events, 'kprobe.unregistered')).toHaveLength(1);
    expect(ofType(r.events, 'text.disarm')).toHaveLength(0);
    expect(r.final.kprobes.table).toEqual({});
    expect(r.violations).toEqual([]);
  });

  it('R14: a probe registered again at a GONE point after the module is reloaded arms fresh text; the GONE child stays silent', () => {
    const print = (text: string) => [{ do: 'print' as const, text }];
    const s = withModule(
      [
        { op: 'insmod', module: 'test_mod' },
        { op: 'register_kprobe', probe: 'old' },
        { op: 'rmmod', module: 'test_mod' },
        { op: 'insmod', module: 'test_mod' },
        { op: 'register_kprobe', probe: 'new' },
        { op: 'call', fn: 'test_mod:mod_work' },
        { op: 'enable_kprobe', probe: 'old' },
        { op: 'unregister_kprobe', probe: 'new' },
        { op: 'call', fn: 'test_mod:mod_work' },
        { op: 'unregister_kprobe', probe: 'old' },
      ],
      [
        { name: 'old', symbol: 'test_mod:mod_work', pre: print('old') },
        { name: 'new', symbol: 'test_mod:mod_work', pre: print('new') },
      ],
    );
    const r = trace(s);
    const at = `0x${r.sim.setup.symbols.lookup('test_mod:mod_work')!.addr.toString(16)}`;
    // The reloaded text has no breakpoint, so registering `new` must write one even though the
    // table still holds `old`'s entry at that address.
    expect(ofType(r.events, 'text.arm').map((e) => e.addr)).toEqual([at, at]);
    // One hit, on the first call only: both probes are listed, newest first (R9), and only `new` runs.
    expect(ofType(r.events, 'kprobe.hit').map((e) => e.probes)).toEqual([['new', 'old']]);
    expect(ofType(r.events, 'handler.enter').map((e) => e.probe)).toEqual(['new']);
    expect(ofType(r.events, 'handler.skip').filter((e) => e.phase === 'pre').map((e) => [e.probe, e.reason])).toEqual([['old', 'gone']]);
    expect(ofType(r.events, 'printk').map((e) => e.text)).not.toContain('old');
    // The old child keeps GONE: enable_kprobe still fails (R14, R35, R97).
    expect(ofType(r.events, 'kprobe.returned').map((e) => [e.fn, e.ret])).toEqual([['enable_kprobe', -EINVAL]]);
    // `new` was the only enabled child: unregistering it disarms the (live) text; `old` then
    // leaves without touching it.
    expect(ofType(r.events, 'text.disarm').map((e) => e.addr)).toEqual([at]);
    expect(r.final.stats.old).toMatchObject({ hits: 1, handled: 0, skipped: 1 });
    expect(r.final.stats.new).toMatchObject({ hits: 1, handled: 1, skipped: 0 });
    expect(r.final.kprobes.table).toEqual({});
    expect(r.violations).toEqual([]);
  });

  it('R96, R25.4: insmod runs the module\'s init; a probe registered in its init text meanwhile fires, then becomes GONE when the module goes live', () => {
    const s = validateScenario({
      ...scenario({ probes: [], tasks: [] }),
      cpus: 2,
      // The module-init built-in's slow_mod: a long init whose last call is into an __init helper.
      modules: BUILTIN_SCENARIOS.get('module-init')!.modules,
      probes: [{ name: 'ki', symbol: 'slow_mod:slow_setup', pre: [{ do: 'print', text: 'init hit {kp_flags}' }] }],
      tasks: [
        { comm: 'insmod', cpu: 0, program: [{ op: 'insmod', module: 'slow_mod' }] },
        // Registers once the module is there (its symbols known), while its init still runs.
        { comm: 'probe', cpu: 1, program: [{ op: 'sleep', ticks: 3 }, { op: 'register_kprobe', probe: 'ki' }, { op: 'sleep', ticks: 2000 }, { op: 'call', fn: 'slow_mod:slow_setup' }] },
      ],
    });
    const r = trace(s);
    const coming = indexOf(r.events, (e) => e.type === 'module.coming');
    const registered = indexOf(r.events, (e) => e.type === 'kprobe.registered');
    const live = indexOf(r.events, (e) => e.type === 'module.live');
    expect(coming).toBeGreaterThan(0);
    expect(registered).toBeGreaterThan(coming);
    expect(live).toBeGreaterThan(registered);
    // The init called slow_setup after the registration: the probe fired (flags: ON_FUNC_ENTRY).
    const hit = indexOf(r.events, (e) => e.type === 'printk' && e.text === 'init hit 10');
    expect(hit).toBeGreaterThan(registered);
    expect(hit).toBeLessThan(live);
    // R96: LIVE frees the init text: the probe is GONE (and stays registered).
    expect(r.events[live]).toMatchObject({ type: 'module.live', module: 'slow_mod', gone: ['ki'] });
    expect(r.final.kprobes.probes.ki).toMatchObject({ state: 'registered', gone: true });
    expect(kprobesList(r.states[live]!, s, r.sim.setup.symbols)).toMatch(/slow_setup\+0x0  slow_mod \[GONE\]\n$/);
    // Calling the freed init text afterwards oopses.
    expect(r.sim.endReason).toBe('bug');
    expect(ofType(r.events, 'kernel.oops').at(-1)!.message).toMatch(/slow_setup is init text of slow_mod, freed once it went live/);
  });

  it('R25.4: after the module went live its init text cannot be probed; insmod of a loaded module runs nothing again (-EEXIST)', () => {
    const r = trace(
      withModule(
        [{ op: 'insmod', module: 'test_mod' }, { op: 'insmod', module: 'test_mod' }, { op: 'register_kprobe', probe: 'ki' }, { op: 'call', fn: 'test_mod:mod_work' }],
        [{ name: 'ki', symbol: 'test_mod:mod_init', pre: [] }],
      ),
    );
    expect(r.violations).toEqual([]);
    expect(ofType(r.events, 'module.coming')).toHaveLength(1);
    expect(ofType(r.events, 'module.exists')).toMatchObject([{ module: 'test_mod', skip: 2 }]);
    // mod_init ran once (it calls mod_work), then the task's own call.
    expect(ofType(r.events, 'func.call').filter((e) => e.fn === 'mod_init')).toHaveLength(1);
    expect(ofType(r.events, 'func.call').filter((e) => e.fn === 'mod_work')).toHaveLength(2);
    expect(ofType(r.events, 'kprobe.register.fail').map((e) => e.errno)).toEqual([-ENOENT]);
  });

  it('R31: a registration holds a module reference only while it runs: rmmod in that window is refused (so is one while its code runs), before and after it succeeds', () => {
    const s = validateScenario({
      ...withModule([{ op: 'insmod', module: 'test_mod' }, { op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'test_mod:mod_work' }]),
      cpus: 2,
    });
    let busy = 0;
    let busyRegistering = 0;
    let unloaded = 0;
    let noref = 0;
    for (let sleep = 10; sleep <= 40; sleep += 2) {
      for (let seed = 1; seed <= 12; seed++) {
        const r = trace({ ...s, tasks: [...s.tasks, { comm: 'rmmod', program: [{ op: 'sleep', ticks: sleep }, { op: 'rmmod', module: 'test_mod' }] }] }, { seed });
        expect(r.violations).toEqual([]);
        const refused = indexOf(r.events, (e) => e.type === 'module.busy');
        const rmmod = indexOf(r.events, (e) => e.type === 'module.rmmod');
        if (refused >= 0) {
          busy++;
          // The module stays, and kp works.
          // Refused while kp's registration was under way (R31), while the task ran the
          // module's code (its init or mod_work), or before its init started.
          const busyEvent = ofType([r.events[refused]!], 'module.busy')[0]!;
          expect(busyEvent.module).toBe('test_mod');
          const registering = r.states[refused - 1]!.kprobes.probes.kp!.state === 'registering';
          expect(busyEvent.probes).toEqual(registering ? ['kp'] : []);
          if (registering) busyRegistering++;
          else if (busyEvent.users.length > 0) expect(busyEvent.users).toEqual([100]);
          else expect(r.states[refused - 1]!.kprobes.modules.test_mod).toBe('coming');
          expect(r.final.kprobes.modules.test_mod).toBe(true);
          expect(r.final.stats.kp!.hits).toBe(1);
        }
        if (rmmod >= 0) {
          // Accepted only when no registration was under way: before it started or once it returned.
          expect(r.states[rmmod]!.kprobes.probes.kp!.state).not.toBe('registering');
          const gone = indexOf(r.events, (e) => e.type === 'module.gone');
          if (gone >= 0) unloaded++;
          // From then on the module is going: a call into it cannot take a reference (no call),
          // and a registration there is -ENOENT (R25.2).
          for (const e of ofType(r.events, 'module.noref')) {
            noref++;
            expect(r.events.indexOf(e)).toBeGreaterThan(rmmod);
            expect(r.events.indexOf(e)).toBeLessThan(gone < 0 ? Infinity : gone);
          }
        }
      }
    }
    // The scan hits each case.
    expect(busyRegistering).toBeGreaterThan(0);
    expect(busy).toBeGreaterThan(busyRegistering);
    expect(unloaded).toBeGreaterThan(0);
    expect(noref).toBeGreaterThan(0);
  });

  it('calling into an unloaded module oopses: its code is gone', () => {
    const r = trace(withModule([{ op: 'call', fn: 'test_mod:mod_work' }], []));
    expect(r.sim.endReason).toBe('bug');
    expect(ofType(r.events, 'printk')[0]!.text).toMatch(/^BUG: unable to handle page fault for address: ffffffffc0/);
  });

  it('module definitions are checked at load time', () => {
    const bad = (modules: unknown) => {
      try {
        validateScenario({ name: 'x', cpus: 1, modules, tasks: [] });
        return 'accepted';
      } catch (e) {
        return e instanceof InputError ? e.message : String(e);
      }
    };
    expect(bad([{ name: 'm', functions: [{ name: 'vfs_read' }] }])).toBe('scenario.modules[0].functions[0].name: "vfs_read" is already a kernel symbol');
    expect(bad([{ name: 'm', functions: [{ name: 'f', calls: ['nope'] }] }])).toBe('scenario.modules: f calls unknown function nope');
  });
});
