import { describe, expect, it } from 'vitest';
import { BUILTIN_SYMBOLS } from '../src/kernel/index.ts';
import { EILSEQ, EINVAL, ENOENT } from '../src/kprobes/errno.ts';
import { resolveProbe } from '../src/kprobes/resolve.ts';
import { toHex } from '../src/model/hex.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { indexOf, ofType, scenario, trace } from './helpers.ts';

const sym = (name: string) => BUILTIN_SYMBOLS.lookup(name)!;

describe('address resolution and checks (spec §3)', () => {
  it('R21: symbol + offset resolves to the address, re-expressed in the symbol that holds it', () => {
    const clone = sym('kernel_clone');
    const r = resolveProbe({ name: 'kp', symbol: 'kernel_clone' }, BUILTIN_SYMBOLS);
    expect(r).toMatchObject({ ok: true, addr: clone.addr, offset: 0 });
    // An offset past the end of kernel_clone into the next function's first byte lands there.
    const next = sym('copy_process');
    const past = resolveProbe({ name: 'kp', symbol: 'kernel_clone', offset: Number(next.addr - clone.addr) }, BUILTIN_SYMBOLS);
    expect(past).toMatchObject({ ok: true, addr: next.addr, offset: 0 });
    expect(past.ok && past.fn.name).toBe('copy_process');
  });

  it('R21: an address inside no symbol (alignment padding) is -ENOENT', () => {
    const clone = sym('kernel_clone');
    const r = resolveProbe({ name: 'kp', symbol: 'kernel_clone', offset: clone.size }, BUILTIN_SYMBOLS);
    expect(r).toMatchObject({ ok: false, errno: -ENOENT });
  });

  it('R26: an offset in the middle of an instruction is -EILSEQ', () => {
    const clone = sym('kernel_clone');
    expect(clone.kind === 'func' && clone.body[0]!.len).toBe(1);
    expect(clone.kind === 'func' && clone.body[1]!.len).toBeGreaterThan(1);
    const r = resolveProbe({ name: 'kp', symbol: 'kernel_clone', offset: 2 }, BUILTIN_SYMBOLS);
    expect(r).toMatchObject({ ok: false, errno: -EILSEQ });
  });

  it('R28: a blacklisted function is -EINVAL (NOKPROBE_SYMBOL, __kprobes, noinstr, entry text)', () => {
    for (const name of ['get_kprobe', 'arch_arm_kprobe', 'exc_page_fault', 'asm_exc_int3']) {
      expect(resolveProbe({ name: 'kp', symbol: name }, BUILTIN_SYMBOLS)).toMatchObject({ ok: false, errno: -EINVAL });
    }
  });

  it('R21: data is not kernel text: -EINVAL', () => {
    expect(resolveProbe({ name: 'kp', symbol: 'linux_proc_banner' }, BUILTIN_SYMBOLS)).toMatchObject({ ok: false, errno: -EINVAL });
  });
});

describe('register_kprobe in a run (spec §3, §2)', () => {
  it('INV-validate/R28: a rejected registration returns the errno and changes nothing', () => {
    const run = trace(
      scenario({
        probes: [{ name: 'bad', symbol: 'get_kprobe', pre: [] }],
        tasks: [{ comm: 'insmod', program: [{ op: 'register_kprobe', probe: 'bad' }, { op: 'call', fn: 'vfs_read' }] }],
      }),
    );
    const fail = ofType(run.events, 'kprobe.register.fail');
    expect(fail).toHaveLength(1);
    expect(fail[0]!.errno).toBe(-EINVAL);
    const i = run.events.indexOf(fail[0]!);
    expect(run.states[i]!.kprobes).toEqual(run.states[i - 1]!.kprobes);
    expect(run.final.kprobes.table).toEqual({});
    expect(ofType(run.events, 'text.arm')).toHaveLength(0);
  });

  it('R23: registering a probe that is registered fails with -EINVAL and changes nothing', () => {
    const run = trace(
      scenario({
        probes: [{ name: 'kp', symbol: 'vfs_read' }],
        tasks: [{ comm: 'insmod', program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'register_kprobe', probe: 'kp' }] }],
      }),
    );
    const fail = ofType(run.events, 'kprobe.register.fail');
    expect(fail.map((f) => f.errno)).toEqual([-EINVAL]);
    const i = run.events.indexOf(fail[0]!);
    expect(run.states[i]!.kprobes).toEqual(run.states[i - 1]!.kprobes);
    expect(run.final.kprobes.table[toHex(sym('vfs_read').addr)]?.probes).toEqual(['kp']);
  });

  it('R18/R22/R27: the resolved address is set at once, the probe enters the table, then the breakpoint is written', () => {
    const run = trace(
      scenario({
        probes: [{ name: 'kp', symbol: 'vfs_read' }],
        tasks: [{ comm: 'insmod', program: [{ op: 'register_kprobe', probe: 'kp' }] }],
      }),
    );
    const reg = indexOf(run.events, (e) => e.type === 'kprobe.register');
    expect(run.states[reg]!.kprobes.probes.kp!.addr).toBe(toHex(sym('vfs_read').addr));
    const insert = indexOf(run.events, (e) => e.type === 'kprobe.insert');
    const arm = indexOf(run.events, (e) => e.type === 'text.arm');
    expect(insert).toBeGreaterThan(reg);
    expect(arm).toBeGreaterThan(insert);
    expect(run.states[arm - 1]!.kprobes.table[toHex(sym('vfs_read').addr)]).toEqual({ probes: ['kp'], armed: false });
  });

  it('R16/INV-mutex: two registrations at once: the second waits for kprobe_mutex, sections do not overlap', () => {
    const run = trace(
      scenario({
        cpus: 2,
        probes: [
          { name: 'a', symbol: 'vfs_read' },
          { name: 'b', symbol: 'dput' },
        ],
        tasks: [
          { comm: 'insmod', cpu: 0, program: [{ op: 'register_kprobe', probe: 'a' }] },
          { comm: 'insmod', cpu: 1, program: [{ op: 'register_kprobe', probe: 'b' }] },
        ],
      }),
      { strategy: 'round-robin' },
    );
    const waits = ofType(run.events, 'mutex.wait');
    expect(waits).toHaveLength(1);
    const waiter = waits[0]!.pid;
    const unlock = ofType(run.events, 'mutex.unlock').find((e) => e.pid !== waiter)!;
    // R16: the holder hands the mutex straight to the waiter, whose section starts after.
    expect(unlock.next).toBe(waiter);
    const lock = ofType(run.events, 'mutex.lock').find((e) => e.pid === waiter)!;
    expect(lock.seq).toBeGreaterThan(unlock.seq);
    expect(run.violations).toEqual([]);
  });
});

describe('unregister_kprobe (spec §8)', () => {
  it('R55/R65/R67: unregister waits for the CPU inside the handler before unlinking and returning', () => {
    const run = trace(BUILTIN_SCENARIOS.get('unregister-race')!, { seed: 42 });
    const sync = ofType(run.events, 'text.sync.start').find((e) => e.sync === 2)!;
    // CPU 1 is inside the slow handler when CPU 0 disarms: the sync must wait for it.
    expect(sync.waiting).toEqual([1]);
    const at = run.events.indexOf(sync);
    expect(run.states[at]!.cpus[1]!.status).not.toBe('idle');
    const done = indexOf(run.events, (e) => e.type === 'kprobe.done' && e.cpu === 1, at);
    const ack = indexOf(run.events, (e) => e.type === 'ipi.ack' && e.cpu === 1, at);
    const syncEnd = indexOf(run.events, (e) => e.type === 'text.sync.end' && e.sync === 2, at);
    const unlink = indexOf(run.events, (e) => e.type === 'kprobe.unlink', at);
    const returned = indexOf(run.events, (e) => e.type === 'kprobe.unregistered', at);
    expect(done).toBeGreaterThan(at);
    // The IPI is taken the moment interrupts are back on, in the same step (R55).
    expect(ack).toBe(done + 1);
    expect(syncEnd).toBeGreaterThan(ack);
    expect(unlink).toBeGreaterThan(syncEnd);
    expect(returned).toBeGreaterThan(unlink);
    // At return no CPU is in the probe's handlers and none will be (INV-unregister).
    expect(run.states[returned]!.cpus.every((c) => c.handler === null && c.current === null)).toBe(true);
    expect(run.events.slice(returned).some((e) => e.type === 'handler.enter')).toBe(false);
    expect(run.violations).toEqual([]);
  });

  it('R64: unregistering a probe that is not registered changes nothing and still returns', () => {
    const run = trace(
      scenario({
        probes: [{ name: 'kp', symbol: 'vfs_read' }],
        tasks: [{ comm: 'rmmod', program: [{ op: 'unregister_kprobe', probe: 'kp' }, { op: 'call', fn: 'vfs_read' }] }],
      }),
    );
    expect(ofType(run.events, 'kprobe.unregistered')).toHaveLength(1);
    expect(ofType(run.events, 'kprobe.disable')).toHaveLength(0);
    expect(ofType(run.events, 'kprobe.unlink')).toHaveLength(0);
    expect(run.final.kprobes.probes.kp).toMatchObject({ state: 'unregistered' });
    expect(run.final.tasks).toEqual([]);
  });

  it('R13/INV-text: removing one of two probes at an address keeps the breakpoint; removing the last restores the byte', () => {
    const run = trace(
      scenario({
        probes: [
          { name: 'a', symbol: 'vfs_read' },
          { name: 'b', symbol: 'vfs_read' },
        ],
        tasks: [
          {
            comm: 'insmod',
            program: [
              { op: 'register_kprobe', probe: 'a' },
              { op: 'register_kprobe', probe: 'b' },
              { op: 'unregister_kprobe', probe: 'a' },
              { op: 'call', fn: 'vfs_read' },
              { op: 'unregister_kprobe', probe: 'b' },
              { op: 'call', fn: 'vfs_read' },
            ],
          },
        ],
      }),
    );
    const addr = toHex(sym('vfs_read').addr);
    expect(ofType(run.events, 'text.disarm').map((e) => e.addr)).toEqual([addr]);
    const firstGone = indexOf(run.events, (e) => e.type === 'kprobe.unregistered');
    expect(run.states[firstGone]!.kprobes.table[addr]).toEqual({ probes: ['b'], armed: true });
    expect(run.final.stats.b!.hits).toBe(1);
    expect(run.final.stats.a!.hits).toBe(0);
    expect(run.final.kprobes.table).toEqual({});
  });
});
