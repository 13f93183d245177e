// R72, R77: a kretprobe's instances are preallocated, each with its data[]; the entry handler and
// the return handler of one call share the instance and so the data, and the kernel does not
// clear data[] between uses. kretprobe_example.c stores ktime_get() on entry and prints the
// call's duration on return: here `set_data: now` and `{elapsed}`.

import { describe, expect, it } from 'vitest';
import type { ProbeSpec, TaskSpec } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { indexOf, ofType, trace } from './helpers.ts';

function run(probes: ProbeSpec[], tasks: TaskSpec[], cpus = 1) {
  return trace(validateScenario({ name: 'data', cpus, max_steps: 50_000, probes, tasks }));
}

describe('kretprobe data[] (R77)', () => {
  it('kretprobe_example.c: the entry handler stamps the time, the return handler prints how long the call took', () => {
    const r = run(
      [{ name: 'rp', kind: 'kretprobe', symbol: 'vfs_read', maxactive: 2, entry: [{ do: 'set_data', value: 'now' }], handler: [{ do: 'print', text: '{symbol} returned {retval} and took {elapsed} ns to execute' }] }],
      [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: 'rp' }, { op: 'call', fn: 'ksys_read', times: 2 }] }],
    );
    expect(r.violations).toEqual([]);
    const stamps = ofType(r.events, 'kretprobe.data');
    const lines = ofType(r.events, 'printk');
    expect(lines).toHaveLength(2);
    for (let i = 0; i < 2; i++) {
      // The duration is the time of the print minus the stamp its own call stored.
      const ns = (lines[i]!.t - stamps[i]!.value) * 1000;
      expect(lines[i]!.text).toBe(`vfs_read returned 0 and took ${ns} ns to execute`);
      expect(stamps[i]!.value).toBe(stamps[i]!.t);
    }
  });

  it('the kernel does not clear data[]: an entry handler that stores nothing sees what the instance held before', () => {
    // One instance (maxactive 1): the second call reuses it. Only the first call's entry stores.
    const r = run(
      [
        {
          name: 'rp',
          kind: 'kretprobe',
          symbol: 'vfs_read',
          maxactive: 1,
          entry: [{ do: 'print', text: 'entry sees {data}' }],
          handler: [{ do: 'print', text: 'return sees {data}' }, { do: 'set_data', value: 42 }],
        },
      ],
      [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: 'rp' }, { op: 'call', fn: 'ksys_read', times: 2 }] }],
    );
    expect(r.violations).toEqual([]);
    expect(ofType(r.events, 'printk').map((e) => e.text)).toEqual(['entry sees 0', 'return sees 0', 'entry sees 42', 'return sees 42']);
  });

  it('concurrent calls hold different instances: each return handler sees its own call’s data', () => {
    const r = run(
      [{ name: 'rp', kind: 'kretprobe', symbol: 'vfs_read', maxactive: 4, entry: [{ do: 'set_data', value: 'now' }, { do: 'spin', steps: 5 }], handler: [{ do: 'print', text: '{comm} {data}' }] }],
      [
        { comm: 'a', cpu: 0, program: [{ op: 'register_kprobe', probe: 'rp' }, { op: 'call', fn: 'vfs_read', times: 3 }] },
        { comm: 'b', cpu: 1, program: [{ op: 'sleep', ticks: 20 }, { op: 'call', fn: 'vfs_read', times: 3 }] },
      ],
      2,
    );
    expect(r.violations).toEqual([]);
    // Match each print to the stamp of the instance that returned.
    for (const ret of ofType(r.events, 'kretprobe.ret_handler')) {
      const stamp = ofType(r.events.slice(0, r.events.indexOf(ret)), 'kretprobe.data').filter((d) => d.instance === ret.instance).at(-1)!;
      const print = r.events.slice(r.events.indexOf(ret)).find((e) => e.type === 'printk' && e.cpu === ret.cpu);
      expect(print).toMatchObject({ text: expect.stringMatching(new RegExp(` ${stamp.value}$`)) });
    }
    expect(indexOf(r.events, (e) => e.type === 'kretprobe.ret_handler')).toBeGreaterThan(-1);
  });

  it('set_data and {data} belong to kretprobe handlers (field paths)', () => {
    const base = { name: 'x', cpus: 1, tasks: [] };
    expect(() => validateScenario({ ...base, probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'set_data', value: 1 }] }] })).toThrow(/^scenario\.probes\[0\]\.pre\[0\]\.do: "set_data" is only for a kretprobe/);
    expect(() => validateScenario({ ...base, probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'print', text: '{elapsed}' }] }] })).toThrow(/^scenario\.probes\[0\]\.pre\[0\]\.text: \{data\} and \{elapsed\}/);
  });
});
