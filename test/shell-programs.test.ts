// Programs typed at the kprobesim shell run as forked tasks of the simulated kernel, as BusyBox
// ash runs applets: the shell (sh, pid 572) forks through kernel_clone, the child execs the
// program (do_execve), opens each file it reads and reads the ones that opened; builtins run in
// the shell itself and an unknown name is reported without a fork (ash looks it up first); every
// command of a pipeline of several is a child. So probes on the fork, exec and read paths see
// them, as in seed 003, where `ls /`, `dmesg` and `cat /proc/kallsyms | grep …` each hit the probe
// on kernel_clone.

import { describe, expect, it } from 'vitest';
import type { LoggedEvent } from '../src/model/events.ts';
import { SHELL_PID } from '../src/session/shell-kernel.ts';
import { SimBackend } from '../src/session/sim-backend.ts';
import { FakeBackend } from './fakes/fake-backend.ts';
import { ShellSession } from '../src/shell/session.ts';
import { ofType } from './helpers.ts';

const T = '/sys/kernel/tracing';

function open(cpus = 1) {
  const events: LoggedEvent[] = [];
  const backend = new SimBackend({ cpus, seed: 5, onEvent: (e) => events.push(e) });
  const sh = new ShellSession(backend, { cwd: T });
  return { backend, events, run: (text: string) => sh.runScript(text) };
}

/** The events of running `text` only. */
function during(s: ReturnType<typeof open>, text: string) {
  const from = s.events.length;
  const result = s.run(text);
  return { result, events: s.events.slice(from) };
}

describe('programs are forked tasks of the simulated kernel', () => {
  it('a program forks a child that execs it; builtins and unknown names fork nothing', () => {
    const s = open();
    const ls = during(s, 'ls /');
    expect(ls.result).toMatchObject({ stdout: 'dev\nproc\nsys\n', status: 0 });
    expect(ofType(ls.events, 'task.fork').map((e) => [e.pid, e.comm])).toEqual([[SHELL_PID, 'sh']]);
    expect(ofType(ls.events, 'task.exec').map((e) => e.comm)).toEqual(['ls']);
    const child = ofType(ls.events, 'task.exec')[0]!.pid;
    expect(ofType(ls.events, 'func.call').filter((e) => e.pid === child && e.ctx === 'task').map((e) => e.fn)[0]).toBe('do_execve');
    // Builtins run in the shell.
    for (const builtin of ['echo hi', 'cd .', 'pwd', 'true']) expect(ofType(during(s, builtin).events, 'task.fork')).toEqual([]);
    // ash finds no such command before it would fork: the message, status 127, no child.
    const unknown = during(s, 'nosuch arg');
    expect(unknown.result).toMatchObject({ stderr: 'sh: nosuch: not found\n', status: 127 });
    expect(ofType(unknown.events, 'task.fork')).toEqual([]);
  });

  it('each command of a pipeline is a child; a builtin there is a child `sh` that never execs', () => {
    const s = open();
    const p = during(s, 'cat /proc/kallsyms | grep -c " T "');
    expect(ofType(p.events, 'task.fork')).toHaveLength(2);
    expect(ofType(p.events, 'task.exec').map((e) => e.comm).sort()).toEqual(['cat', 'grep']);
    const q = during(s, 'echo x | nosuch');
    expect(q.result).toMatchObject({ stderr: 'sh: nosuch: not found\n', status: 127 });
    expect(ofType(q.events, 'task.fork')).toHaveLength(2);
    expect(ofType(q.events, 'task.exec').map((e) => e.comm)).toEqual(['sh', 'sh']);
    expect(ofType(q.events, 'func.call').some((e) => e.fn === 'do_execve')).toBe(false);
  });

  it('a probe on kernel_clone records the shell’s fork of each program, as seed 003’s `ls /` and pipeline did', () => {
    const s = open();
    s.run("echo 'p:myprobe kernel_clone' > kprobe_events\necho 1 > events/kprobes/myprobe/enable\nls / > /dev/null\ncat /proc/kallsyms | grep -q kernel_clone");
    // ls: one fork; the pipeline: two; then the `cat` that reads the trace: one more, before it reads.
    const out = s.run('cat trace').stdout;
    const records = out.split('\n').filter((l) => l.includes(' myprobe: (kernel_clone+0x0/'));
    expect(records).toHaveLength(4);
    for (const r of records) expect(r).toMatch(new RegExp(`^ +sh-${SHELL_PID} `));
  });

  it('reads are on the read path: `cat FILE` opens and reads it; a file not in the tree is opened, fails, and is not read', () => {
    const s = open();
    s.run("echo 'p:myprobe vfs_read' > kprobe_events\necho 1 > events/kprobes/myprobe/enable");
    // The simulated tree is the only filesystem: there is no /etc, whatever the host has.
    const missing = during(s, 'cat /etc/passwd');
    expect(missing.result).toMatchObject({ stdout: '', stderr: "cat: can't open '/etc/passwd': No such file or directory\n", status: 1 });
    const cat = ofType(missing.events, 'task.exec')[0]!.pid;
    const calls = ofType(missing.events, 'func.call').filter((e) => e.pid === cat && e.ctx === 'task').map((e) => e.fn);
    expect(calls.slice(0, 2)).toEqual(['do_execve', 'do_sys_open']);
    expect(calls.filter((fn) => fn === 'ksys_read' || fn === 'vfs_read')).toEqual([]);
    expect(ofType(missing.events, 'kprobe.hit')).toEqual([]);
    // `cat trace` reads the trace file through vfs_read: its own read is in what it shows.
    const trace = during(s, 'cat trace');
    const reader = ofType(trace.events, 'task.exec')[0]!.pid;
    const lines = trace.result.stdout.split('\n').filter((l) => l.includes(' myprobe: (vfs_read+0x0/'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^ +cat-${reader} `));
  });

  it('sleep N lets N seconds pass in the kernel while the shell waits; bad numbers are sleep’s messages', () => {
    const s = open();
    const t0 = s.backend.nowNs();
    expect(s.run('sleep 1')).toMatchObject({ stdout: '', stderr: '', status: 0 });
    const t1 = s.backend.nowNs();
    expect(t1 - t0).toBeGreaterThanOrEqual(1_000_000_000n);
    expect(t1 - t0).toBeLessThan(1_010_000_000n);
    // Fractions and suffixes add up (BusyBox's sleep); more than ten seconds is several sleeps.
    s.run('sleep 0.5 1m');
    const t2 = s.backend.nowNs();
    expect(t2 - t1).toBeGreaterThanOrEqual(60_500_000_000n);
    expect(t2 - t1).toBeLessThan(60_510_000_000n);
    expect(s.run('sleep x')).toMatchObject({ stderr: "sleep: invalid number 'x'\n", status: 1 });
    expect(s.run('sleep')).toMatchObject({ stderr: 'Usage: sleep N[smhd]...\n', status: 1 });
    expect(s.run('sleep 2h')).toMatchObject({ stderr: "sleep: 2h: longer than the simulation's limit of 3600 seconds\n", status: 1 });
    // A refused sleep lets no time pass.
    expect(s.backend.nowNs() - t2).toBeLessThan(10_000_000n);
  });

  it('dmesg is a program too: it prints the kernel log (empty after a quiet boot)', () => {
    const s = open();
    const d = during(s, 'dmesg');
    expect(d.result).toMatchObject({ stdout: '', stderr: '', status: 0 });
    expect(ofType(d.events, 'task.exec').map((e) => e.comm)).toEqual(['dmesg']);
    expect(s.run('dmesg -x')).toMatchObject({ stderr: "dmesg: invalid option -- 'x'\n", status: 1 });
  });
});

describe('dmesg over a kernel with a log', () => {
  class LoggingBackend extends FakeBackend {
    lines = ['[   10.000001] first', '[   10.000002] second'];
    kernelLog(clear: boolean): readonly string[] {
      const out = this.lines;
      if (clear) this.lines = [];
      return out;
    }
  }

  it('prints every line; -c clears the buffer after printing it (SYSLOG_ACTION_READ_CLEAR)', () => {
    const sh = new ShellSession(new LoggingBackend(), { cwd: T });
    expect(sh.run('dmesg').stdout).toBe('[   10.000001] first\n[   10.000002] second\n');
    expect(sh.run('dmesg | grep -c second').stdout).toBe('1\n');
    expect(sh.run('dmesg -c').stdout).toBe('[   10.000001] first\n[   10.000002] second\n');
    expect(sh.run('dmesg')).toMatchObject({ stdout: '', status: 0 });
  });

  it('a kernel with no log to read: klogctl fails', () => {
    const sh = new ShellSession(new FakeBackend(), { cwd: T });
    expect(sh.run('dmesg')).toMatchObject({ stderr: 'dmesg: klogctl: Function not implemented\n', status: 1 });
  });
});
