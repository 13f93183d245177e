import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUILTIN_SYMBOLS } from '../src/kernel/index.ts';
import { EILSEQ, EINVAL, ENOENT } from '../src/kprobes/errno.ts';
import type { KernelState } from '../src/model/state.ts';
import type { ProbeSpec, Scenario, TaskOp } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { trace } from '../test/helpers.ts';
import { RUNS } from './helpers.ts';

// INV-validate: every rejected registration returns the errno the spec names and changes nothing.
// The expected errno comes from an oracle written from spec §3 over the image's data (symbols,
// instruction offsets, and the blacklist as the kernel's NOKPROBE/__kprobes/noinstr lists name
// it), not from the model's own resolver.

const symbols = BUILTIN_SYMBOLS;
/** Functions kprobes refuse (R28): NOKPROBE_SYMBOL, __kprobes, noinstr and entry text. */
const BLACKLISTED = new Set(['get_kprobe', 'kprobe_int3_handler', 'arch_arm_kprobe', 'kretprobe_trampoline', 'kprobe_ftrace_handler', 'do_int3', 'exc_page_fault', 'asm_exc_int3', 'entry_SYSCALL_64', 'sysvec_apic_timer_interrupt', 'asm_sysvec_apic_timer_interrupt']);
/** x86's kretprobe_blacklist (R70). */
const KRET_BLACKLISTED = new Set(['__switch_to']);
const SITES = ['vfs_read', 'kfree', 'dput', 'getname', '__switch_to', 'get_kprobe', 'do_int3', 'kretprobe_trampoline', 'linux_proc_banner'];
const OFFSETS = [0, 0, 1, 2, 4, 5, 8, 12, 17, 21, 40, 400];

/** What register_kprobe (register_kretprobe) returns for a fresh struct, by spec §3. */
function oracle(p: ProbeSpec): number {
  const sym = symbols.lookup(p.symbol!);
  if (sym === undefined) return -ENOENT; // R21: unknown symbol
  const addr = sym.addr + BigInt(p.offset ?? 0);
  const owner = symbols.containing(addr);
  if (owner === undefined) return -ENOENT; // R21, R70: inside no symbol
  // R70: a return probe only at a function entry, the address re-expressed against the symbol
  // that really contains it (R21).
  if (p.kind === 'kretprobe' && addr !== owner.addr) return -EINVAL;
  if (owner.kind !== 'func') return -EINVAL; // R25.2: not text
  if (BLACKLISTED.has(owner.name)) return -EINVAL; // R28
  if (p.kind === 'kretprobe' && KRET_BLACKLISTED.has(owner.name)) return -EINVAL; // R70
  const off = Number(addr - owner.addr);
  if (!owner.body.some((i) => i.off === off)) return -EILSEQ; // R26: not an instruction boundary
  return 0;
}

/** The kernel's side of the state: what a rejected registration must leave as it was. */
function kernelSide(w: KernelState) {
  const { table, mutex, calls, sync, gps, all_disarmed, modules } = w.kprobes;
  return { table, mutex, calls, sync, gps, all_disarmed, modules, kretprobes: w.kretprobes };
}

const probeSpec = (name: string): fc.Arbitrary<ProbeSpec> =>
  fc.record({ symbol: fc.constantFrom(...SITES), offset: fc.constantFrom(...OFFSETS), kind: fc.constantFrom<'kprobe' | 'kretprobe'>('kprobe', 'kprobe', 'kretprobe') }).map(
    (p): ProbeSpec => (p.kind === 'kretprobe' ? { name, kind: 'kretprobe', symbol: p.symbol, offset: p.offset, handler: [] } : { name, symbol: p.symbol, offset: p.offset, pre: [] }),
  );

const scenarioArb: fc.Arbitrary<{ scenario: Scenario; batch: boolean }> = fc
  .record({ probes: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }).chain((xs) => fc.tuple(...xs.map((_, i) => probeSpec(`p${i}`)))), batch: fc.boolean(), cpus: fc.integer({ min: 1, max: 2 }) })
  .map(({ probes, batch, cpus }) => {
    const names = probes.map((p) => p.name);
    const program: TaskOp[] = batch ? [{ op: 'register_kprobes', probes: names }] : names.map((probe): TaskOp => ({ op: 'register_kprobe', probe }));
    const scenario = validateScenario({
      name: 'inv-validate',
      cpus,
      max_steps: 20_000,
      probes,
      // Only one task registers; the other one keeps the probed functions busy.
      tasks: [{ comm: 'insmod', program }, { comm: 'cat', program: [{ op: 'call', fn: 'vfs_read', times: 3 }, { op: 'call', fn: 'dput' }] }],
    });
    return { scenario, batch };
  });

describe('INV-validate', () => {
  it('INV-validate: a rejected registration returns the errno of spec §3 (R21, R25, R26, R28, R70) and leaves the kernel as it was; an accepted one registers', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 1, max: 1e6 }), ({ scenario, batch }, seed) => {
        const r = trace(scenario, { seed });
        expect(r.violations).toEqual([]);
        if (!batch) {
          for (const p of scenario.probes) {
            const expected = oracle(p);
            const fail = r.events.find((e) => e.type === 'kprobe.register.fail' && e.probe === p.name);
            if (expected === 0) {
              expect(fail).toBeUndefined();
              expect(r.final.kprobes.probes[p.name]!.state).toBe('registered');
              continue;
            }
            expect(fail).toMatchObject({ errno: expected });
            // The attempt's events: from the first event of this op (a kprobe.addr or the fail) to the fail.
            const at = r.events.indexOf(fail!);
            const first = r.events[at - 1]?.type === 'kprobe.addr' ? at - 1 : at;
            expect(kernelSide(r.states[at]!)).toEqual(kernelSide(r.states[first - 1]!));
            expect(r.final.kprobes.probes[p.name]!.state).toBe('unregistered');
          }
          return;
        }
        // R32: a batch returns the first failing entry's errno, and rolls back the entries before it.
        const firstBad = scenario.probes.find((p) => oracle(p) !== 0);
        const ret = r.events.find((e) => e.type === 'kprobe.batch.return');
        expect(ret).toMatchObject({ ret: firstBad === undefined ? 0 : oracle(firstBad) });
        if (firstBad === undefined) return;
        const start = r.events.findIndex((e) => e.type === 'kprobe.batch');
        expect(kernelSide(r.states[r.events.indexOf(ret!)]!).table).toEqual(kernelSide(r.states[start - 1]!).table);
        for (const p of scenario.probes) expect(r.final.kprobes.probes[p.name]!.state).toBe('unregistered');
      }),
      { numRuns: RUNS * 4 },
    );
  });
});
