import { describe, expect, it } from 'vitest';
import { kprobeBucket, KPROBE_HASH_BITS } from '../src/kprobes/table.ts';
import { BUILTIN_SYMBOLS } from '../src/kernel/index.ts';
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
