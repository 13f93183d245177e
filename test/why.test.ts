import { describe, expect, it } from 'vitest';
import { initialState } from '../src/model/initial.ts';
import { symbolsOf } from '../src/model/setup.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { Folder } from '../src/views/folder.ts';
import { WhyView } from '../src/views/why.ts';
import { ofType, scenario, trace } from './helpers.ts';

// `kprobesim why`: every nmissed increment and every wait of an unregister, explained.

function why(name: string | Scenario, probe: string, seed = 42) {
  const s = typeof name === 'string' ? BUILTIN_SCENARIOS.get(name)! : name;
  const run = trace(s, { seed });
  const view = new WhyView(probe, symbolsOf(s));
  const folder = new Folder(initialState(s), [view]);
  for (const e of run.events) folder.apply(e);
  return { run, text: view.text(folder.state) };
}

describe('why', () => {
  it('R50: lists one line per nmissed increment, naming the CPU, the running kprobe and its status', () => {
    const { run, text } = why('printk-recursion', 'kp_printk');
    const misses = ofType(run.events, 'kprobe.miss');
    const lines = text.split('\n').filter((l) => /^ {2}seq \d+ /.test(l));
    expect(lines).toHaveLength(run.final.stats.kp_printk!.nmissed);
    lines.forEach((line, i) => {
      const m = misses[i]!;
      expect(line).toContain(`seq ${m.seq} (t=${m.t}): cpu ${m.cpu} (pid ${m.pid}) hit _printk+0x0/`);
      expect(line).toMatch(/while (kp_printk|kp_read) was running: in (kp_printk|kp_read)'s pre-handler \(KPROBE_HIT_ACTIVE\)/);
      expect(line).toMatch(new RegExp(`nmissed is now ${i + 1}$`));
    });
  });

  it('R86: explains a miss counted by the optimized jump (a kprobe already running on the CPU)', () => {
    const { run, text } = why('optprobes', 'fast');
    const miss = ofType(run.events, 'kprobe.opt.miss')[0]!;
    const lines = text.split('\n').filter((l) => /^ {2}seq \d+ /.test(l));
    expect(lines).toHaveLength(run.final.stats.fast!.nmissed);
    expect(lines[0]).toMatch(new RegExp(`^  seq ${miss.seq} \\(t=${miss.t}\\): cpu 0 \\(pid ${miss.pid}\\) hit vfs_read\\+0x0/.* while slow was running: in slow's pre-handler \\(KPROBE_HIT_ACTIVE\\); no handler ran \\(R86, through the optimized jump\\); nmissed is now 1$`));
  });

  it('R58: explains a miss counted by the pre-5.14 fault path (a fault inside a handler)', () => {
    const s = scenario({
      probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'fault', fixup: true }] }],
      tasks: [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'vfs_read' }] }],
    });
    const { run, text } = why({ ...s, kernel: '5.10' }, 'kp');
    const fault = ofType(run.events, 'kprobe.fault')[0]!;
    expect(run.final.stats.kp!.nmissed).toBe(1);
    expect(text).toContain(
      `  seq ${fault.seq} (t=${fault.t}): cpu 0 (pid ${fault.pid}) took a fault in kp's pre-handler (KPROBE_HIT_ACTIVE) at vfs_read+0x0/0x16 (fixed up by the exception table); kprobe_fault_handler() counted it as a miss (R58, before v5.14); nmissed is now 1`,
    );
  });

  it('R55/R65: tells which CPUs an unregister waited for, and until when', () => {
    const { run, text } = why('unregister-race', 'slow');
    const sync = ofType(run.events, 'text.sync.start').find((e) => e.sync === 2)!;
    const ack = ofType(run.events, 'ipi.ack').find((e) => e.sync === 2)!;
    const done = ofType(run.events, 'kprobe.unregistered')[0]!;
    expect(text).toContain(`unregister_kprobe(slow) by pid ${done.pid} on cpu 0`);
    expect(text).toContain(`text-patch sync 2 at seq ${sync.seq} (t=${sync.t}): waited for cpu 1 (R55)`);
    expect(text).toMatch(new RegExp(`cpu 1 was in slow's (pre|post)-handler \\(KPROBE_HIT_(ACTIVE|SSDONE)\\); released it at seq ${ack.seq} \\(t=${ack.t}\\)`));
    expect(text).toContain(`returned at seq ${done.seq} (t=${done.t})`);
  });
});

describe('why, for a kretprobe', () => {
  it('R73/R74: lists each pool miss with how many instances were out and which tasks\' calls held them', () => {
    const { run, text } = why('kretprobe-pool', 'rp');
    const misses = ofType(run.events, 'kretprobe.miss');
    expect(misses.length).toBeGreaterThan(0);
    expect(text).toContain(`kretprobe pool misses, rp->nmissed (${misses.length}; maxactive 2):`);
    for (const m of misses) {
      const line = text.split('\n').find((l) => l.startsWith(`  seq ${m.seq} (t=${m.t}): cpu ${m.cpu} (pid ${m.pid}) entered the function`))!;
      expect(line).toMatch(/all 2 of 2 instances were out with calls still running \(in pids \d+, \d+\)/);
      // The holders are other tasks, whose frames carry this kretprobe's instances.
      const holders = /in pids (\d+), (\d+)/.exec(line)!.slice(1).map(Number);
      expect(holders).not.toContain(m.pid);
    }
  });
});
