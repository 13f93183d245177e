import { describe, expect, it } from 'vitest';
import { MemoryLog } from '../src/log/writer.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { ofType, trace } from './helpers.ts';

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
