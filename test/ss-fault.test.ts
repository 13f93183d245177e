import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.ts';
import { symbolsFor, type FunctionSymbol } from '../src/kernel/index.ts';
import type { ProbeSpec, TaskOp } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { ofType, scenario, trace } from './helpers.ts';

// A fault raised by the instruction a kprobe single-steps (spec R57), and the same injected
// fault without a probe, for comparison.

type Outcome = 'resolved' | 'fixup' | 'oops';

const vfsRead = symbolsFor('6.17').lookup('vfs_read') as FunctionSymbol;
// vfs_read+0x4 is the instruction after `push %rbp; mov %rsp,%rbp`: an ordinary one.
const AT = 4;
const ip = `0x${(vfsRead.addr + BigInt(AT)).toString(16)}`;

const probe: ProbeSpec = { name: 'kp', symbol: 'vfs_read', offset: AT, pre: [{ do: 'print', text: 'pre' }], post: [{ do: 'print', text: 'post' }] };

function run(outcome: Outcome, probed = true) {
  const program: TaskOp[] = [{ op: 'call', fn: 'vfs_read', fault: { at: AT, outcome } }];
  return trace(
    scenario({ probes: probed ? [probe] : [], tasks: [{ comm: 'cat', program: probed ? [{ op: 'register_kprobe', probe: 'kp' }, ...program] : program }] }),
  );
}

const texts = (r: ReturnType<typeof run>) => ofType(r.events, 'printk').map((p) => p.text);
/** The probed instruction, executed for real in the task (in place, or as the stepped copy). */
const ranAt = (r: ReturnType<typeof run>) => ofType(r.events, 'insn.exec').filter((e) => e.ctx === 'task' && e.ip === ip).length;

describe('R57: the single-stepped copy faults', () => {
  it('resolved: current_kprobe is reset, the fault is handled as the original instruction\'s, and the probe hits again; no nmissed', () => {
    const r = run('resolved');
    const at = r.events.findIndex((e) => e.type === 'kprobe.ss.fault');
    expect(at).toBeGreaterThan(0);
    expect(r.events[at - 1]).toMatchObject({ type: 'kprobe.ss', addr: ip });
    expect(r.events[at + 1]).toMatchObject({ type: 'insn.fault', ip, outcome: 'resolved' });
    // Right after the reset: no kprobe context, preemption and interrupts as before the trap.
    expect(r.states[at]!.cpus[0]).toMatchObject({ current: null, status: 'idle', preempt_count: 0, irqs_off: false });
    // First hit: pre, then the fault (no post). Second hit: pre, the step succeeds, post.
    expect(texts(r)).toEqual(['pre', 'pre', 'post']);
    expect(ofType(r.events, 'kprobe.hit')).toHaveLength(2);
    expect(r.final.stats.kp).toMatchObject({ hits: 2, nmissed: 0, pre_calls: 2, post_calls: 1 });
    expect(ranAt(r)).toBe(1);
    expect(r.sim.endReason).toBe('done');
    expect(r.violations).toEqual([]);
  });

  it('fixup: the exception table resumes after the instruction; the probe does not hit again and no post-handler runs', () => {
    const r = run('fixup');
    expect(texts(r)).toEqual(['pre']);
    expect(r.final.stats.kp).toMatchObject({ hits: 1, nmissed: 0, post_calls: 0 });
    expect(ranAt(r)).toBe(0);
    // vfs_read still runs to its end and returns to the task.
    expect(ofType(r.events, 'func.ret').some((e) => e.fn === 'vfs_read' && e.ctx === 'task')).toBe(true);
    expect(r.sim.endReason).toBe('done');
    expect(r.violations).toEqual([]);
  });

  it('no fixup: an oops at the probe address (not at the copy), still without nmissed', () => {
    const r = run('oops');
    expect(r.sim.endReason).toBe('bug');
    expect(texts(r)).toContain('pre');
    expect(texts(r).find((t) => t.startsWith('RIP: '))).toMatch(/^RIP: 0010:vfs_read\+0x4\//);
    expect(ofType(r.events, 'kernel.oops')[0]).toMatchObject({ addr: ip });
    expect(r.final.stats.kp!.nmissed).toBe(0);
    expect(r.violations).toEqual([]);
  });
});

describe('an injected fault without a probe', () => {
  it('resolved: the instruction runs again once the page is there', () => {
    const r = run('resolved', false);
    const fault = r.events.findIndex((e) => e.type === 'insn.fault');
    const retry = r.events.findIndex((e) => e.type === 'insn.exec' && e.ip === ip);
    expect(fault).toBeGreaterThan(0);
    expect(retry).toBeGreaterThan(fault);
    expect(ranAt(r)).toBe(1);
    expect(r.sim.endReason).toBe('done');
  });

  it('fixup: the instruction is skipped; oops: the run ends in a bug', () => {
    const fixed = run('fixup', false);
    expect(ranAt(fixed)).toBe(0);
    expect(fixed.sim.endReason).toBe('done');
    expect(run('oops', false).sim.endReason).toBe('bug');
  });

  it('each call of a repeated op faults once', () => {
    const r = trace(scenario({ tasks: [{ comm: 'cat', program: [{ op: 'call', fn: 'vfs_read', times: 3, fault: { at: AT, outcome: 'resolved' } }] }] }));
    expect(ofType(r.events, 'insn.fault')).toHaveLength(3);
    expect(ranAt(r)).toBe(3);
  });

  it('the fault must name an ordinary instruction of the function', () => {
    const bad = (at: number) => {
      try {
        validateScenario({ name: 'x', cpus: 1, tasks: [{ comm: 'c', program: [{ op: 'call', fn: 'vfs_read', fault: { at, outcome: 'fixup' } }] }] });
        return 'accepted';
      } catch (e) {
        return e instanceof InputError ? e.message : String(e);
      }
    };
    expect(bad(2)).toMatch(/^scenario\.tasks\[0\]\.program\[0\]\.fault\.at: vfs_read\+0x2 is not the start of an instruction \(starts: 0x0, 0x1, 0x4/);
    const call = vfsRead.body.find((x) => x.op.k === 'call')!;
    expect(bad(call.off)).toBe(
      `scenario.tasks[0].program[0].fault.at: vfs_read+0x${call.off.toString(16)} is a call, which does not access memory; pick an ordinary instruction`,
    );
    expect(bad(AT)).toBe('accepted');
  });
});
