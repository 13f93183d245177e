// Registers in handlers (issue 3 item 9): `{reg:NAME}` prints a register of the probed context
// (pt_regs) and `set_reg` writes one; the later handlers of the same hit see the write, the next
// hit does not (its pt_regs are the code's own again).

import { describe, expect, it } from 'vitest';
import type { ProbeSpec } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { ofType, trace } from './helpers.ts';

function run(probe: ProbeSpec, arch: 'x86_64' | 'arm64' = 'x86_64') {
  return trace(validateScenario({ name: 'regs', cpus: 1, arch, probes: [probe], tasks: [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: probe.name }, { op: 'call', fn: 'vfs_read', times: 2 }] }] }));
}

describe('registers in handlers', () => {
  it('a pre-handler writes %si; the post-handler of the same hit reads it back; the next hit sees the model’s value again', () => {
    const r = run({ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'print', text: 'pre si={reg:si}' }, { do: 'set_reg', reg: 'si', value: 42 }], post: [{ do: 'print', text: 'post si={reg:si}' }] });
    expect(r.violations).toEqual([]);
    expect(ofType(r.events, 'printk').map((e) => e.text)).toEqual(['pre si=0x0', 'post si=0x2a', 'pre si=0x0', 'post si=0x2a']);
    expect(ofType(r.events, 'kprobe.set_reg')).toMatchObject([{ reg: 'si', value: 42 }, { reg: 'si', value: 42 }]);
  });

  it('{reg:ip} is just past the breakpoint, as {ip}; {reg:sp} at an entry points at the return address', () => {
    const r = run({ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'print', text: '{reg:ip} {ip} {reg:sp}' }] });
    const [ip, plain, sp] = ofType(r.events, 'printk')[0]!.text.split(' ');
    expect(ip).toBe(`0x${plain}`);
    expect(BigInt(sp!)).toBeGreaterThanOrEqual(0xffffc90000000000n);
  });

  it('arm64 names (x0…, lr) on an arm64 kernel; writing the IP, the stack pointer or a foreign register is a field error', () => {
    const arm = run({ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'set_reg', reg: 'x1', value: 7 }, { do: 'print', text: '{reg:x1}' }] }, 'arm64');
    expect(ofType(arm.events, 'printk').map((e) => e.text)).toEqual(['0x7', '0x7']);
    const bad = (step: object, arch: 'x86_64' | 'arm64' = 'x86_64') => () => validateScenario({ name: 'x', cpus: 1, arch, probes: [{ name: 'kp', symbol: 'vfs_read', pre: [step] }], tasks: [] });
    expect(bad({ do: 'set_reg', reg: 'ip', value: 1 })).toThrow('scenario.probes[0].pre[0].reg: ip changes where execution goes: use "jump" or "override_return"');
    expect(bad({ do: 'set_reg', reg: 'x0', value: 1 })).toThrow(/^scenario\.probes\[0\]\.pre\[0\]\.reg: "x0" is not an x86_64 register/);
    expect(bad({ do: 'print', text: '{reg:di}' }, 'arm64')).toThrow('scenario.probes[0].pre[0].text: {reg:di}: not an arm64 register');
  });
});
