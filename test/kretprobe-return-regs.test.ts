import { describe, expect, it } from 'vitest';
import { symbolsFor, type KernelVersion } from '../src/kernel/index.ts';
import type { HandlerStep } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { ofType, trace } from './helpers.ts';

// Issue 9 §3, spec R75: the trampoline sets regs->ip (arm64 regs->pc) to the real return address
// before it calls the return handlers, so a return handler is "at" the caller, just past its call
// of the probed function, not at the entry probe's address + 1. Its stack is the trampoline's
// frames on top of the caller's; the function that returned is no longer on it.

type Arch = 'x86_64' | 'arm64';

function retRun(handler: HandlerStep[], arch: Arch = 'x86_64', kernel: KernelVersion = '6.17') {
  return trace(
    validateScenario({
      name: 'rp',
      cpus: 1,
      arch,
      kernel,
      probes: [{ name: 'rp', kind: 'kretprobe', symbol: 'vfs_read', handler }],
      tasks: [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: 'rp' }, { op: 'call', fn: 'ksys_read' }] }],
    }),
  );
}

/** Where vfs_read returns to in ksys_read: just past ksys_read's call instruction. */
function returnSite(arch: Arch, kernel: KernelVersion): { addr: bigint; line: string } {
  const ksys = symbolsFor(kernel, arch).lookup('ksys_read')!;
  if (ksys.kind !== 'func') throw new Error('ksys_read is not a function');
  const call = ksys.body.find((i) => i.op.k === 'call' && i.op.fn === 'vfs_read')!;
  const off = call.off + call.len;
  return { addr: ksys.addr + BigInt(off), line: ` ksys_read+0x${off.toString(16)}/0x${ksys.size.toString(16)}` };
}

describe('a kretprobe return handler sees the real return address (R75)', () => {
  it('x86_64: {ip} and {reg:ip} are the return site in the caller, not vfs_read + 1', () => {
    const r = retRun([{ do: 'print', text: '{ip} {reg:ip}' }]);
    const site = returnSite('x86_64', '6.17').addr.toString(16);
    const entry = symbolsFor('6.17').lookup('vfs_read')!.addr;
    const [text] = ofType(r.events, 'printk').map((e) => e.text);
    expect(text).toBe(`${site} 0x${site}`);
    expect(text).not.toContain((entry + 1n).toString(16));
  });

  it('arm64: {pc} is the return site too (regs->pc := the real return address)', () => {
    const r = retRun([{ do: 'print', text: '0x{pc}' }], 'arm64');
    expect(ofType(r.events, 'printk').map((e) => e.text)).toEqual([`0x${returnSite('arm64', '6.17').addr.toString(16)}`]);
  });

  const chains: [KernelVersion, Arch, string[]][] = [
    // v6.17: rethook (x86 since v5.19; arm64 too by v6.17).
    ['6.17', 'x86_64', ['kretprobe_rethook_handler', 'rethook_trampoline_handler', 'arch_rethook_trampoline_callback', 'arch_rethook_trampoline']],
    ['6.17', 'arm64', ['kretprobe_rethook_handler', 'rethook_trampoline_handler', 'arch_rethook_trampoline_callback', 'arch_rethook_trampoline']],
    // v5.10: the arch's handler calls the generic __kretprobe_trampoline_handler.
    ['5.10', 'x86_64', ['__kretprobe_trampoline_handler', 'trampoline_handler', 'kretprobe_trampoline']],
    ['5.10', 'arm64', ['__kretprobe_trampoline_handler', 'trampoline_probe_handler', 'kretprobe_trampoline']],
    // v4.14: the arch's handler walks the instances itself.
    ['4.14', 'x86_64', ['trampoline_handler', 'kretprobe_trampoline']],
  ];
  for (const [kernel, arch, chain] of chains) {
    it(`${kernel} ${arch}: dump_stack in the return handler shows ${chain.join(' ← ')} over the caller at the return site`, () => {
      const r = retRun([{ do: 'dump_stack' }], arch, kernel);
      const lines = ofType(r.events, 'printk').map((e) => e.text);
      const trace = lines.slice(lines.indexOf(' <TASK>') + 1, lines.indexOf(' </TASK>'));
      expect(trace.slice(0, chain.length).map((l) => l.trim().split('+')[0])).toEqual(chain);
      // The caller resumes at the real return address; vfs_read, which returned, is not there.
      expect(trace[chain.length]).toBe(returnSite(arch, kernel).line);
      expect(trace.some((l) => l.startsWith(' vfs_read+'))).toBe(false);
    });
  }
});
