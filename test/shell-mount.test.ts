// `kprobesim shell --mount HOSTDIR:/mnt`: the mounted directory is the only part of the host a
// session can read, read-only. Escapes by `..`, by an absolute symbolic link and by a relative one
// are refused with the message sh and BusyBox print for the errno the confinement gives (ENOENT
// for `..`, which resolves in the session's own tree; EACCES for a link out, as a process
// confined by Landlock is refused); writes are EROFS; a read stops at 1 MiB. What a session reads
// is logged, so its replay needs no host directory.

import { mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliInProcess } from './cli-in-process.ts';

/** A host tree: HOST/mods is mounted; HOST/secret.txt and HOST/outside/ are outside it. */
function hostTree(): { host: string; mods: string } {
  const host = mkdtempSync(join(tmpdir(), 'kprobesim-mount-'));
  const mods = join(host, 'mods');
  mkdirSync(join(mods, 'sub'), { recursive: true });
  mkdirSync(join(host, 'outside'));
  writeFileSync(join(host, 'secret.txt'), 'SECRET\n');
  writeFileSync(join(host, 'outside', 'more.txt'), 'MORE SECRET\n');
  writeFileSync(join(mods, 'hello.c'), 'int x;\n');
  symlinkSync(join(host, 'secret.txt'), join(mods, 'abs-link'));
  symlinkSync('../../secret.txt', join(mods, 'sub', 'rel-link'));
  symlinkSync('../hello.c', join(mods, 'sub', 'inside-link'));
  symlinkSync('../outside', join(mods, 'outdir'));
  return { host, mods };
}

const shell = (mods: string, script: string, extra: string[] = []) => cliInProcess(['shell', '--cpus', '1', '--mount', `${mods}:/mnt`, ...extra], script);

describe('what a mount shows', () => {
  it('lists the directory, links out of it included, and reads its files and links that stay inside', async () => {
    const { mods } = hostTree();
    const r = await shell(mods, 'ls /mnt\ncat /mnt/hello.c\ncat /mnt/sub/inside-link\ncd /mnt/sub\ncat ../hello.c\nls /\n');
    expect(r.err).toBe('');
    expect(r.out).toBe(['abs-link', 'hello.c', 'outdir', 'sub', 'int x;', 'int x;', 'int x;', 'dev', 'mnt', 'proc', 'sys', ''].join('\n'));
  });
});

describe('escapes are refused', () => {
  it('.. from the mount point is the tree\'s parent, not the host\'s: No such file or directory', async () => {
    const { host, mods } = hostTree();
    const r = await shell(mods, `cat /mnt/../secret.txt\ncat /mnt/../../${host.slice(1)}/secret.txt\ncd /mnt\ncat ../secret.txt\n`);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      [
        "cat: can't open '/mnt/../secret.txt': No such file or directory",
        `cat: can't open '/mnt/../../${host.slice(1)}/secret.txt': No such file or directory`,
        "cat: can't open '../secret.txt': No such file or directory",
        '',
      ].join('\n'),
    );
  });

  it('an absolute symbolic link out of the directory: Permission denied', async () => {
    const { mods } = hostTree();
    const r = await shell(mods, 'cat /mnt/abs-link\n');
    expect(r.err).toBe("cat: can't open '/mnt/abs-link': Permission denied\n");
    expect(r.out).not.toContain('SECRET');
  });

  it('a relative symbolic link that climbs out, and a linked directory out: Permission denied', async () => {
    const { mods } = hostTree();
    const r = await shell(mods, 'cat /mnt/sub/rel-link\ncat /mnt/outdir/more.txt\nls /mnt/outdir\n');
    expect(r.err).toBe(
      ["cat: can't open '/mnt/sub/rel-link': Permission denied", "cat: can't open '/mnt/outdir/more.txt': Permission denied", 'ls: /mnt/outdir: Permission denied', ''].join('\n'),
    );
    expect(r.out).toBe('');
  });

  it('a FIFO is refused without blocking', async () => {
    const { mods } = hostTree();
    execFileSync('mkfifo', [join(mods, 'pipe')]);
    const r = await shell(mods, 'cat /mnt/pipe\n');
    expect(r.err).toBe("cat: can't open '/mnt/pipe': Permission denied\n");
  });
});

describe('the mount is read-only', () => {
  it('refuses > and >> on a file and creating one, as sh prints EROFS (status 2), and the host file is unchanged', async () => {
    const { mods } = hostTree();
    const r = await shell(mods, 'echo x > /mnt/hello.c\necho $?\necho x >> /mnt/hello.c\necho x > /mnt/new.c\necho x > /mnt/sub/new.c\n');
    expect(r.err).toBe(
      [
        "sh: can't create /mnt/hello.c: Read-only file system",
        "sh: can't create /mnt/hello.c: Read-only file system",
        "sh: can't create /mnt/new.c: Read-only file system",
        "sh: can't create /mnt/sub/new.c: Read-only file system",
        '',
      ].join('\n'),
    );
    expect(r.out).toBe('2\n');
    expect(readFileSync(join(mods, 'hello.c'), 'utf8')).toBe('int x;\n');
  });

  it('reads at most 1 MiB of a file: a bigger one is File too large', async () => {
    const { mods } = hostTree();
    writeFileSync(join(mods, 'big.c'), 'x'.repeat(1024 * 1024 + 1));
    writeFileSync(join(mods, 'edge.c'), 'y'.repeat(1024 * 1024));
    const r = await shell(mods, 'cat /mnt/big.c\ncat /mnt/edge.c | wc -c\n');
    expect(r.err).toBe('cat: read error: File too large\n');
    expect(r.out).toBe('1048576\n');
  });
});

describe('--mount is checked before anything runs', () => {
  it.each([
    ['./mods', 'is not HOSTDIR:PATH'],
    ['MODS:mnt', 'is not HOSTDIR:PATH'],
    ['MODS:/sys/x', '/sys is the simulated kernel\'s own'],
    ['MODS:/', 'cannot be /'],
    ['MODS:/mnt/../x', 'may not contain . or .. components'],
    ['/nonexistent/kprobesim:/mnt', 'no such directory on the host'],
  ])('%s: exit 2 naming --mount', async (spec, why) => {
    const { mods } = hostTree();
    const r = await cliInProcess(['shell', '--mount', spec.replace('MODS', mods)], 'echo hi\n');
    expect(r.code).toBe(2);
    expect(r.err).toContain('kprobesim: --mount: ');
    expect(r.err).toContain(why);
    expect(r.out).toBe('');
  });

  it('refuses a mount inside another', async () => {
    const { mods } = hostTree();
    const r = await cliInProcess(['shell', '--mount', `${mods}:/mnt`, '--mount', `${mods}:/mnt/sub`], '');
    expect(r.code).toBe(2);
    expect(r.err).toBe('kprobesim: --mount: /mnt/sub overlaps the mount at /mnt\n');
  });
});

describe('a session with a mount replays without the host directory', () => {
  it('logs what it read, and shell --replay and replay reproduce it after the directory is gone', async () => {
    const { host, mods } = hostTree();
    const log = join(host, 'session.jsonl');
    const script = 'ls /mnt\ncat /mnt/hello.c\ncat /mnt/abs-link\necho x > /mnt/hello.c\n';
    const live = await shell(mods, script, ['--log', log]);
    const events = readFileSync(log, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as { type: string; path?: string; node?: unknown });
    expect(events.filter((e) => e.type === 'input.mount')).toEqual([expect.objectContaining({ path: '/mnt' })]);
    expect(events.find((e) => e.type === 'input.mount.read' && e.path === '/mnt/hello.c')?.node).toEqual({ file: 'int x;\n' });
    // The secret was never read, so it is not in the log.
    expect(readFileSync(log, 'utf8')).not.toContain('SECRET');
    renameSync(mods, join(host, 'gone'));
    const rerun = await cliInProcess(['shell', '--replay', log]);
    expect(rerun.code).toBe(0);
    expect(rerun.err).toMatch(/^kprobesim: identical: \d+ events\n$/);
    const transcript = rerun.out.replace(/^\[root@kprobesim [^\]]*\]# .*\n/gm, '');
    expect(transcript).toBe(live.out + live.err);
    const replay = await cliInProcess(['replay', log]);
    expect(replay.code).toBe(0);
    expect(replay.out).toMatch(/^identical: /);
  });
});
