import { describe, expect, it } from 'vitest';
import { kprobeBucket, KPROBE_HASH_BITS } from '../src/kprobes/table.ts';
import { BUILTIN_SYMBOLS } from '../src/kernel/index.ts';
import { EILSEQ, EINVAL } from '../src/kprobes/errno.ts';
import { toHex } from '../src/model/hex.ts';
import type { ProbeSpec, Scenario, TaskOp } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { InputError } from '../src/errors.ts';
import { indexOf, ofType, scenario, trace } from './helpers.ts';

// Rules of spec §1-§8 that the other suites exercise without naming them.

describe('the probe table (spec §1.2)', () => {
  it('R5: 64 buckets, the bucket a function of the address alone', () => {
    expect(1 << KPROBE_HASH_BITS).toBe(64);
    const buckets = new Set(BUILTIN_SYMBOLS.functions().map((f) => kprobeBucket(f.addr)));
    for (const b of buckets) expect(b >= 0 && b < 64).toBe(true);
    // Spread over several buckets, and stable.
    expect(buckets.size).toBeGreaterThan(8);
    const clone = BUILTIN_SYMBOLS.lookup('kernel_clone')!.addr;
    expect(kprobeBucket(clone)).toBe(kprobeBucket(clone));
  });
});

describe('re-registration (spec §1.1)', () => {
  it('R2/R4: registering again resets nmissed; nothing else resets it', () => {
    const run = trace(
      scenario({
        probes: [{ name: 'kp', symbol: 'dput', pre: [{ do: 'call', fn: 'dput' }] }],
        tasks: [
          {
            comm: 'x',
            program: [
              { op: 'register_kprobe', probe: 'kp' },
              { op: 'call', fn: 'dput' },
              { op: 'call', fn: 'dput' },
              { op: 'unregister_kprobe', probe: 'kp' },
              // R22: reusing the struct needs addr and flags cleared, as lib/test_kprobes.c does.
              { op: 'clear_kprobe', probe: 'kp' },
              { op: 'register_kprobe', probe: 'kp' },
              { op: 'call', fn: 'dput' },
            ],
          },
        ],
      }),
    );
    const unregistered = indexOf(run.events, (e) => e.type === 'kprobe.unregistered');
    // Two calls, each handler calls dput once more: two misses, kept through the unregister.
    expect(run.states[unregistered]!.stats.kp!.nmissed).toBe(2);
    expect(run.final.stats.kp).toMatchObject({ hits: 2, nmissed: 1, handled: 1 });
    expect(run.violations).toEqual([]);
  });
});

describe('reusing a struct kprobe (R22, R2)', () => {
  const vfsRead = toHex(BUILTIN_SYMBOLS.lookup('vfs_read')!.addr);
  const again = (probe: ProbeSpec, clear: TaskOp[]) =>
    trace(
      scenario({
        probes: [probe],
        tasks: [{ comm: 'insmod', program: [{ op: 'register_kprobe', probe: probe.name }, { op: 'unregister_kprobe', probe: probe.name }, ...clear, { op: 'register_kprobe', probe: probe.name }, { op: 'call', fn: 'vfs_read' }] }],
      }),
    );
  const kp: ProbeSpec = { name: 'kp', symbol: 'vfs_read', pre: [{ do: 'print', text: 'hit' }] };

  it('R22/R21: registering again without clearing addr fails with -EINVAL (symbol_name and addr both set) and changes nothing in the kernel', () => {
    const r = again(kp, []);
    expect(r.violations).toEqual([]);
    const fail = ofType(r.events, 'kprobe.register.fail');
    expect(fail).toMatchObject([{ errno: -EINVAL }]);
    expect(fail[0]!.reason).toMatch(/R22/);
    const i = r.events.indexOf(fail[0]!);
    expect(r.states[i]!.kprobes).toEqual(r.states[i - 1]!.kprobes);
    expect(r.final.kprobes.table).toEqual({});
    expect(ofType(r.events, 'printk')).toEqual([]);
  });

  it('R2/R64: with only addr cleared, the DISABLED flag the unregister left makes the new registration a disabled one', () => {
    const r = again(kp, [{ op: 'clear_kprobe', probe: 'kp', fields: ['addr'] }]);
    expect(r.violations).toEqual([]);
    expect(ofType(r.events, 'kprobe.insert').map((e) => e.disabled)).toEqual([false, true]);
    expect(r.final.kprobes.table[vfsRead]).toEqual({ probes: ['kp'], armed: false });
    expect(ofType(r.events, 'printk')).toEqual([]);
  });

  it('R22: with only flags cleared the stale addr still fails; with both cleared (lib/test_kprobes.c) the probe works again', () => {
    const flagsOnly = again(kp, [{ op: 'clear_kprobe', probe: 'kp', fields: ['flags'] }]);
    expect(ofType(flagsOnly.events, 'kprobe.register.fail').map((e) => e.errno)).toEqual([-EINVAL]);
    const both = again(kp, [{ op: 'clear_kprobe', probe: 'kp' }]);
    expect(both.violations).toEqual([]);
    expect(ofType(both.events, 'kprobe.registered')).toHaveLength(2);
    expect(ofType(both.events, 'printk').map((e) => e.text)).toEqual(['hit']);
  });

  it('R64: a second, failing unregister sets p->addr = NULL, so the struct registers again (disabled, R2) without clearing addr', () => {
    const r = again(kp, [{ op: 'unregister_kprobe', probe: 'kp' }]);
    expect(r.violations).toEqual([]);
    expect(ofType(r.events, 'kprobe.register.fail')).toEqual([]);
    expect(ofType(r.events, 'kprobe.insert').map((e) => e.disabled)).toEqual([false, true]);
    expect(r.final.kprobes.probes.kp).toMatchObject({ state: 'registered', addr: vfsRead, disabled: true });
  });

  it('R2: a probe given by address re-registers without clearing addr, but disabled unless its flags are cleared', () => {
    const byAddr: ProbeSpec = { name: 'ka', addr: vfsRead, pre: [{ do: 'print', text: 'hit' }] };
    expect(ofType(again(byAddr, []).events, 'kprobe.insert').map((e) => e.disabled)).toEqual([false, true]);
    const cleared = again(byAddr, [{ op: 'clear_kprobe', probe: 'ka', fields: ['flags'] }]);
    expect(ofType(cleared.events, 'kprobe.insert').map((e) => e.disabled)).toEqual([false, false]);
    expect(ofType(cleared.events, 'printk').map((e) => e.text)).toEqual(['hit']);
    // Clearing its addr would leave neither addr nor symbol (R21): refused at load time.
    const bad = () =>
      validateScenario({ name: 't', cpus: 1, probes: [byAddr], tasks: [{ comm: 'x', program: [{ op: 'clear_kprobe', probe: 'ka' }] }] });
    expect(bad).toThrow(InputError);
    expect(bad).toThrow(/tasks\[0\]\.program\[0\]\.fields/);
  });

  it('R22: a registration that fails after resolution (-EILSEQ) has written addr: the retry is -EINVAL until addr is cleared', () => {
    const mid: ProbeSpec = { name: 'mid', symbol: 'vfs_read', offset: 2, pre: [] };
    const program = (clear: boolean): TaskOp[] => [
      { op: 'register_kprobe', probe: 'mid' },
      { op: 'register_kprobe', probe: 'mid' },
      ...(clear ? [{ op: 'clear_kprobe', probe: 'mid', fields: ['addr'] } as TaskOp] : []),
      { op: 'register_kprobe', probe: 'mid' },
    ];
    const r = trace(scenario({ probes: [mid], tasks: [{ comm: 'insmod', program: program(true) }] }));
    expect(r.violations).toEqual([]);
    expect(ofType(r.events, 'kprobe.register.fail').map((e) => e.errno)).toEqual([-EILSEQ, -EINVAL, -EILSEQ]);
    expect(ofType(r.events, 'kprobe.addr').map((e) => e.addr)).toEqual([toHex(BUILTIN_SYMBOLS.lookup('vfs_read')!.addr + 2n), toHex(BUILTIN_SYMBOLS.lookup('vfs_read')!.addr + 2n)]);
    expect(r.final.kprobes.table).toEqual({});
  });
});

describe('p->flags and the post_handler flags argument (R1, R3)', () => {
  const flagsOf = (config: Scenario['config'], probe: Partial<ProbeSpec>, sleep = 0) => {
    const s = validateScenario({
      name: 't',
      cpus: 1,
      ...(config ? { config } : {}),
      max_steps: 50_000,
      probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'print', text: 'pre {kp_flags}' }], ...probe }],
      tasks: [{ comm: 'x', program: [{ op: 'register_kprobe', probe: 'kp' }, ...(sleep ? [{ op: 'sleep' as const, ticks: sleep }] : []), { op: 'call', fn: 'vfs_read' }] }],
    });
    const r = trace(s);
    expect(r.violations).toEqual([]);
    return ofType(r.events, 'printk').map((e) => e.text);
  };

  it('R1: ON_FUNC_ENTRY is 0x10 and FTRACE 0x8; OPTIMIZED (0x4) is the aggregator\'s, never the probe\'s own', () => {
    expect(flagsOf(undefined, {})).toEqual(['pre 10']);
    expect(flagsOf(undefined, { offset: 1 })).toEqual(['pre 0']);
    // On an ftrace build the entry is the fentry site: ftrace-based (§12).
    expect(flagsOf({ ftrace: true }, {})).toEqual(['pre 18']);
    // IBT: the probe goes to +4, still the entry (R24).
    expect(flagsOf({ ibt: true }, {})).toEqual(['pre 10']);
    // Optimized and reached through the jump (R86): the probe's flags are still its own.
    expect(flagsOf({ optprobes: true }, {}, 6000)).toEqual(['pre 10']);
  });

  it('R3: a post_handler\'s third argument is always 0; {post_flags} anywhere else is refused at load time', () => {
    expect(flagsOf(undefined, { post: [{ do: 'print', text: 'post {post_flags} {kp_flags}' }] })).toEqual(['pre 10', 'post 0 10']);
    const bad = () => validateScenario({ name: 't', cpus: 1, probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'print', text: '{post_flags}' }] }], tasks: [] });
    expect(bad).toThrow(/probes\[0\]\.pre\[0\]\.text.*R3/);
  });
});

describe('user-mode breakpoints (R44)', () => {
  it('R44: an int3 in user space is not kprobes\' business: no lookup, no miss; SIGTRAP ends the task', () => {
    const r = trace(
      scenario({
        cpus: 2,
        probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 30 }] }],
        tasks: [
          { comm: 'insmod', cpu: 0, program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'vfs_read' }] },
          { comm: 'gdbtest', cpu: 1, program: [{ op: 'sleep', ticks: 5 }, { op: 'user_int3' }, { op: 'call', fn: 'vfs_read' }] },
        ],
      }),
    );
    expect(r.violations).toEqual([]);
    const trap = ofType(r.events, 'trap.user');
    expect(trap).toMatchObject([{ cpu: 1 }]);
    // The kprobe traps are all insmod's own call; gdbtest never reached its vfs_read.
    expect(ofType(r.events, 'kprobe.trap').map((e) => e.pid)).toEqual([100]);
    expect(r.final.stats.kp).toMatchObject({ hits: 1, nmissed: 0 });
    const gdb = trap[0]!.pid;
    expect(ofType(r.events, 'func.call').filter((e) => e.pid === gdb).map((e) => e.fn)).not.toContain('vfs_read');
    expect(ofType(r.events, 'func.call').filter((e) => e.pid === gdb)[0]!.fn).toBe('do_exit');
    expect(ofType(r.events, 'task.exit').map((e) => e.pid)).toContain(gdb);
  });
});

describe('aggregated post-handlers and concurrency (spec §1.3, §2)', () => {
  it('R11: the aggregated post-handler calls every enabled child\'s post-handler, in list order', () => {
    const run = trace(
      scenario({
        probes: [
          { name: 'a', symbol: 'vfs_read', post: [{ do: 'spin', steps: 1 }] },
          { name: 'b', symbol: 'vfs_read', post: [{ do: 'spin', steps: 1 }] },
        ],
        tasks: [{ comm: 'x', program: [{ op: 'register_kprobe', probe: 'a' }, { op: 'register_kprobe', probe: 'b' }, { op: 'call', fn: 'vfs_read' }] }],
      }),
    );
    const post = ofType(run.events, 'handler.enter').filter((e) => e.phase === 'post').map((e) => e.probe);
    expect(post).toEqual(['b', 'a']);
  });

  it('R20: handlers of one probe run at the same time on different CPUs (no lock on the hit path)', () => {
    const run = trace(
      scenario({
        cpus: 2,
        probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 60 }] }],
        tasks: [
          { comm: 'insmod', cpu: 0, program: [{ op: 'register_kprobe', probe: 'kp' }] },
          { comm: 'a', cpu: 0, program: [{ op: 'sleep', ticks: 20 }, { op: 'call', fn: 'vfs_read', times: 3 }] },
          { comm: 'b', cpu: 1, program: [{ op: 'sleep', ticks: 20 }, { op: 'call', fn: 'vfs_read', times: 3 }] },
        ],
      }),
      { seed: 4 },
    );
    const both = run.states.some((s) => s.cpus[0]!.handler?.probe === 'kp' && s.cpus[1]!.handler?.probe === 'kp');
    expect(both).toBe(true);
    expect(run.violations).toEqual([]);
  });

  it('R6/R27: a hit on one probe goes on while another task holds kprobe_mutex to register another', () => {
    const run = trace(
      scenario({
        cpus: 2,
        probes: [
          { name: 'hot', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 60 }] },
          { name: 'late', symbol: 'dput' },
        ],
        tasks: [
          { comm: 'insmod', cpu: 0, program: [{ op: 'register_kprobe', probe: 'hot' }, { op: 'sleep', ticks: 30 }, { op: 'register_kprobe', probe: 'late' }] },
          { comm: 'cat', cpu: 1, program: [{ op: 'sleep', ticks: 25 }, { op: 'call', fn: 'vfs_read', times: 20 }] },
        ],
      }),
      { seed: 9 },
    );
    // The hit path (trap, lookup, handler steps) never waits for the mutex the other task holds.
    const hitPath = new Set(['kprobe.trap', 'kprobe.hit', 'handler.spin', 'handler.enter']);
    const overlap = run.events.filter((e, i) => hitPath.has(e.type) && run.states[i - 1]!.kprobes.mutex.owner !== null);
    expect(overlap.length).toBeGreaterThan(0);
    expect(run.violations).toEqual([]);
  });
});
