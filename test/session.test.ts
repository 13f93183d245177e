// `kprobesim shell` on the real model (src/session): the shell task performs what the user types,
// the kernel's kprobes do the rest, and the session's log replays. Expected values are derived
// from the kernel image (addresses, sizes, call sites) and the spec's layouts (R152, R154, R157),
// not copied from a run.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { symbolsFor } from '../src/kernel/index.ts';
import type { LoggedEvent } from '../src/model/events.ts';
import { InvariantMonitor } from '../src/monitors/invariants.ts';
import { replayLog } from '../src/replay/replay.ts';
import { makeHeader } from '../src/run/record.ts';
import { sessionScenario, SHELL_PID } from '../src/session/shell-kernel.ts';
import { SimBackend } from '../src/session/sim-backend.ts';
import { openRead } from '../src/shell/io.ts';
import { ShellSession } from '../src/shell/session.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { ofType, scenario, trace } from './helpers.ts';

const T = '/sys/kernel/tracing';
const image = symbolsFor('6.17');
const hex = (n: bigint) => `0x${n.toString(16)}`;

/** `sym+0xoff/0xsize` of an address of the 6.17 image. */
const at = (addr: bigint) => image.format(addr)!;

/** Where a call from `caller` to `callee` returns: just past the call instruction. */
function returnSite(caller: string, callee: string): bigint {
  return returnSiteIn(image, caller, callee);
}

function returnSiteIn(table: typeof image, caller: string, callee: string): bigint {
  const fn = table.lookup(caller);
  if (fn?.kind !== 'func') throw new Error(caller);
  const call = fn.body.find((i) => i.op.k === 'call' && i.op.fn === callee)!;
  return fn.addr + BigInt(call.off + call.len);
}

function open(cpus = 2, seed = 1, more: { arch?: 'x86_64' | 'arm64'; kernel?: '5.10' | '6.17'; config?: { ftrace?: boolean; ibt?: boolean; optprobes?: boolean } } = {}) {
  const events: LoggedEvent[] = [];
  const monitor = new InvariantMonitor();
  const backend = new SimBackend({ cpus, seed, ...more, onEvent: (e) => events.push(e), projections: [monitor] });
  const sh = new ShellSession(backend, { cwd: T });
  /**
   * The trace file as the kernel serves it, read without running a program: `cat trace` forks a
   * child that execs and reads, which adds its own records on kernel_clone and vfs_read (that
   * is tested in test/shell-programs.test.ts).
   */
  const traceFile = (): string => {
    sh.tracing.pull();
    const o = openRead(sh.vfs, sh.tracing, T, 'trace');
    if (!o.ok || 'dir' in o) throw new Error('trace');
    const r = o.ops.read();
    return r.ok ? r.data : '';
  };
  return { backend, sh, events, monitor, traceFile, run: (text: string) => sh.runScript(text) };
}

/** The record lines of `cat trace` (no header, no stack entries). */
function records(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith(' =>') && !l.includes('<stack trace>'));
}

/** R154's line prefix, then R152's event text. */
const LINE = /^ {0,16}(\S+)-(\d+) +\[(\d{3})\] (.{5}) +(\d+)\.(\d{6}): (\S+): \((.*?)\)(.*)$/;

describe('task operations a shell needs (model)', () => {
  it('fork runs the child program under its own name; the parent goes on at once', () => {
    const s = scenario({
      cpus: 2,
      probes: [{ name: 'kp', symbol: 'vfs_read', pre: [] }],
      tasks: [{ comm: 'sh', pid: 500, program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'fork', comm: 'ls', program: [{ op: 'call', fn: 'ksys_read' }] }] }],
    });
    const r = trace(s);
    expect(r.violations).toEqual([]);
    const [fork] = ofType(r.events, 'task.fork');
    const [exec] = ofType(r.events, 'task.exec');
    expect(fork).toMatchObject({ pid: 500, comm: 'sh' });
    // The fork happens in copy_process's return (its `fork` effect); exec follows in the same step.
    expect(exec).toMatchObject({ pid: fork!.child, comm: 'ls' });
    expect(exec!.seq).toBe(fork!.seq + 1);
    // vfs_read is called by the child only, under the new name.
    const hits = ofType(r.events, 'kprobe.hit');
    expect(hits).toHaveLength(1);
    expect(hits[0]!.pid).toBe(fork!.child);
    expect(ofType(r.events, 'task.exit').map((e) => e.pid).sort()).toEqual([500, fork!.child].sort());
  });

  it('a fork on 4.14 goes through _do_fork, the fork function of that release', () => {
    const s = scenario({ tasks: [{ comm: 'sh', program: [{ op: 'fork', comm: 'true', program: [] }] }] });
    const r = trace({ ...s, kernel: '4.14' });
    expect(ofType(r.events, 'func.call').some((e) => e.fn === '_do_fork')).toBe(true);
    expect(ofType(r.events, 'task.exec')[0]).toMatchObject({ comm: 'true' });
  });

  it('an interactive task that runs out of work waits for input; the run is then done, not deadlocked', () => {
    const s = scenario({ tasks: [{ comm: 'sh', pid: 572, interactive: true, program: [{ op: 'call', fn: 'vfs_read' }] }] });
    const r = trace(s);
    expect(ofType(r.events, 'task.wait_input')).toHaveLength(1);
    expect(ofType(r.events, 'kernel.deadlock')).toEqual([]);
    expect(r.events.at(-1)).toMatchObject({ type: 'log.end', reason: 'done' });
    expect(r.final.tasks.map((t) => [t.pid, t.wait])).toEqual([[572, { on: 'input' }]]);
  });
});

describe('scenarios on the arm64 image', () => {
  it('"arch": "arm64" runs a scenario there; an x86_64-only name says which image has it', () => {
    const s = {
      name: 'arm',
      cpus: 1,
      probes: [{ name: 'kp', symbol: 'vfs_read', pre: [] }],
      tasks: [{ comm: 'sh', program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'fork', comm: 'cat', program: [{ op: 'call', fn: '__arm64_sys_read' }] }] }],
    };
    const r = trace(validateScenario({ ...s, arch: 'arm64' }));
    expect(r.violations).toEqual([]);
    expect(ofType(r.events, 'kprobe.registered')[0]!.addr).toBe(hex(symbolsFor('6.17', 'arm64').lookup('vfs_read')!.addr));
    // fork goes through the system-call wrapper on arm64.
    expect(ofType(r.events, 'func.call').filter((e) => e.ctx === 'task').map((e) => e.fn).slice(0, 2)).toEqual(['__arm64_sys_clone', 'kernel_clone']);
    expect(ofType(r.events, 'kprobe.hit')).toHaveLength(1);
    expect(() => validateScenario({ ...s, arch: 'arm64', probes: [{ name: 'kp', symbol: 'entry_SYSCALL_64', pre: [] }] })).toThrow(
      'scenario.probes[0].symbol: unknown symbol "entry_SYSCALL_64" on arm64 (the x86_64 image has it; set "arch")',
    );
  });
});

describe('kprobesim shell on the simulated kernel', () => {
  it('the seeds’ session, on x86_64: define, read format, enable, run, trace (R152, R154)', () => {
    const { run, monitor } = open();
    const define = run(
      `echo 'p:myprobe kernel_clone clone_flags=%di stack_start=%si stack_size=%dx parent_tidptr=%cx child_tidptr=+0($stack)' > kprobe_events\ncat kprobe_events`,
    );
    expect(define.stderr).toBe('');
    expect(define.stdout).toBe('p:kprobes/myprobe kernel_clone clone_flags=%di stack_start=%si stack_size=%dx parent_tidptr=%cx child_tidptr=+0($stack)\n');
    expect(run('echo 1 > events/kprobes/myprobe/enable\nrun ls').stderr).toBe('');
    const out = run('cat trace').stdout;
    const lines = records(out);
    // `run ls`: only the shell calls kernel_clone (the child opens and reads); then the shell
    // forks `cat`, whose record is in the buffer before cat reads it.
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => LINE.exec(l)!.slice(1, 3))).toEqual([
      ['sh', String(SHELL_PID)],
      ['sh', String(SHELL_PID)],
    ]);
    const m = LINE.exec(lines[0]!)!;
    expect(m).not.toBeNull();
    const [, comm, pid, , flags, secs, , event, where, args] = m;
    expect([comm, Number(pid), flags, event]).toEqual(['sh', SHELL_PID, 'd.Z..', 'myprobe']);
    // The user logs in ten seconds after boot; one tick is a microsecond.
    expect(Number(secs)).toBe(10);
    expect(where).toBe(at(image.lookup('kernel_clone')!.addr));
    expect(where).toMatch(/^kernel_clone\+0x0\/0x[0-9a-f]+$/);
    // At a function entry the word at the stack pointer is the return address (the syscall
    // entry, for a call a task makes directly), and the other argument registers hold 0.
    const entry = image.lookup('entry_SYSCALL_64')!;
    const fields = Object.fromEntries(args!.trim().split(' ').map((kv) => kv.split('=') as [string, string]));
    expect(fields.child_tidptr).toBe(hex(entry.addr + BigInt(entry.size - 1)));
    expect([fields.stack_start, fields.stack_size, fields.parent_tidptr]).toEqual(['0x0', '0x0', '0x0']);
    expect(BigInt(fields.clone_flags!)).toBeGreaterThanOrEqual(0xffffc90000000000n);
    expect(monitor.violations).toEqual([]);
  });

  it('a child shell forks again; a filter on common_pid keeps only the child (seed 003 §2.2 (6))', () => {
    const { run, traceFile } = open();
    run(`echo 'p:myprobe kernel_clone' > kprobe_events\necho 1 > events/kprobes/myprobe/enable\nrun sh`);
    const all = records(traceFile()).map((l) => LINE.exec(l)!.slice(1, 3));
    expect(all.map(([c]) => c)).toEqual(['sh', 'sh']);
    const child = all.find(([, p]) => Number(p) !== SHELL_PID)![1];
    run(`echo 'common_pid!=${SHELL_PID}' > events/kprobes/myprobe/filter\necho > trace\nrun sh`);
    const filtered = records(traceFile()).map((l) => LINE.exec(l)!.slice(1, 3));
    expect(filtered).toHaveLength(1);
    expect(Number(filtered[0]![1])).not.toBe(SHELL_PID);
    expect(Number(filtered[0]![1])).toBeGreaterThan(Number(child));
    // R157: the profile counts hits before any filter: 2 + 2, and the fork of the `cat` that
    // reads it (pid 572: filtered out of the trace, counted here).
    expect(run('cat kprobe_profile').stdout).toBe(`  ${'myprobe'.padEnd(44)} ${'5'.padStart(15)} ${'0'.padStart(15)}\n`);
  });

  it('a kretprobe event shows the real return site and the call’s own return value (R152, R76)', () => {
    const { run, traceFile } = open();
    run(`echo 'r:myret vfs_read ret=$retval' >> kprobe_events\necho 1 > events/kprobes/myret/enable\nrun cat`);
    const lines = records(traceFile());
    expect(lines).toHaveLength(1);
    const [, comm, , , flags, , , event, where, args] = LINE.exec(lines[0]!)!;
    expect([comm, event, flags]).toEqual(['cat', 'myret', 'd....']);
    expect(where).toBe(`${at(returnSite('ksys_read', 'vfs_read'))} <- vfs_read`);
    const vfsRead = image.lookup('vfs_read') as { ret: number | 'pid' };
    expect(args).toBe(` ret=${hex(BigInt(vfsRead.ret as number))}`);
  });

  it('stacktrace adds the call chain after each record, innermost first', () => {
    const { run, traceFile } = open();
    run(`echo 'p:rd vfs_read' > kprobe_events\necho 1 > events/kprobes/rd/enable\necho 1 > options/stacktrace\ncall ksys_read`);
    const text = traceFile();
    expect(text).toMatch(/ rd: \(vfs_read\+0x0\/0x[0-9a-f]+\)\n +sh-572 +\[\d{3}\] .{5} +\d+\.\d{6}: <stack trace>\n => vfs_read\n => ksys_read\n => entry_SYSCALL_64\n$/);
  });

  it('registration failures come from register_kprobe and land in error_log (R151)', () => {
    const { run, backend } = open();
    // On the kprobe blacklist (R28): -EINVAL.
    let r = run(`echo 'p:bad kprobe_int3_handler' >> kprobe_events`);
    expect(r.stderr).toBe('sh: write error: Invalid argument\n');
    // Inside an instruction of the image: -EILSEQ.
    const kc = image.lookup('kernel_clone');
    if (kc?.kind !== 'func') throw new Error('kernel_clone');
    const inside = kc.body.find((i) => i.len > 1)!;
    r = run(`echo 'p:mid kernel_clone+${inside.off + 1}' >> kprobe_events`);
    expect(r.stderr).toBe('sh: write error: Invalid or incomplete multibyte or wide character\n');
    // R151: both are reported at the location token (column 7 of the command, under the caret).
    expect(run('cat error_log').stdout.replace(/^\[ *\d+\.\d{6}\] /gm, '')).toBe(
      [
        'trace_kprobe: error: Failed to register probe event',
        '  Command: p:bad kprobe_int3_handler',
        '                 ^',
        'trace_kprobe: error: Probe point is not an instruction boundary',
        `  Command: p:mid kernel_clone+${inside.off + 1}`,
        '                 ^',
        '',
      ].join('\n'),
    );
    // Nothing stays registered (INV-validate), and the file lists no event.
    expect(run('cat kprobe_events').stdout).toBe('');
    expect(Object.values(backend.shellKernel.state.kprobes.probes).map((p) => p.state)).toEqual(['unregistered', 'unregistered']);
  });

  it('deleting an event unregisters its probe: disabled, disarmed, unlinked after a grace period (R133, §8)', () => {
    const { run, backend, events } = open();
    run(`echo 'p:myprobe vfs_read' > kprobe_events\necho 1 > events/kprobes/myprobe/enable`);
    // EBUSY while enabled (R133); then disable and delete.
    expect(run(`echo '-:myprobe' >> kprobe_events`).stderr).toBe('sh: write error: Device or resource busy\n');
    expect(run(`echo 0 > events/kprobes/myprobe/enable\necho '-:myprobe' >> kprobe_events\ncall ksys_read`).stderr).toBe('');
    expect(backend.shellKernel.state.kprobes.probes.myprobe!.state).toBe('unregistered');
    const types = events.filter((e) => e.src === 'kprobes' && 'probe' in e && e.probe === 'myprobe').map((e) => e.type);
    expect(types.slice(-4)).toEqual(['kprobe.unregister', 'kprobe.disable', 'kprobe.unlink', 'kprobe.unregistered']);
    // No hit after the probe is gone.
    const last = events.findLastIndex((e) => e.type === 'kprobe.unregistered');
    expect(events.slice(last).some((e) => e.type === 'kprobe.hit')).toBe(false);
  });

  it('a new event with a name used before gets a fresh model probe', () => {
    const { run, backend, traceFile } = open();
    run(`echo 'p:x vfs_read' > kprobe_events\necho '-:x' >> kprobe_events\necho 'p:x ksys_read' >> kprobe_events\necho 1 > events/kprobes/x/enable\ncall ksys_read`);
    expect(Object.keys(backend.shellKernel.state.kprobes.probes)).toEqual(['x', 'x_2']);
    expect(records(traceFile()).map((l) => LINE.exec(l)![8])).toEqual([at(image.lookup('ksys_read')!.addr)]);
  });

  it('on an IBT kernel with fentry sites, an entry probe is ftrace-based at +4: the layout of R152’s example (R24, R90, R93)', () => {
    const { run, monitor, traceFile } = open(1, 1, { config: { ftrace: true, ibt: true } });
    // `r` at +4 is a function entry after ENDBR64 (R24), so the return probe is accepted.
    expect(run(`echo 'p:myprobe vfs_read' > kprobe_events\necho 'r:myret vfs_read+4 $retval' >> kprobe_events`).stderr).toBe('');
    run('echo 1 > events/kprobes/enable\ncall ksys_read');
    const lines = records(traceFile()).map((l) => LINE.exec(l)!);
    const ibt = symbolsFor('6.17', 'x86_64', { ftrace: true, ibt: true });
    const vfsRead = ibt.lookup('vfs_read')!;
    // No breakpoint: the probed context's flags, preemption disabled by ftrace (R93).
    expect(lines.map((m) => [m[4], m[7], m[8]])).toEqual([
      ['...1.', 'myprobe', `vfs_read+0x4/0x${vfsRead.size.toString(16)}`],
      ['d....', 'myret', `${ibt.format(returnSiteIn(ibt, 'ksys_read', 'vfs_read'))} <- vfs_read`],
    ]);
    expect(monitor.violations).toEqual([]);
    // Without IBT, +4 is inside the function: not an entry, BAD_RETPROBE (R24, R110).
    const plain = open(1, 1, { config: { ftrace: true } });
    expect(plain.run(`echo 'r:myret vfs_read+4 $retval' >> kprobe_events`).stderr).toBe('sh: write error: Invalid argument\n');
  });

  it('/proc/kallsyms lists the image, read-only; available_filter_functions exists on an ftrace build only', () => {
    const { run } = open();
    const lines = run('cat /proc/kallsyms').stdout.trim().split('\n');
    const named = image.image.symbols.filter((x) => x.kind !== 'alias');
    expect(lines).toHaveLength(image.image.symbols.length);
    for (const sym of named) {
      expect(lines).toContain(`${sym.addr.toString(16).padStart(16, '0')} ${sym.kind === 'func' ? 'T' : 'D'} ${sym.name}`);
    }
    expect(run('echo x > /proc/kallsyms').stderr).toBe("sh: can't create /proc/kallsyms: Permission denied\n");
    expect(run('cat available_filter_functions').stderr).toMatch(/No such file or directory/);
    const ft = open(1, 1, { config: { ftrace: true } });
    const traceable = symbolsFor('6.17', 'x86_64', { ftrace: true }).functions().filter((f) => f.body[0]!.op.k === 'fentry');
    expect(ft.run('cat available_filter_functions').stdout).toBe(traceable.map((f) => `${f.name}\n`).join(''));
    expect(traceable.map((f) => f.name)).toContain('vfs_read');
    expect(traceable.map((f) => f.name)).not.toContain('exc_page_fault');
  });

  it('§14 in the shell: /sys/kernel/debug/kprobes/list names each event\'s probe (k or r, [DISABLED] until enabled, R99); enabled reads and switches global arming (R42, kstrtobool)', () => {
    const { run, events } = open();
    run(`echo 'p:myprobe vfs_read' > kprobe_events`);
    run(`echo 'r:myret ksys_read $retval' >> kprobe_events`);
    const line = (fn: string, kind: string, flags: string) => `${image.lookup(fn)!.addr.toString(16).padStart(16, '0')}  ${kind}  ${fn}+0x0    ${flags}`;
    const list = () => run('cat /sys/kernel/debug/kprobes/list').stdout.split('\n').filter((l) => l !== '').sort();
    // Registered disabled until the event is enabled (R134).
    expect(list()).toEqual([line('ksys_read', 'r', '[DISABLED]'), line('vfs_read', 'k', '[DISABLED]')].sort());
    run('echo 1 > events/kprobes/enable');
    expect(list()).toEqual([line('ksys_read', 'r', ''), line('vfs_read', 'k', '')].sort());
    expect(run('ls /sys/kernel/debug/kprobes').stdout).toBe('blacklist\nenabled\nlist\n');
    expect(run('cat /sys/kernel/debug/kprobes/blacklist').stdout).toContain(`\tget_kprobe\n`);
    // The global switch, through the shell task's write (R42): no hits while it is off.
    expect(run('cat /sys/kernel/debug/kprobes/enabled').stdout).toBe('1\n');
    expect(run('echo off > /sys/kernel/debug/kprobes/enabled')).toMatchObject({ status: 0, stderr: '' });
    expect(run('cat /sys/kernel/debug/kprobes/enabled').stdout).toBe('0\n');
    expect(ofType(events, 'kprobes.all_disarmed').map((e) => e.value)).toEqual([true]);
    const before = ofType(events, 'kprobe.hit').length;
    run('run cat /etc/passwd');
    expect(ofType(events, 'kprobe.hit')).toHaveLength(before);
    expect(run('echo maybe > /sys/kernel/debug/kprobes/enabled').stderr).toBe('sh: write error: Invalid argument\n');
    run('echo Y > /sys/kernel/debug/kprobes/enabled');
    expect(run('cat /sys/kernel/debug/kprobes/enabled').stdout).toBe('1\n');
    run('run cat /etc/passwd');
    expect(ofType(events, 'kprobe.hit').length).toBeGreaterThan(before);
    expect(run('echo x > /sys/kernel/debug/kprobes/list').stderr).toBe("sh: can't create /sys/kernel/debug/kprobes/list: Permission denied\n");
  });

  it('§11 in the shell (--config optprobes): an event\'s probe is optimized once enabled ([OPTIMIZED], R89), its records come from the optimized callback (in the task\'s context, R86), and disabling the event queues the unoptimization (R87)', () => {
    const { run, events, monitor, traceFile } = open(1, 1, { config: { optprobes: true } });
    run(`echo 'p:myprobe vfs_read' > kprobe_events`);
    run('echo 1 > events/kprobes/myprobe/enable');
    expect(run('cat /sys/kernel/debug/kprobes/list').stdout).toMatch(/  k  vfs_read\+0x0    \[OPTIMIZED\]\n$/);
    // The session idles while the user types: the optimizer's 5 jiffies pass, the jump is in.
    expect(ofType(events, 'kprobe.opt.patch')).toHaveLength(1);
    run('run cat /etc/passwd');
    // Two reads through the jump: the `cat` that read the list, and `run cat`'s child.
    expect(ofType(events, 'kprobe.opt.hit')).toHaveLength(2);
    expect(ofType(events, 'kprobe.trap')).toEqual([]);
    // Not the breakpoint's NMI-like context (d.Z..): interrupts on, preemption disabled.
    const rec = records(traceFile());
    expect(rec.map((l) => LINE.exec(l)![4])).toEqual(['...1.', '...1.']);
    run('echo 0 > events/kprobes/myprobe/enable');
    expect(ofType(events, 'kprobe.opt.unopt.queue')).toHaveLength(1);
    expect(monitor.violations).toEqual([]);
  });

  it('kernel commands check their arguments and say so', () => {
    const { run } = open();
    expect(run('run')).toMatchObject({ status: 1, stderr: 'run: missing COMMAND\nusage: run COMMAND [ARG]...\n' });
    expect(run('tick 0').stderr).toBe("tick: invalid number '0' (1 to 10000)\n");
    expect(run('call nosuch').stderr).toBe('call: nosuch: no such kernel function\n');
    expect(run('call do_exit').stderr).toBe('call: do_exit: the shell would not come back from it\n');
    expect(run('help').stdout).toMatch(/run COMMAND \[ARG\]\.\.\./);
  });

  it('tick lets time pass: the next record is N ms later', () => {
    const { run, backend } = open();
    const t0 = backend.nowNs();
    run('tick 250');
    expect(backend.nowNs() - t0).toBeGreaterThanOrEqual(250_000_000n);
    expect(backend.nowNs() - t0).toBeLessThan(251_000_000n);
  });

  it('the session’s log replays identically (INV-determinism), inputs included', async () => {
    const lines: string[] = [JSON.stringify(makeHeader(sessionScenario(2), { seed: 7, strategy: 'random' }))];
    const backend = new SimBackend({ cpus: 2, seed: 7, onEvent: (e) => lines.push(JSON.stringify(e)) });
    const sh = new ShellSession(backend, { cwd: T });
    sh.runScript(`echo 'p:a kernel_clone' > kprobe_events\necho 'r4:b vfs_read' >> kprobe_events\necho 1 > events/kprobes/enable\nrun sh\nrun ls\necho 0 > events/kprobes/a/enable\necho '-:a' >> kprobe_events\ntick 3\ncall vfs_read 5`);
    backend.shellKernel.finish();
    const file = join(mkdtempSync(join(tmpdir(), 'kprobesim-session-')), 'session.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await replayLog(file);
    expect(r).toMatchObject({ kind: 'identical', events: lines.length - 1 });
    expect(lines.filter((l) => l.includes('"src":"input"')).length).toBeGreaterThan(5);
  });

  it('a hand-edited input in a session log is bad input naming its line and field', async () => {
    const lines: string[] = [JSON.stringify(makeHeader(sessionScenario(1), { seed: 1, strategy: 'random' }))];
    const backend = new SimBackend({ cpus: 1, seed: 1, onEvent: (e) => lines.push(JSON.stringify(e)) });
    new ShellSession(backend, { cwd: T }).runScript(`echo 'p:a kernel_clone' > kprobe_events`);
    const i = lines.findIndex((l) => l.includes('"input.probe"'));
    lines[i] = lines[i]!.replace('"kernel_clone"', '"kernel_clon"');
    const file = join(mkdtempSync(join(tmpdir(), 'kprobesim-session-')), 'edited.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    await expect(replayLog(file)).rejects.toThrow(`${file}:${i + 1}: probe.symbol: unknown symbol "kernel_clon"`);
  });
});

describe('examples/seed-003-session.sh on the simulated arm64 kernel (seed 003 §2.2)', () => {
  const script = readFileSync('examples/seed-003-session.sh', 'utf8');
  const arm = symbolsFor('6.17', 'arm64');

  it('runs end to end without an error; the records have the spec’s layout with arm64 registers', () => {
    const { run, monitor } = open(1, 1, { arch: 'arm64' });
    const r = run(script);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout;
    const clone = arm.lookup('kernel_clone')!;
    const lines = out.split('\n').map((l) => LINE.exec(l)).filter((m) => m !== null && !m[0].includes('<stack trace>'));
    // Three `cat trace`, each forked by the shell after what it shows: 4 records and the cat's
    // own fork; the same 5, `run ls` and the second cat's fork; after `echo > trace`, the child
    // shell's fork (the shell's own are filtered out).
    expect(lines).toHaveLength(5 + 7 + 1);
    for (const m of lines) {
      const [, comm, , cpu, flags, , , event, where, args] = m!;
      expect([comm, cpu, flags, event, where]).toEqual(['sh', '000', 'd.Z..', 'myprobe', `kernel_clone+0x0/0x${clone.size.toString(16)}`]);
      const f = Object.fromEntries(args!.trim().split(' ').map((kv) => kv.split('=') as [string, string]));
      expect([f.stack_start, f.stack_size, f.parent_tidptr]).toEqual(['0x0', '0x0', '0x0']);
      // x0 points into the task's kernel stack; [sp] is the caller's frame record, further up.
      expect(BigInt(f.clone_flags!) >= 0xffff800012000000n).toBe(true);
      expect(BigInt(f.child_tidptr!) > BigInt(f.clone_flags!)).toBe(true);
      expect(BigInt(f.child_tidptr!) - BigInt(f.clone_flags!) < 0x4000n).toBe(true);
    }
    // (5) The stack trace: the probed function, the system-call wrapper, then the entry frames.
    expect(out).toContain(['<stack trace>', ' => kernel_clone', ' => __arm64_sys_clone', ...arm.image.entryChain.map((n) => ` => ${n}`)].join('\n') + '\n');
    // (6) After the filter, only the child shell (not 572) is recorded, twice: record and stack.
    const last = out.slice(out.lastIndexOf('# tracer: nop'));
    const pids = last.split('\n').flatMap((l) => {
      const m = LINE.exec(l);
      return m === null || l.includes('<stack trace>') ? [] : [m[2]];
    });
    expect(pids).toHaveLength(1);
    expect(Number(pids[0])).not.toBe(SHELL_PID);
    expect(last).toContain('# entries-in-buffer/entries-written: 2/2   #P:1\n');
    // (7) Every fork hits: 4 `run ls` + `cat trace` + `run ls` + `cat trace` + `cat …/filter` +
    // `run ls` + 2 (`run sh`: the shell and the child shell) + `cat trace` + this `cat`.
    expect(out).toContain(`  ${'myprobe'.padEnd(44)} ${'13'.padStart(15)} ${'0'.padStart(15)}\n`);
    expect(monitor.violations).toEqual([]);
  });

  it('on 5.10 arm64 took its breakpoint outside NMI context: no Z in the hardirq column', () => {
    const { run, traceFile } = open(1, 1, { arch: 'arm64', kernel: '5.10' });
    run(`echo 'p:k kernel_clone' > kprobe_events\necho 1 > events/kprobes/k/enable\nrun ls`);
    // v5.10 prints four flag columns (migrate-disable came in v5.11): `d...`, as in seed 003.
    expect(records(traceFile()).map((l) => / \[\d{3}\] (\S+) /.exec(l)![1])).toEqual(['d...']);
  });

  it('x86 register names are refused on arm64, as the kernel’s parser does (BAD_REG_NAME)', () => {
    const { run } = open(1, 1, { arch: 'arm64' });
    expect(run(`echo 'p:k kernel_clone a=%di' > kprobe_events`).stderr).toBe('sh: write error: Invalid argument\n');
    expect(run('cat error_log').stdout).toMatch(/error: Invalid register name\n  Command: p:k kernel_clone a=%di\n/);
  });
});
