// The shell's module commands as BusyBox's applets behave (modutils/insmod.c, rmmod.c, lsmod.c,
// modutils.c): insmod builds the module's C source, and a source that does not build is what a
// file that is no module is to the kernel, ENOEXEC: gcc's diagnostics, then `insmod: can't insert
// 'FILE': invalid module format` (moderror(ENOEXEC)), status 8 (insmod returns the errno). A file
// that cannot be read is BusyBox's -errno: strerror and status 254 for ENOENT. rmmod of a module
// that is not loaded is delete_module's ENOENT, perror'd, status 1. lsmod prints the pretty header
// with the taint check.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordedSession } from '../src/session/recorded.ts';
import { HostDir } from '../src/session/host-dir.ts';
import { cliInProcess } from './cli-in-process.ts';

const SEED_003 = readFileSync('examples/modules/seed-003/kprobe_example.c', 'utf8');

function mods(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kprobesim-modules-'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'kprobe_example.c'), SEED_003);
  writeFileSync(join(dir, 'undeclared.c'), '#include <linux/module.h>\nint f(void)\n{\n\treturn missing;\n}\nMODULE_LICENSE("GPL");\n');
  return dir;
}

function session(dir: string, kernel: '5.10' | '6.17' = '6.17') {
  return new RecordedSession({ cpus: 1, seed: 1, kernel, arch: 'x86_64' }, { mounts: [{ path: '/mnt', source: new HostDir(dir) }] });
}

describe('insmod of a module that does not build', () => {
  it("prints gcc's diagnostics, then insmod's ENOEXEC message, status 8", () => {
    const s = session(mods());
    const r = s.run('insmod /mnt/undeclared.c');
    expect(r.stderr).toBe(
      [
        "/mnt/undeclared.c: In function 'f':",
        "/mnt/undeclared.c:4:16: error: 'missing' undeclared (first use in this function)",
        '    4 |         return missing;',
        '      |                ^~~~~~~',
        '/mnt/undeclared.c:4:16: note: each undeclared identifier is reported only once for each function it appears in',
        "insmod: can't insert '/mnt/undeclared.c': invalid module format",
        '',
      ].join('\n'),
    );
    expect(r.stdout).toBe('');
    expect(r.status).toBe(8);
  });

  it("seed 003's module on 6.17: struct kprobe has no fault_handler (gone in v5.14); FILE.ko names FILE.c", () => {
    const s = session(mods());
    s.run('cd /mnt');
    const r = s.run('insmod kprobe_example.ko');
    expect(r.stderr.split('\n').slice(0, 2)).toEqual([
      "kprobe_example.c: In function 'kprobe_init':",
      "kprobe_example.c:119:12: error: 'struct kprobe' has no member named 'fault_handler'; did you mean 'post_handler'?",
    ]);
    expect(r.stderr.endsWith("insmod: can't insert 'kprobe_example.ko': invalid module format\n")).toBe(true);
    expect(r.status).toBe(8);
  });

  it('the child insmod execs, opens and reads the source in the kernel, whatever the outcome', () => {
    const events: { type: string; ops?: unknown }[] = [];
    const s = new RecordedSession({ cpus: 1, seed: 1, kernel: '6.17', arch: 'x86_64' }, { mounts: [{ path: '/mnt', source: new HostDir(mods()) }], onEvent: (e) => events.push(e) });
    s.run('insmod /mnt/undeclared.c');
    const ops = events.filter((e) => e.type === 'input.ops').map((e) => e.ops);
    expect(ops).toEqual([[{ op: 'fork', comm: 'insmod', program: [{ op: 'call', fn: 'do_execve' }, { op: 'call', fn: 'do_sys_open' }, { op: 'call', fn: 'ksys_read' }] }]]);
  });
});

describe('insmod and rmmod failures that are not the compiler', () => {
  it('a missing file: strerror, status 254 (BusyBox returns -ENOENT)', () => {
    const r = session(mods()).run('insmod /mnt/nope.c');
    expect(r.stderr).toBe("insmod: can't insert '/mnt/nope.c': No such file or directory\n");
    expect(r.status).toBe(254);
  });

  it('no argument: the usage, status 1', () => {
    const r = session(mods()).run('insmod');
    expect(r.stderr).toBe('Usage: insmod FILE [SYMBOL=VALUE]...\n');
    expect(r.status).toBe(1);
  });

  it('rmmod of a module that is not loaded: delete_module\'s ENOENT, named as filename2modname makes it', () => {
    const s = session(mods());
    const r = s.run('rmmod /lib/modules/kprobe-example.ko');
    expect(r.stderr).toBe("rmmod: can't unload module 'kprobe_example': No such file or directory\n");
    expect(r.status).toBe(1);
    expect(s.run('rmmod -x kp').stderr).toBe("rmmod: invalid option -- 'x'\n");
    expect(s.run('rmmod').stderr).toBe('Usage: rmmod [-wf] MODULE...\n');
  });
});

describe('lsmod and /proc/modules', () => {
  it('with no module loaded: the header and an untainted kernel, and an empty /proc/modules', () => {
    const s = session(mods());
    expect(s.run('lsmod')).toMatchObject({ stdout: 'Module                  Size  Used by    Not tainted\n', stderr: '', status: 0 });
    expect(s.run('cat /proc/modules')).toMatchObject({ stdout: '', status: 0 });
    expect(s.run('cat /proc/sys/kernel/tainted').stdout).toBe('0\n');
  });
});

describe('a session with module commands replays without the host directory', () => {
  it('logs the source insmod read and replays identically', async () => {
    const dir = mods();
    const log = join(dir, 'session.jsonl');
    const live = await cliInProcess(['shell', '--cpus', '1', '--mount', `${dir}:/mnt`, '--log', log], 'insmod /mnt/undeclared.c\nlsmod\n');
    expect(live.err).toContain("insmod: can't insert '/mnt/undeclared.c': invalid module format\n");
    expect(readFileSync(log, 'utf8')).toContain('"type":"input.mount.read","path":"/mnt/undeclared.c"');
    writeFileSync(join(dir, 'undeclared.c'), 'changed since\n');
    const rerun = await cliInProcess(['shell', '--replay', log]);
    expect(rerun.code).toBe(0);
    expect(rerun.out).toContain("/mnt/undeclared.c:4:16: error: 'missing' undeclared (first use in this function)");
  });
});

// Loading for real (the module executor, src/cexec): insmod's child brings the module into the
// run (`input.module`) and loads it: load_module() copies its data, module_init runs on a CPU,
// and its printk lines are the kernel log's; rmmod runs module_exit. These are modules of our own.

const HELLO = `#include <linux/module.h>
#include <linux/kprobes.h>

static int count = 1;
module_param(count, int, 0644);
static int forks;

static int on_clone(struct kprobe *p, struct pt_regs *regs)
{
\tforks++;
\treturn 0;
}

static struct kprobe kp = {
\t.symbol_name = "kernel_clone",
\t.pre_handler = on_clone,
};

static int __init hello_init(void)
{
\tint ret = register_kprobe(&kp);

\tpr_info("hello: init with count=%d, register_kprobe %d\\n", count, ret);
\treturn ret;
}

static void __exit hello_exit(void)
{
\tunregister_kprobe(&kp);
\tpr_info("hello: exit after %d forks\\n", forks);
}

module_init(hello_init);
module_exit(hello_exit);
MODULE_LICENSE("GPL");
`;

const FAILING = `#include <linux/module.h>

static int __init failing_init(void)
{
\tpr_err("failing: no device\\n");
\treturn -ENODEV;
}

module_init(failing_init);
MODULE_LICENSE("GPL");
`;

/** A module whose writable data is exactly 8192 bytes (+ `extra`): one array, no other variable. */
const big = (extra: number): string => `#include <linux/module.h>

static char buf[${8192 + extra}];

static int __init big_init(void)
{
\tbuf[0] = 1;
\tpr_info("big: %d\\n", buf[0]);
\treturn 0;
}

module_init(big_init);
MODULE_LICENSE("GPL");
`;

function modsWithOwn(): string {
  const dir = mods();
  writeFileSync(join(dir, 'hello.c'), HELLO);
  writeFileSync(join(dir, 'failing.c'), FAILING);
  writeFileSync(join(dir, 'big.c'), big(0));
  writeFileSync(join(dir, 'bigger.c'), big(1));
  return dir;
}

const logText = (out: string): string[] => out.split('\n').filter((l) => l !== '').map((l) => l.replace(/^\[[ 0-9.]+\] /, ''));

describe('insmod loads a module in C and runs its init; rmmod runs its exit', () => {
  it('module_init runs with insmod\'s parameter and its lines reach dmesg; its kprobe counts the forks until module_exit reports them', () => {
    const s = session(modsWithOwn());
    const r = s.run('insmod /mnt/hello.c count=3');
    expect(r).toMatchObject({ stdout: '', stderr: '', status: 0 });
    expect(logText(s.run('dmesg').stdout)).toEqual(['hello: init with count=3, register_kprobe 0']);
    expect(s.run('lsmod').stdout.split('\n')[1]).toMatch(/^hello +\d+ +0 $/);
    // BusyBox runs each program as a forked child: after the registration, dmesg, lsmod, cat and
    // rmmod's own child are a kernel_clone each, the last before delete_module calls hello_exit.
    s.run('cat /proc/modules');
    expect(s.run('rmmod hello')).toMatchObject({ stderr: '', status: 0 });
    expect(logText(s.run('dmesg').stdout).slice(-1)).toEqual(['hello: exit after 4 forks']);
    expect(s.run('cat /proc/modules').stdout).toBe('');
  });

  it('insmod of a loaded module is EEXIST (status 17); after rmmod it loads again', () => {
    const s = session(modsWithOwn());
    expect(s.run('insmod /mnt/hello.c').status).toBe(0);
    expect(s.run('insmod /mnt/hello.c')).toMatchObject({ stderr: "insmod: can't insert '/mnt/hello.c': File exists\n", status: 17 });
    expect(s.run('rmmod hello').status).toBe(0);
    expect(s.run('insmod /mnt/hello.c').status).toBe(0);
    expect(logText(s.run('dmesg').stdout).filter((l) => l.startsWith('hello: init'))).toHaveLength(2);
  });

  it('an init that returns -ENODEV: do_init_module unloads it, insmod prints strerror(ENODEV), status 19', () => {
    const s = session(modsWithOwn());
    expect(s.run('insmod /mnt/failing.c')).toMatchObject({ stderr: "insmod: can't insert '/mnt/failing.c': No such device\n", status: 19 });
    expect(logText(s.run('dmesg').stdout)).toEqual(['failing: no device']);
    expect(s.run('cat /proc/modules').stdout).toBe('');
  });

  it('/proc/modules sizes are the loader\'s: text, read-only data and writable data, each in whole pages', () => {
    const s = session(modsWithOwn());
    s.run('insmod /mnt/big.c');
    s.run('insmod /mnt/bigger.c');
    // Each: a page of text (a few instructions) and one of string literals; writable data 8192
    // bytes is two pages, 8193 three. The newest module comes first.
    const lines = s.run('cat /proc/modules').stdout.split('\n');
    expect(lines[0]).toMatch(/^bigger 20480 0 - Live 0x[0-9a-f]{16} \(O\)$/);
    expect(lines[1]).toMatch(/^big 16384 0 - Live 0x[0-9a-f]{16} \(O\)$/);
    expect(s.run('lsmod').stdout.split('\n').slice(1, 3)).toEqual(['bigger                 20480  0 ', 'big                    16384  0 ']);
  });

  it('a session that loaded and unloaded a module replays identically after its source is gone', async () => {
    const dir = modsWithOwn();
    const log = join(dir, 'loaded.jsonl');
    const script = 'insmod /mnt/hello.c count=5\ncat /proc/modules\nrmmod hello\ndmesg\n';
    const live = await cliInProcess(['shell', '--cpus', '2', '--mount', `${dir}:/mnt`, '--log', log], script);
    expect(live.code).toBe(0);
    expect(live.out).toContain('hello: init with count=5, register_kprobe 0');
    // cat's and rmmod's children: two kernel_clone calls while the probe is registered.
    expect(live.out).toContain('hello: exit after 2 forks');
    expect(readFileSync(log, 'utf8')).toContain('"type":"input.module"');
    writeFileSync(join(dir, 'hello.c'), 'changed since\n');
    const rerun = await cliInProcess(['shell', '--replay', log]);
    expect(rerun.code).toBe(0);
    expect(rerun.err).toMatch(/identical: \d+ events/);
    // The transcript shows each command and the same output as the live session's.
    const lines = (out: string) => out.split('\n').filter((l) => !l.startsWith('[root@'));
    expect(lines(rerun.out)).toEqual(lines(live.out));
  });
});
