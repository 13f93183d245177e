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
