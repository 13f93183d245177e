import { describe, expect, it } from 'vitest';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { symbolsOf } from '../src/model/setup.ts';
import { initialState } from '../src/model/initial.ts';
import { Folder } from '../src/views/folder.ts';
import { WhyView } from '../src/views/why.ts';
import { errnoText } from '../src/errno.ts';
import { cliInProcess } from './cli-in-process.ts';
import { ofType, trace } from './helpers.ts';

// Issue 9 §3: a refused registration changes nothing in the kernel (INV-validate), so only its
// caller sees the errno. The summary and `why` must show it, or a refused probe looks merely
// unregistered with 0 hits.

describe('registration errors are visible (§3: R21, R23, R26, R28)', () => {
  it('errnoText names the errno from the one table: -EILSEQ (-84)', () => {
    expect(errnoText(-84)).toBe('-EILSEQ (-84)');
    expect(errnoText(-22)).toBe('-EINVAL (-22)');
    expect(errnoText(-2)).toBe('-ENOENT (-2)');
    expect(errnoText(-4095)).toBe('-4095');
  });

  it('the summary lists each refused registration with its errno and why, and shows the probe as refused', async () => {
    const r = await cliInProcess(['run', 'registration-errors', '--no-log']);
    expect(r.code).toBe(0);
    const row = (name: string) => r.out.split('\n').find((l) => l.startsWith(`  ${name} `))!;
    // The probes the kernel refused are not merely "unregistered": their registration failed.
    expect(row('blacklisted')).toMatch(/ refused$/);
    expect(row('mid_insn')).toMatch(/ refused$/);
    expect(row('padding')).toMatch(/ refused$/);
    // The second register_kprobe of `ok` failed, but the first one stands (R23): registered.
    expect(row('ok')).toMatch(/ registered$/);
    const section = r.out.split('registration failures:\n')[1]!.split('\n\n')[0]!.split('\n');
    expect(section).toHaveLength(4);
    // R28: a blacklisted function is refused with -EINVAL.
    expect(section[0]).toMatch(/^ {2}blacklisted +register_kprobe returned -EINVAL \(-22\): .*get_kprobe.*blacklist.*R28/);
    // R26: kernel_clone+0x2 is inside its first instruction: -EILSEQ.
    expect(section[1]).toMatch(/^ {2}mid_insn +register_kprobe returned -EILSEQ \(-84\): kernel_clone\+0x2\/0x22 is not an instruction boundary \(R26\)$/);
    // R21: past the end of kernel_clone no symbol covers the address: -ENOENT.
    expect(section[2]).toMatch(/^ {2}padding +register_kprobe returned -ENOENT \(-2\): .*no known symbol.*R21/);
    // R21/R22: the struct already holds the address an earlier registration wrote: -EINVAL.
    expect(section[3]).toMatch(/^ {2}ok +register_kprobe returned -EINVAL \(-22\): .*R21, R22/);
  });

  it('why explains a refused probe: never registered, the errno, the reason and when', () => {
    const s = BUILTIN_SCENARIOS.get('registration-errors')!;
    const run = trace(s, { seed: 42 });
    const fail = ofType(run.events, 'kprobe.register.fail').find((e) => e.probe === 'mid_insn')!;
    const view = new WhyView('mid_insn', symbolsOf(s));
    const folder = new Folder(initialState(s), [view]);
    for (const e of run.events) folder.apply(e);
    const text = view.text(folder.state);
    expect(text).not.toMatch(/^probe mid_insn: 0 hits/m);
    expect(text).toMatch(/^probe mid_insn: never registered/m);
    expect(text).toContain(
      `  seq ${fail.seq} (t=${fail.t}): register_kprobe(mid_insn) by pid ${fail.pid} on cpu ${fail.cpu} returned -EILSEQ (-84): kernel_clone+0x2/0x22 is not an instruction boundary (R26)`,
    );
  });

  it('why of a probe registered once and refused the second time keeps its hit line and lists the refusal', () => {
    const s = BUILTIN_SCENARIOS.get('registration-errors')!;
    const run = trace(s, { seed: 42 });
    const view = new WhyView('ok', symbolsOf(s));
    const folder = new Folder(initialState(s), [view]);
    for (const e of run.events) folder.apply(e);
    const text = view.text(folder.state);
    expect(text).toMatch(/^probe ok: 0 hits/m);
    expect(text).toMatch(/registration failures \(1\):\n {2}seq \d+ \(t=\d+\): register_kprobe\(ok\) by pid \d+ on cpu 0 returned -EINVAL \(-22\)/);
  });
});
