// `kprobesim shell` sessions over the deterministic fake backend (src/shell): the tracefs files of
// spec §15–§21 as a user reaches them with echo/cat/ls/cd, and the shell's own behaviour
// (messages as BusyBox ash prints them, see src/shell/README.md).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeBackend, type FakeBackendOptions } from './fakes/fake-backend.ts';
import { kstrtobool } from '../src/shell/files/kprobes-enabled.ts';
import { ShellSession, type RunResult } from '../src/shell/session.ts';

const T = '/sys/kernel/tracing';
const D = '/sys/kernel/debug/tracing';

function session(opts: FakeBackendOptions = {}): { sh: ShellSession; backend: FakeBackend; run: (text: string) => RunResult } {
  const backend = new FakeBackend(opts);
  const sh = new ShellSession(backend, { cwd: T });
  return { sh, backend, run: (text) => sh.runScript(text) };
}

/** stdout of a script that must not fail anywhere. */
function clean(run: (text: string) => RunResult, text: string): string {
  const r = run(text);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

/** Seed 003 §2.2 (2): `cat events/kprobes/myprobe/format` on the seed's arm64 kernel (tabs became spaces there). */
const SEED_003_FORMAT = `name: myprobe
ID: 1333
format:
        field:unsigned short common_type;       offset:0;       size:2; signed:0;
        field:unsigned char common_flags;       offset:2;       size:1; signed:0;
        field:unsigned char common_preempt_count;       offset:3;       size:1; signed:0;
        field:int common_pid;   offset:4;       size:4; signed:1;

        field:unsigned long __probe_ip; offset:8;       size:8; signed:0;
        field:u64 clone_flags;  offset:16;      size:8; signed:0;
        field:u64 stack_start;  offset:24;      size:8; signed:0;
        field:u64 stack_size;   offset:32;      size:8; signed:0;
        field:u64 parent_tidptr;        offset:40;      size:8; signed:0;
        field:u64 child_tidptr; offset:48;      size:8; signed:0;

print fmt: "(%lx) clone_flags=0x%Lx stack_start=0x%Lx stack_size=0x%Lx parent_tidptr=0x%Lx child_tidptr=0x%Lx", REC->__probe_ip, REC->clone_flags, REC->stack_start, REC->stack_size, REC->parent_tidptr, REC->child_tidptr`;

/** R154: `%16s-%-7d [%03d] FFFFF %5lu.%06lu: ` then the event text. */
const RECORD_LINE = /^(.{16})-(.{7}) \[(\d{3})\] ([dDbX.][Nnp.][ZzHhs.][0-9a-f.][0-9.]) ([ \d]{5}\d*\.\d{6}): (.*)$/;

function records(trace: string): string[] {
  return trace.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

describe('kprobe_events through the shell (§15)', () => {
  it('R102/R136: define, read back, delete; the event directory follows (R137)', () => {
    const { run, backend } = session();
    expect(clean(run, "echo 'p:myprobe vfs_read size=%dx:u32' > kprobe_events\ncat kprobe_events")).toBe(
      'p:kprobes/myprobe vfs_read size=%dx:u32\n',
    );
    expect(clean(run, 'ls events/kprobes events/kprobes/myprobe')).toBe(
      'events/kprobes:\nenable\nmyprobe\n\nevents/kprobes/myprobe:\nenable\nfilter\nformat\nid\n',
    );
    expect(clean(run, "echo '-:myprobe' >> kprobe_events; cat kprobe_events; ls events")).toBe('enable\n');
    const r = run('ls events/kprobes');
    expect(r.stderr).toBe('ls: events/kprobes: No such file or directory\n');
    expect(r.status).toBe(1);
    expect(backend.calls).toEqual(['register kprobes/myprobe', 'unregister kprobes/myprobe']);
  });

  it('both mount points reach the same files (design.md, Command line)', () => {
    const { run } = session();
    clean(run, `echo 'p:a vfs_read' > ${T}/kprobe_events`);
    expect(clean(run, `cat ${D}/kprobe_events`)).toBe('p:kprobes/a vfs_read\n');
    clean(run, `echo 1 > ${D}/events/kprobes/a/enable`);
    expect(clean(run, `cat ${T}/events/kprobes/a/enable`)).toBe('1\n');
    expect(clean(run, `cd ${D}/events/kprobes; pwd; cd ../..; pwd; cd ..; pwd`)).toBe(
      `${D}/events/kprobes\n${D}\n/sys/kernel/debug\n`,
    );
  });

  it('R103: `>` truncates (deleting every event), `>>` appends', () => {
    const { run } = session();
    clean(run, "echo 'p:a vfs_read' > kprobe_events; echo 'p:b vfs_read' > kprobe_events");
    expect(clean(run, 'cat kprobe_events')).toBe('p:kprobes/b vfs_read\n');
    clean(run, "echo 'r:c kernel_clone' >> kprobe_events");
    expect(clean(run, 'cat kprobe_events')).toBe('p:kprobes/b vfs_read\nr10:kprobes/c kernel_clone\n');
  });

  it('R103: truncating while an event is enabled fails at open time with EBUSY and deletes nothing', () => {
    const { run } = session();
    clean(run, "echo 'p:a vfs_read' > kprobe_events; echo 1 > events/kprobes/a/enable");
    const r = run('echo > kprobe_events');
    expect(r.stderr).toBe("sh: can't create kprobe_events: Device or resource busy\n");
    expect(r.status).toBe(2);
    expect(clean(run, 'cat kprobe_events')).toBe('p:kprobes/a vfs_read\n');
  });

  it('R133: deleting an enabled event fails with EBUSY (a write error, no error_log entry, R161)', () => {
    const { run } = session();
    clean(run, "echo 'p:a vfs_read' > kprobe_events; echo 1 > events/kprobes/a/enable");
    const r = run("echo '-:a' >> kprobe_events");
    expect(r.stderr).toBe('sh: write error: Device or resource busy\n');
    expect(r.status).toBe(1);
    expect(clean(run, 'cat error_log')).toBe('');
  });

  it('R107: a group other than kprobes gets its own events/<GROUP> directory', () => {
    const { run } = session();
    clean(run, "echo 'p:grp/ev vfs_read' > kprobe_events");
    expect(clean(run, 'ls events; cat events/grp/ev/id')).toBe('enable\ngrp\n1333\n');
  });

  it('R131/R134: appending to an enabled event registers the new probe armed', () => {
    const { run, backend } = session();
    clean(run, "echo 'p:ev vfs_read' > kprobe_events; echo 1 > events/kprobes/ev/enable; echo 'p:ev do_sys_openat2' >> kprobe_events");
    expect(backend.calls).toEqual(['register kprobes/ev', 'enable kprobes/ev', 'register kprobes/ev (enabled)']);
    expect(clean(run, 'cat kprobe_events')).toBe('p:kprobes/ev vfs_read\np:kprobes/ev do_sys_openat2\n');
  });
});

describe('error_log (§21)', () => {
  it('R159/R160: a bad definition prints `sh: write error` and logs message, Command: and caret (selftest case)', () => {
    const { run } = session();
    const r = run("echo 'p vfs_read %none_reg' > kprobe_events");
    expect(r.stderr).toBe('sh: write error: Invalid argument\n');
    expect(r.status).toBe(1);
    const log = clean(run, 'cat error_log');
    expect(log).toBe(
      '[  100.000000] trace_kprobe: error: Invalid register name\n' +
        '  Command: p vfs_read %none_reg\n' +
        `${' '.repeat(11 + 11)}^\n`,
    );
    // The selftest's check: the caret line is 13 + column bytes long including `^` and newline.
    const caret = `${log.split('\n')[2]}\n`;
    expect(caret.length).toBe(13 + 11);
  });

  it('R159: the timestamp is the kernel clock at the failure; R165 caret under the location token', () => {
    const { run } = session();
    clean(run, 'tick 2500');
    run('echo p non_exist_func > kprobe_events');
    expect(clean(run, 'cat error_log')).toBe(
      '[  102.500000] trace_kprobe: error: Invalid probed address or symbol\n' + '  Command: p non_exist_func\n' + '             ^\n',
    );
  });

  it('R161: a line rejected before parsing fails without an entry', () => {
    const { run } = session();
    expect(run("echo 'x vfs_read' > kprobe_events").stderr).toBe('sh: write error: Invalid argument\n');
    expect(clean(run, 'cat error_log')).toBe('');
  });

  it('R151: a registration error is logged at the location token (FAIL_REG_PROBE on a blacklisted function)', () => {
    const { run } = session();
    expect(run("echo 'p:bad kprobe_int3_handler' > kprobe_events").stderr).toBe('sh: write error: Invalid argument\n');
    expect(clean(run, 'cat error_log')).toBe(
      '[  100.000000] trace_kprobe: error: Failed to register probe event\n' +
        '  Command: p:bad kprobe_int3_handler\n' +
        `${' '.repeat(11 + 6)}^\n`,
    );
    expect(clean(run, 'cat kprobe_events')).toBe('');
  });

  it('R162: `echo > error_log` clears it; `>>` does not', () => {
    const { run } = session();
    run("echo 'p vfs_read %none_reg' > kprobe_events");
    clean(run, 'echo >> error_log');
    expect(clean(run, 'cat error_log')).not.toBe('');
    clean(run, 'echo > error_log');
    expect(clean(run, 'cat error_log')).toBe('');
  });

  it('R149/R163: a bad filter fails with EINVAL, shows the error in `filter` and logs it', () => {
    const { run } = session();
    clean(run, "echo 'p:ev vfs_read' > kprobe_events");
    const r = run('echo nosuchfield==1 > events/kprobes/ev/filter');
    expect(r.stderr).toBe('sh: write error: Invalid argument\n');
    expect(clean(run, 'cat events/kprobes/ev/filter')).toContain('parse_error: Field not found\n');
    const log = clean(run, 'cat error_log');
    // The caret is at the filter parser's error position: one past the field name (12).
    expect(log).toBe(
      '[  100.000000] event filter parse error: error: Field not found\n' + '  Command: nosuchfield==1\n' + `${' '.repeat(11 + 12)}^\n`,
    );
  });
});

describe('trace (§19) and trace_pipe', () => {
  it('R152/R154: enabled events produce records in the `%16s-%-7d [%03d] FFFFF %5lu.%06lu: ` layout', () => {
    const { run } = session();
    clean(run, "echo 'p:myprobe kernel_clone flags=%di' > kprobe_events; echo 1 > events/kprobes/myprobe/enable; run ls; run ls");
    const trace = clean(run, 'cat trace');
    expect(trace).toContain('# entries-in-buffer/entries-written: 2/2   #P:2\n');
    const lines = records(trace);
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      const m = RECORD_LINE.exec(l);
      expect(m).not.toBeNull();
      expect(m?.[1]).toBe('sh'.padStart(16));
      expect(m?.[2]).toBe('572'.padEnd(7));
      expect(m?.[3]).toBe('000');
      expect(m?.[4]).toBe('d.Z..');
      expect(m?.[6]).toBe('myprobe: (kernel_clone+0x0/0x3c0) flags=0xffffc90000dbff18');
    }
    expect(lines[0]).toBe('              sh-572     [000] d.Z..   100.000100: myprobe: (kernel_clone+0x0/0x3c0) flags=0xffffc90000dbff18');
    expect(lines[1]).toContain('   100.001100: ');
  });

  it('R154: the header is the v6.x nop-tracer header (print_func_help_header_irq)', () => {
    const { run } = session();
    // The kernel's format strings with prec = 2 (no tgid): `#` + 28 spaces + 2 spaces of `space`.
    const sp = '#' + ' '.repeat(28) + ' '.repeat(2);
    expect(clean(run, 'cat trace')).toBe(
      '# tracer: nop\n#\n# entries-in-buffer/entries-written: 0/0   #P:2\n#\n' +
        `${sp}  _-----=> irqs-off/BH-disabled\n` +
        `${sp} / _----=> need-resched\n` +
        `${sp}| / _---=> hardirq/softirq\n` +
        `${sp}|| / _--=> preempt-depth\n` +
        `${sp}||| / _-=> migrate-disable\n` +
        `${sp}|||| /     delay\n` +
        `#           TASK-PID  ${'  '} CPU#  |||||  TIMESTAMP  FUNCTION\n` +
        `#              | |    ${'  '}   |   |||||     |         |\n`,
    );
  });

  it('R152: a kretprobe record shows `RETSITE <- FUNC` and R118 types print as declared', () => {
    const { run } = session();
    clean(run, "echo 'r:ret kernel_clone pid=$retval:s32' > kprobe_events; echo 'p:open do_sys_openat2 dfd=%di:s32 name=+0(%si):ustring k=+0(%si):string' >> kprobe_events");
    clean(run, 'echo 1 > events/enable; run cat');
    const lines = records(clean(run, 'cat trace'));
    expect(lines.map((l) => RECORD_LINE.exec(l)?.[6])).toEqual([
      'ret: (__do_sys_clone+0x4c/0x70 <- kernel_clone) pid=573',
      'open: (do_sys_openat2+0x0/0x150) dfd=-100 name="/etc/ld.so.cache" k=(fault)',
    ]);
    expect(lines[1]?.startsWith('             cat-573     [001] ')).toBe(true);
  });

  it('`echo > trace` clears the buffer; disabled events record nothing', () => {
    const { run } = session();
    clean(run, "echo 'p:ev kernel_clone' > kprobe_events; echo 1 > events/kprobes/ev/enable; run ls; echo > trace");
    expect(records(clean(run, 'cat trace'))).toEqual([]);
    clean(run, 'echo 0 > events/kprobes/ev/enable; run ls');
    expect(clean(run, 'cat trace')).toContain('entries-in-buffer/entries-written: 0/0');
  });

  it('R155: trace_pipe prints the records without a header and consumes them; it never blocks', () => {
    const { run } = session();
    clean(run, "echo 'p:ev kernel_clone' > kprobe_events; echo 1 > events/kprobes/ev/enable; run ls");
    const piped = clean(run, 'cat trace_pipe');
    expect(piped.split('\n').filter(Boolean)).toHaveLength(1);
    expect(piped.split('\n')[0]).toMatch(RECORD_LINE);
    expect(clean(run, 'cat trace_pipe')).toBe('');
    expect(records(clean(run, 'cat trace'))).toEqual([]);
  });

  it('stacktrace option: a `<stack trace>` entry with ` => ` lines follows each record (seed 003 §2.2 (5))', () => {
    const { run } = session({ arch: 'arm64', cpus: 1 });
    clean(run, "echo 'p:ev kernel_clone' > kprobe_events; echo 1 > events/kprobes/ev/enable; echo stacktrace > trace_options; run ls");
    const trace = clean(run, 'cat trace');
    expect(trace).toContain('# entries-in-buffer/entries-written: 2/2   #P:1\n');
    expect(trace.endsWith(
      '              sh-572     [000] d.Z..   100.000100: <stack trace>\n' +
        ' => kernel_clone\n => __arm64_sys_clone\n => invoke_syscall.constprop.0\n => do_el0_svc\n => el0_svc\n => el0_sync_handler\n => el0_sync\n',
    )).toBe(true);
    expect(clean(run, 'cat options/stacktrace; echo 0 > options/stacktrace; cat options/stacktrace')).toBe('1\n0\n');
    expect(clean(run, 'cat trace_options')).toContain('nostacktrace\n');
  });

  it('trace_options: unknown option names are EINVAL', () => {
    const { run } = session();
    expect(run('echo nosuchoption > trace_options').stderr).toBe('sh: write error: Invalid argument\n');
  });
});

describe('event files (§16) and filters (§17)', () => {
  it('R138: enable reads 0/1 and accepts only 0 or 1', () => {
    const { run } = session();
    clean(run, "echo 'p:ev vfs_read' > kprobe_events");
    expect(clean(run, 'cat events/kprobes/ev/enable')).toBe('0\n');
    for (const bad of ['2', 'abc', "''", 'yes']) {
      const r = run(`echo ${bad} > events/kprobes/ev/enable`);
      expect(r.stderr).toBe('sh: write error: Invalid argument\n');
    }
    clean(run, 'echo 1 > events/kprobes/ev/enable');
    expect(clean(run, 'cat events/kprobes/ev/enable events/kprobes/enable events/enable')).toBe('1\n1\n1\n');
  });

  it('R138: the group enable file reads X when its events disagree', () => {
    const { run } = session();
    clean(run, "echo 'p:a vfs_read' > kprobe_events; echo 'p:b vfs_read' >> kprobe_events; echo 1 > events/kprobes/a/enable");
    expect(clean(run, 'cat events/kprobes/enable')).toBe('X\n');
    clean(run, 'echo 0 > events/kprobes/enable');
    expect(clean(run, 'cat events/kprobes/a/enable events/kprobes/b/enable')).toBe('0\n0\n');
  });

  it('R139/R141: id and format (the seed 003 format of myprobe on arm64, whitespace aside)', () => {
    const { run } = session({ arch: 'arm64' });
    clean(run, "echo 'p:myprobe kernel_clone clone_flags=%x0 stack_start=%x1 stack_size=%x2 parent_tidptr=%x3 child_tidptr=+0($stack)' > kprobe_events");
    const format = clean(run, 'cat events/kprobes/myprobe/format');
    const norm = (x: string): string => x.replace(/\s+/g, ' ').trim();
    expect(norm(format)).toBe(norm(SEED_003_FORMAT));
    expect(clean(run, 'cat events/kprobes/myprobe/id')).toBe('1333\n');
  });

  it('R140/R144: a filter drops records but not hits; `0` clears it', () => {
    const { run } = session();
    clean(run, "echo 'p:ev kernel_clone' > kprobe_events; echo 1 > events/kprobes/ev/enable");
    expect(clean(run, 'cat events/kprobes/ev/filter')).toBe('none\n');
    clean(run, 'echo common_pid!=572 > events/kprobes/ev/filter');
    expect(clean(run, 'cat events/kprobes/ev/filter')).toBe('common_pid!=572\n');
    clean(run, 'run ls');
    expect(records(clean(run, 'cat trace'))).toEqual([]);
    clean(run, 'run sh');
    const lines = records(clean(run, 'cat trace'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('              sh-574     [001] ');
    expect(clean(run, 'cat kprobe_profile')).toBe(`  ${'ev'.padEnd(44)} ${'3'.padStart(15)} ${'0'.padStart(15)}\n`);
    clean(run, 'echo 0 > events/kprobes/ev/filter');
    expect(clean(run, 'cat events/kprobes/ev/filter')).toBe('none\n');
  });

  it('R148: comm and CPU pseudo fields', () => {
    const { run } = session();
    clean(run, "echo 'p:ev do_sys_openat2' > kprobe_events; echo 1 > events/kprobes/ev/enable");
    clean(run, "echo 'comm ~ \"ca*\" && cpu == 1' > events/kprobes/ev/filter; run cat; run ls");
    const lines = records(clean(run, 'cat trace'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('cat-573');
  });
});

describe('kprobe_profile (§20)', () => {
  it('R157/R158: `  %-44s %15lu %15lu` per probe in creation order; new events show 0 0; deleted ones vanish', () => {
    const { run } = session();
    clean(run, "echo 'p:a kernel_clone' > kprobe_events; echo 'p:b vfs_read' >> kprobe_events; echo 'p:b do_sys_openat2' >> kprobe_events");
    const profile = clean(run, 'cat kprobe_profile');
    const line = /^ {2}(.{44}) ([ \d]{15}) ([ \d]{15})$/;
    const rows = profile.split('\n').filter(Boolean);
    expect(rows.map((r) => line.exec(r)?.slice(1).map((s) => s.trim()))).toEqual([
      ['a', '0', '0'],
      ['b', '0', '0'],
      ['b', '0', '0'],
    ]);
    clean(run, 'echo 1 > events/kprobes/b/enable; run ls; run ls');
    expect(clean(run, 'cat kprobe_profile').split('\n').filter(Boolean).map((r) => line.exec(r)?.[2]?.trim())).toEqual(['0', '2', '2']);
    clean(run, "echo 0 > events/kprobes/b/enable; echo '-:b' >> kprobe_events");
    expect(clean(run, 'cat kprobe_profile')).toBe(`  ${'a'.padEnd(44)} ${'0'.padStart(15)} ${'0'.padStart(15)}\n`);
  });

  it('the seed 003 profile line layout: `  myprobe` … hits … misses', () => {
    expect(`  ${'myprobe'.padEnd(44)} ${'9'.padStart(15)} ${'0'.padStart(15)}`).toBe(
      '  myprobe                                                    9               0',
    );
  });
});

describe('debugfs kprobes/enabled parsing (R42)', () => {
  it('kstrtobool: y/Y/t/T/1 and on mean arm; n/N/f/F/0 and off disarm; only the first characters count; anything else is EINVAL', () => {
    for (const v of ['1', '1\n', 'y', 'Yes', 't', 'True', 'on', 'ON\n']) expect(kstrtobool(v), v).toBe(true);
    for (const v of ['0', '0\n', 'n', 'No', 'f', 'false', 'off', 'OFF']) expect(kstrtobool(v), v).toBe(false);
    for (const v of ['', '\n', '2', 'maybe', 'o', 'ox', ' 1']) expect(kstrtobool(v), v).toBeNull();
  });

  it('the fake backend has no kprobes directory: the path does not exist', () => {
    const { run } = session();
    expect(run('cat /sys/kernel/debug/kprobes/list').stderr).toMatch(/No such file or directory/);
  });
});

describe('the shell itself', () => {
  it('nothing outside the simulated tree exists: cat /etc/passwd', () => {
    const { run } = session();
    const r = run('cat /etc/passwd');
    expect(r).toEqual({ stdout: '', stderr: "cat: can't open '/etc/passwd': No such file or directory\n", status: 1, exited: false });
    expect(run('cat /work/main/package.json').stderr).toBe("cat: can't open '/work/main/package.json': No such file or directory\n");
    expect(run('echo x > /etc/passwd').stderr).toBe("sh: can't create /etc/passwd: nonexistent directory\n");
    expect(run('cd /tmp').stderr).toBe("sh: cd: can't cd to /tmp: No such file or directory\n");
    expect(run('ls /etc').stderr).toBe('ls: /etc: No such file or directory\n');
  });

  it('unknown command: `sh: foo: not found`, status 127, and the session goes on', () => {
    const { sh } = session();
    expect(sh.run('foo bar')).toEqual({ stdout: '', stderr: 'sh: foo: not found\n', status: 127, exited: false });
    expect(sh.run('echo $?; echo ok')).toEqual({ stdout: '127\nok\n', stderr: '', status: 0, exited: false });
  });

  it('unterminated quote: `sh: syntax error: unterminated quoted string`, status 2, nothing runs', () => {
    const { sh, backend } = session();
    expect(sh.run("echo 'p:a vfs_read > kprobe_events")).toEqual({
      stdout: '',
      stderr: 'sh: syntax error: unterminated quoted string\n',
      status: 2,
      exited: false,
    });
    expect(backend.calls).toEqual([]);
    expect(sh.run('echo still here').stdout).toBe('still here\n');
  });

  it('writing a read-only file: `sh: can\'t create …: Permission denied`', () => {
    const { run } = session();
    clean(run, "echo 'p:ev vfs_read' > kprobe_events");
    for (const f of ['trace_pipe', `${T}/trace_pipe`, 'kprobe_profile', 'events/kprobes/ev/format', 'events/kprobes/ev/id']) {
      const r = run(`echo x > ${f}`);
      expect(r.stderr).toBe(`sh: can't create ${f}: Permission denied\n`);
      expect(r.status).toBe(2);
    }
    expect(run('echo x > events').stderr).toBe("sh: can't create events: Is a directory\n");
    expect(run('echo x > newfile').stderr).toBe("sh: can't create newfile: Permission denied\n");
    expect(run('cat events').stderr).toBe('cat: read error: Is a directory\n');
  });

  it('redirections: 2>/dev/null, 2>&1, a bare `> trace`, variables in paths', () => {
    const { run } = session();
    expect(run('cat nosuch 2>/dev/null')).toMatchObject({ stdout: '', stderr: '', status: 1 });
    expect(run('cat nosuch 2>&1').stdout).toBe("cat: can't open 'nosuch': No such file or directory\n");
    clean(run, `TR=${D}; echo 'p:ev kernel_clone' > $TR/kprobe_events; echo 1 > "$TR/events/kprobes/ev/enable"; run ls`);
    expect(records(clean(run, 'cat trace'))).toHaveLength(1);
    clean(run, '> trace');
    expect(records(clean(run, 'cat trace'))).toHaveLength(0);
  });

  it('&& and || follow exit statuses; `exit` ends a script', () => {
    const { run, sh } = session();
    const r = run('false && echo no || echo yes\necho 2 > events/enable || echo failed\nexit 3\necho not reached\n');
    expect(r.stdout).toBe('yes\nfailed\n');
    expect(r.status).toBe(3);
    expect(r.exited).toBe(true);
    expect(sh.run('echo after').stdout).toBe('');
  });

  it('ls: one name per line, sorted; pathname expansion over the simulated tree', () => {
    const { run } = session();
    expect(clean(run, `ls ${T}`)).toBe('error_log\nevents\nkprobe_events\nkprobe_profile\noptions\ntrace\ntrace_options\ntrace_pipe\n');
    expect(clean(run, 'ls /; ls /sys/kernel')).toBe('dev\nsys\ndebug\ntracing\n');
    clean(run, "echo 'p:a vfs_read' > kprobe_events; echo 'p:g/b vfs_read' >> kprobe_events");
    expect(clean(run, 'echo events/*/*/id')).toBe('events/g/b/id events/kprobes/a/id\n');
    expect(run('ls -l').stderr).toBe("ls: invalid option -- 'l'\n");
  });

  it('echo -n and -e', () => {
    const { run } = session();
    expect(clean(run, "echo -n a; echo -e 'b\\tc\\n'; echo -e 'd\\ce'")).toBe('ab\tc\n\nd');
  });

  it('one echo writes several kprobe_events lines in one write(2) (R102)', () => {
    const { run } = session();
    clean(run, "echo -e 'p:a vfs_read\\np:b kernel_clone' > kprobe_events");
    expect(clean(run, 'cat kprobe_events')).toBe('p:kprobes/a vfs_read\np:kprobes/b kernel_clone\n');
  });

  it('deterministic: the same input gives the same bytes; history replays the session', () => {
    const script = readFileSync('examples/seed-003-session.sh', 'utf8');
    const a = session({ arch: 'arm64', cpus: 1 });
    const b = session({ arch: 'arm64', cpus: 1 });
    const ra = a.run(script);
    expect(b.run(script)).toEqual(ra);
    const c = session({ arch: 'arm64', cpus: 1 });
    const replay = a.sh.history.map((l) => c.sh.run(l));
    expect(replay.map((r) => r.stdout).join('')).toBe(ra.stdout);
  });
});

describe('examples/seed-003-session.sh (seed 003 §2.2 on arm64)', () => {
  it('runs end to end with the fake backend without errors', () => {
    const { run, backend } = session({ arch: 'arm64', cpus: 1 });
    const out = clean(run, readFileSync('examples/seed-003-session.sh', 'utf8'));
    // The record text is the seed's, byte for byte (R152).
    expect(out).toContain(
      'myprobe: (kernel_clone+0x0/0x450) clone_flags=0xffff800012adbdb0 stack_start=0x0 stack_size=0x0 parent_tidptr=0x0 child_tidptr=0xffff800012adbe20\n',
    );
    expect(out).toContain(' => kernel_clone\n => __arm64_sys_clone\n');
    expect(out).toContain('common_pid!=572\n');
    // 4 + 1 + 1 (filtered out) + 2 (`run sh`: the shell and the child shell fork) hits.
    expect(out).toContain(`  ${'myprobe'.padEnd(44)} ${'8'.padStart(15)} ${'0'.padStart(15)}\n`);
    // After the filter only the child shell's fork (pid != 572) was recorded.
    const lastTrace = out.slice(out.lastIndexOf('# tracer: nop'));
    expect(records(lastTrace).filter((l) => RECORD_LINE.test(l)).map((l) => RECORD_LINE.exec(l)?.[2]?.trim())).toEqual(['579', '579']);
    expect(backend.calls.at(-1)).toBe('unregister kprobes/myprobe');
  });
});
