// Property tests for `kprobesim shell` sessions on the model: random sequences of what a user
// types (define, enable, disable, delete probes; make the kernel work; filters, options, reads)
// never throw, keep every invariant (INV-*), and leave a log that replays identically
// (INV-determinism, with the session's input events).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Arch } from '../src/kernel/index.ts';
import { InvariantMonitor } from '../src/monitors/invariants.ts';
import { replayLog } from '../src/replay/replay.ts';
import { RecordedSession, replaySession } from '../src/session/recorded.ts';

const EVENTS = ['a', 'b', 'c'];
const TARGETS = ['kernel_clone', 'vfs_read', 'ksys_read', 'do_sys_open', 'getname', 'rw_verify_area', '_printk', 'copy_process', 'kprobe_breakpoint_handler', 'kprobe_int3_handler', 'nosuch'];

function argsFor(arch: Arch): fc.Arbitrary<string> {
  const regs = arch === 'arm64' ? ['%x0', '%x1', '%sp', '%pc', '%lr'] : ['%di', '%si', '%ax', '%sp', '%ip'];
  const one = fc.constantFrom(...regs, '$stack', '$stack0', '+0($stack)', '$comm', '$arg1', '$arg2', '+8(%sp):u32', '$retval');
  return fc.array(one, { maxLength: 3 }).map((xs) => xs.map((x, i) => ` v${i}=${x}`).join(''));
}

/** A probe definition: mostly on a function entry of the image, now and then one the kernel refuses. */
function defineArb(arch: Arch): fc.Arbitrary<string> {
  const offset = fc.oneof({ weight: 5, arbitrary: fc.constant('') }, { weight: 2, arbitrary: fc.constantFrom('+0', '+1', '+4', '+8') });
  const target = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...TARGETS.slice(0, 7)) }, { weight: 2, arbitrary: fc.constantFrom(...TARGETS.slice(7)) });
  return fc
    .tuple(fc.constantFrom('p', 'p', 'r', 'r2'), fc.constantFrom(...EVENTS), target, offset, argsFor(arch))
    .map(([k, e, t, off, args]) => `echo '${k}:${e} ${t}${off}${args}' >> kprobe_events`);
}

/** One line a user might type. */
function lineArb(arch: Arch): fc.Arbitrary<string> {
  const ev = fc.constantFrom(...EVENTS);
  return fc.oneof(
    { weight: 3, arbitrary: defineArb(arch) },
    { weight: 3, arbitrary: fc.tuple(ev, fc.constantFrom('0', '1', '1')).map(([e, v]) => `echo ${v} > events/kprobes/${e}/enable`) },
    { weight: 1, arbitrary: fc.constantFrom('0', '1').map((v) => `echo ${v} > events/kprobes/enable`) },
    { weight: 2, arbitrary: ev.map((e) => `echo '-:${e}' >> kprobe_events`) },
    { weight: 4, arbitrary: fc.constantFrom('run ls', 'run sh', 'run cat', 'call vfs_read', 'call ksys_read 3', 'call _printk', 'tick 2') },
    { weight: 1, arbitrary: ev.map((e) => `echo 'common_pid!=572' > events/kprobes/${e}/filter`) },
    { weight: 1, arbitrary: fc.constantFrom('echo 1 > options/stacktrace', 'echo 0 > options/stacktrace', 'echo > trace', 'echo > kprobe_events') },
    { weight: 2, arbitrary: fc.constantFrom('cat trace', 'cat trace_pipe', 'cat kprobe_profile', 'cat kprobe_events', 'cat error_log') },
    // debugfs kprobes/ (§14): the list, and the global switch (R42).
    { weight: 1, arbitrary: fc.constantFrom('cat /sys/kernel/debug/kprobes/list', 'echo 0 > /sys/kernel/debug/kprobes/enabled', 'echo 1 > /sys/kernel/debug/kprobes/enabled') },
  );
}

const sessionArb = fc.constantFrom<Arch>('x86_64', 'arm64').chain((arch) =>
  fc.record({
    arch: fc.constant(arch),
    // x86_64 builds with and without fentry sites (ftrace-based probes) and ENDBR64 entries, jump
    // optimization and CONFIG_PREEMPTION.
    config: arch === 'x86_64' ? fc.constantFrom({}, { ftrace: true }, { ftrace: true, ibt: true }, { optprobes: true }, { optprobes: true, preempt: false }) : fc.constant({}),
    cpus: fc.integer({ min: 1, max: 3 }),
    seed: fc.integer({ min: 0, max: 1e6 }),
    // A user defines and enables probes first, then does anything at all.
    lines: fc
      .tuple(fc.array(defineArb(arch), { minLength: 1, maxLength: 3 }), fc.constantFrom('echo 1 > events/kprobes/enable', 'echo 1 > events/kprobes/a/enable'), fc.array(lineArb(arch), { minLength: 1, maxLength: 25 }))
      .map(([defs, enable, rest]) => [...defs, enable, ...rest]),
  }),
);

describe('kprobesim shell sessions (property)', () => {
  it('INV-* hold, nothing throws, and the session log replays identically (INV-determinism)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kprobesim-session-prop-'));
    let n = 0;
    const seen = { records: 0, kretRecords: 0, refused: 0, unregistered: 0 };
    await fc.assert(
      fc.asyncProperty(sessionArb, async ({ arch, config, cpus, seed, lines }) => {
        const monitor = new InvariantMonitor();
        const log: string[] = [];
        const session = new RecordedSession({ cpus, seed, arch, kernel: '6.17', config }, { onEvent: (e) => log.push(JSON.stringify(e)), projections: [monitor] });
        log.unshift(JSON.stringify(session.header()));
        const printed = lines.map((line) => session.run(line));
        session.finish();
        const backend = session.backend;
        const text = log.join('\n');
        if (text.includes('"phase":"pre"')) seen.records++;
        if (text.includes('"type":"kretprobe.ret_handler"')) seen.kretRecords++;
        if (text.includes('"type":"kprobe.register.fail"')) seen.refused++;
        if (text.includes('"type":"kprobe.unregistered"')) seen.unregistered++;
        expect(monitor.violations).toEqual([]);
        // Whatever the user typed, the kernel kept running (no BUG from empty trace handlers).
        expect(backend.shellKernel.ended).toBe('done');
        const file = join(dir, `s${n++}.jsonl`);
        writeFileSync(file, log.join('\n') + '\n');
        expect(await replayLog(file)).toMatchObject({ kind: 'identical', events: log.length - 1 });
        // The typed lines alone give the same events and the same output (derived outputs replay).
        const again = await replaySession(file);
        expect(again.kind).toBe('identical');
        expect(again.outputs.map((o) => o.result)).toEqual(printed);
      }),
      { numRuns: 60 },
    );
    // The sessions reach what the properties are about: hits, return probes, refusals, deletes.
    console.log('session property coverage over 60 sessions:', seen);
    expect(seen.records).toBeGreaterThan(10);
    expect(seen.kretRecords).toBeGreaterThan(3);
    expect(seen.refused).toBeGreaterThan(3);
    expect(seen.unregistered).toBeGreaterThan(3);
  });
});
