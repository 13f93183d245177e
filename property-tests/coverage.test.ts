import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scenarioArbitrary } from '../src/scenario/arbitrary.ts';
import { runInMemory } from './helpers.ts';

// The invariant properties are only as good as the runs they see. This checks that the
// scenario arbitrary really produces the situations the invariants are about.

describe('scenarioArbitrary coverage', () => {
  it('produces hits, reentrant misses, unregister races, mutex contention, stepped-copy faults (R57), overridden returns (R46) and ftrace-based hits (R90–R92)', async () => {
    const samples = fc.sample(fc.tuple(scenarioArbitrary(), fc.integer({ min: 0, max: 1e6 })), { seed: 99, numRuns: 400 });
    const seen = { hit: 0, miss: 0, syncWaited: 0, gpWaited: 0, mutexWait: 0, skipDisabled: 0, fork: 0, disabledByApi: 0, kretReturns: 0, kretMiss: 0, moduleGone: 0, ssFault: 0, override: 0, ftraceHit: 0, ftraceNested: 0, irqHit: 0, boost: 0, jump: 0, optHit: 0, optJump: 0, unoptQueued: 0, revived: 0, rearmed: 0, reused: 0 };
    for (const [scenario, seed] of samples) {
      const { log } = await runInMemory(scenario, seed);
      const text = log.text();
      if (text.includes('"type":"kprobe.hit"')) seen.hit++;
      if (text.includes('"type":"kprobe.miss"') || text.includes('"type":"kprobe.ftrace.miss"')) seen.miss++;
      if (/"type":"text\.sync\.start"[^\n]*"waiting":\[\d/.test(text)) seen.syncWaited++;
      if (/"type":"rcu\.gp\.start"[^\n]*"waiting":\[\d/.test(text)) seen.gpWaited++;
      if (text.includes('"type":"mutex.wait"')) seen.mutexWait++;
      if (text.includes('"reason":"disabled"')) seen.skipDisabled++;
      if (text.includes('"type":"task.fork"')) seen.fork++;
      if (text.includes('"fn":"disable_kprobe","ret":0')) seen.disabledByApi++;
      if (text.includes('"type":"kretprobe.ret_handler"')) seen.kretReturns++;
      if (text.includes('"type":"kretprobe.miss"')) seen.kretMiss++;
      if (/"type":"module\.gone"[^\n]*"gone":\["/.test(text)) seen.moduleGone++;
      if (text.includes('"type":"kprobe.ss.fault"')) seen.ssFault++;
      if (text.includes('"type":"kprobe.override"')) seen.override++;
      if (text.includes('"type":"kprobe.ftrace.hit"')) seen.ftraceHit++;
      if (text.includes('"type":"kprobe.boost"')) seen.boost++;
      if (text.includes('"type":"kprobe.jump"')) seen.jump++;
      if (text.includes('"type":"kprobe.opt.hit"') || text.includes('"type":"kprobe.detour"')) seen.optHit++;
      if (text.includes('"type":"kprobe.opt.hit"')) seen.optJump++;
      if (text.includes('"type":"kprobe.opt.unopt.queue"')) seen.unoptQueued++;
      if (text.includes('"type":"kprobe.opt.revive"')) seen.revived++;
      if (text.includes('"type":"kprobe.opt.rearm"')) seen.rearmed++;
      if (/"type":"kprobe\.clear"[^]*"type":"kprobe\.registered"/.test(text)) seen.reused++;
      // A handler ran inside the timer interrupt on its CPU (§7).
      if (handlerInIrq(text)) seen.irqHit++;
      if (text.includes('"type":"kprobe.ftrace.miss"') || text.includes('"type":"kprobe.ftrace.recursion"')) seen.ftraceNested++;
    }
    // Printed so a reader of the test log sees how often each situation came up.
    console.log('scenarioArbitrary coverage over 400 runs:', seen);
    expect(seen.hit).toBeGreaterThan(25);
    expect(seen.miss).toBeGreaterThan(6);
    expect(seen.syncWaited).toBeGreaterThan(3);
    expect(seen.gpWaited).toBeGreaterThan(0);
    expect(seen.mutexWait).toBeGreaterThan(5);
    expect(seen.fork).toBeGreaterThan(10);
    expect(seen.disabledByApi).toBeGreaterThan(5);
    expect(seen.kretReturns).toBeGreaterThan(3);
    expect(seen.kretMiss).toBeGreaterThan(0);
    expect(seen.moduleGone).toBeGreaterThan(0);
    expect(seen.ssFault).toBeGreaterThan(0);
    expect(seen.override).toBeGreaterThan(3);
    // ftrace-based probes (§12): hits, and calls nested in a running kprobe (R91).
    expect(seen.ftraceHit).toBeGreaterThan(10);
    expect(seen.ftraceNested).toBeGreaterThan(0);
    expect(seen.irqHit).toBeGreaterThan(3);
    // Boosted copies on kernels without CONFIG_PREEMPTION (R47.2).
    expect(seen.boost).toBeGreaterThan(3);
    expect(seen.jump).toBeGreaterThan(1);
    // Optimized probes (§11): queued points' detours, or jumps once patched.
    expect(seen.optHit).toBeGreaterThan(2);
    expect(seen.optJump).toBeGreaterThan(0);
    // R87: a patched point's disable or unregister, queued for the optimizer.
    expect(seen.unoptQueued).toBeGreaterThan(0);
    // …and taken off the queue again by enable_kprobe, or by a registration reviving the aggregator (R15).
    expect(seen.rearmed).toBeGreaterThan(0);
    expect(seen.revived).toBeGreaterThan(0);
    // A struct cleared and registered again (R22).
    expect(seen.reused).toBeGreaterThan(3);
  });
});

/** Whether some handler.enter comes between an irq.enter and its irq.exit on the same CPU. */
function handlerInIrq(text: string): boolean {
  const inIrq = new Set<number>();
  for (const line of text.split('\n')) {
    const m = /"type":"(irq\.enter|irq\.exit|handler\.enter)","cpu":(\d+)/.exec(line);
    if (m === null) continue;
    const cpu = Number(m[2]);
    if (m[1] === 'irq.enter') inIrq.add(cpu);
    else if (m[1] === 'irq.exit') inIrq.delete(cpu);
    else if (inIrq.has(cpu)) return true;
  }
  return false;
}
