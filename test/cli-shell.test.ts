import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// `kprobesim shell` as a process: a script on standard input, sh's exit status, the session log
// and its replay, and bad options. (The session's behaviour itself: test/session.test.ts.)

const BIN = resolve('bin/kprobesim.js');
const dir = mkdtempSync(join(tmpdir(), 'kprobesim-shell-'));

function shell(input: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'shell', ...args], { cwd: dir, encoding: 'utf8', input });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const SCRIPT = `cd /sys/kernel/debug/tracing
echo 'p:myprobe kernel_clone child_tidptr=+0($stack)' > kprobe_events
echo 1 > events/kprobes/myprobe/enable
run ls
cat trace | grep -c 'myprobe: (kernel_clone'
cat kprobe_profile
cat /etc/passwd
`;

describe('kprobesim shell (process)', () => {
  it('runs a script from standard input; errors are sh’s and the session goes on', () => {
    const r = shell(SCRIPT);
    expect(r.err).toBe("cat: can't open '/etc/passwd': No such file or directory\n");
    // The last command failed: sh's status is cat's.
    expect(r.code).toBe(1);
    // `run ls` forks once (its child opens and reads); the pipeline's cat and grep are forked
    // before cat reads the trace: 3 records. Reading kprobe_profile forks one more cat: 4 hits.
    expect(r.out).toBe(`3\n  ${'myprobe'.padEnd(44)} ${'4'.padStart(15)} ${'0'.padStart(15)}\n`);
  });

  it('`exit N` ends the session with status N; later lines are not run', () => {
    const r = shell('echo hi\nexit 3\necho never\n');
    expect(r).toMatchObject({ code: 3, out: 'hi\n', err: '' });
  });

  it('--log writes the session log, which replays identically and traces', () => {
    const log = join(dir, 'session.jsonl');
    const r = shell(`echo 'p:myprobe kernel_clone' > kprobe_events\necho 1 > events/kprobes/myprobe/enable\nrun sh\n`, '--log', log, '--seed', '9');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(existsSync(`${log}.partial`)).toBe(false);
    const replay = spawnSync(process.execPath, [BIN, 'replay', log], { encoding: 'utf8' });
    expect(replay.status).toBe(0);
    expect(replay.stdout).toMatch(/^identical: \d+ events, final digest sha256:[0-9a-f]{64}\n$/);
    // Same input, same seed: the same bytes (INV-determinism).
    const again = join(dir, 'again.jsonl');
    shell(`echo 'p:myprobe kernel_clone' > kprobe_events\necho 1 > events/kprobes/myprobe/enable\nrun sh\n`, '--log', again, '--seed', '9');
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(log, 'utf8'));
  });

  it('never overwrites an existing --log without --force; an unknown --arch is refused by name', () => {
    const log = join(dir, 'kept.jsonl');
    writeFileSync(log, 'precious\n');
    const r = shell('echo hi\n', '--log', log);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`kprobesim: ${log} exists; pass --force to replace it\n`);
    expect(readFileSync(log, 'utf8')).toBe('precious\n');
    const a = shell('echo hi\n', '--arch', 'sparc');
    expect(a.code).toBe(2);
    expect(a.err).toBe('kprobesim: --arch: "sparc" is not an architecture of the simulator (expected x86_64 or arm64)\n');
    expect(a.out).toBe('');
  });
});

describe('examples/seed-003-session.sh through the CLI (seed 003 §2.2, arm64)', () => {
  it('runs end to end on the simulated arm64 kernel and its log replays', () => {
    const log = join(dir, 'seed-003.jsonl');
    const r = shell(readFileSync('examples/seed-003-session.sh', 'utf8'), '--arch', 'arm64', '--cpus', '1', '--log', log);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ +sh-572 +\[000\] d\.Z\.\. +\d+\.\d{6}: myprobe: \(kernel_clone\+0x0\/0x[0-9a-f]+\) clone_flags=0x[0-9a-f]+ stack_start=0x0 stack_size=0x0 parent_tidptr=0x0 child_tidptr=0x[0-9a-f]+$/m);
    const replay = spawnSync(process.execPath, [BIN, 'replay', log], { encoding: 'utf8' });
    expect(replay.stdout).toMatch(/^identical: /);
  });
});

describe('kprobesim shell on a terminal', () => {
  it('prompts, keeps going after errors, continues an open quote with "> ", and exits with `exit N`', () => {
    // util-linux script(1) gives the shell a pseudo-terminal on both stdin and stdout.
    const input = "echo 'p:k kernel_clone' > kprobe_events\necho 'open\nquote'\ncat /nope\necho 1 > events/kprobes/k/enable\nrun ls\ncat kprobe_profile\nexit 3\n";
    const r = spawnSync('script', ['-qec', `${process.execPath} ${BIN} shell --cpus 1`, '/dev/null'], { cwd: dir, encoding: 'utf8', input });
    expect(r.status).toBe(3);
    const screen = r.stdout.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
    expect(screen).toContain('kprobesim shell: a simulated 6.17 x86_64 kernel with 1 CPU (seed 42).');
    expect(screen).toContain('[root@kprobesim tracing]# ');
    // readline draws each prompt after clearing the line: PS2 for the open quote.
    expect(r.stdout).toContain('\x1b[0J> ');
    expect(screen).toContain('open\r\nquote\r\n');
    expect(screen).toContain("cat: can't open '/nope': No such file or directory");
    // `run ls`, then the fork of the `cat` that reads the profile.
    expect(screen).toContain(`  ${'k'.padEnd(44)} ${'2'.padStart(15)} ${'0'.padStart(15)}`);
  });
});

describe('a session log re-runs: kprobesim shell --replay and kprobesim trace', () => {
  const SESSION = [
    "echo 'p:myprobe kernel_clone' > kprobe_events",
    'echo 1 > events/kprobes/myprobe/enable',
    'run sh',
    "echo 'common_pid!=572' > events/kprobes/myprobe/filter",
    'run sh',
    'cat trace',
    'cat /nope',
    '',
  ].join('\n');

  it('--replay prints the transcript with prompts and finds every event identical', () => {
    const log = join(dir, 'rerun.jsonl');
    const live = shell(SESSION, '--log', log);
    const r = spawnSync(process.execPath, [BIN, 'shell', '--replay', log], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    // What the session printed, after the prompt and the command that printed it.
    expect(r.stdout).toContain(`[root@kprobesim tracing]# cat trace\n${live.out}`);
    expect(r.stdout).toContain("[root@kprobesim tracing]# cat /nope\ncat: can't open '/nope': No such file or directory\n");
    expect(r.stderr).toMatch(/^kprobesim: identical: \d+ events\n$/);
  });

  it('trace LOG of a session is the session’s own trace file at its end (the filter applied)', () => {
    const log = join(dir, 'rerun-trace.jsonl');
    const live = shell(SESSION, '--log', log);
    const r = spawnSync(process.execPath, [BIN, 'trace', log], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(live.out);
    // Three records: the shell's and the child's fork, then only the child's after the filter.
    expect(r.stdout.split('\n').filter((l) => l.includes('myprobe:'))).toHaveLength(3);
  });

  it('an edited command is a divergence at the first event it changes (exit 1)', () => {
    const log = join(dir, 'edited-session.jsonl');
    shell(SESSION, '--log', log);
    const lines = readFileSync(log, 'utf8').split('\n');
    const i = lines.findIndex((l) => l.includes('"text":"run sh"'));
    lines[i] = lines[i]!.replace('"text":"run sh"', '"text":"run ls"');
    writeFileSync(log, lines.join('\n'));
    const r = spawnSync(process.execPath, [BIN, 'shell', '--replay', log], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    // `run ls` forks a child that does not fork again: the first event after the fork differs.
    expect(r.stderr).toMatch(/^kprobesim: the re-run session diverged at seq \d+ \(.*edited-session\.jsonl:\d+\)\n {2}expected \(log\): {2}\{.*\n {2}actual \(re-run\): \{/);
    const seq = Number(/seq (\d+)/.exec(r.stderr)![1]);
    expect(seq).toBeGreaterThan(JSON.parse(lines[i]!).seq);
  });

  it('a run log is not a session log: --replay says which command to use (exit 2)', () => {
    const log = join(dir, 'a-run.jsonl');
    spawnSync(process.execPath, [BIN, 'run', 'default', '--log', log], { encoding: 'utf8' });
    const r = spawnSync(process.execPath, [BIN, 'shell', '--replay', log], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`kprobesim: ${log}:1: not the log of a kprobesim shell session (it was written by kprobesim run; use kprobesim replay)\n`);
  });

  it('a session log cut short by a crash re-runs up to its last complete line and says so', () => {
    const log = join(dir, 'cut-session.jsonl');
    shell(SESSION, '--log', log);
    const text = readFileSync(log, 'utf8');
    const cut = join(dir, 'cut-session-short.jsonl');
    writeFileSync(cut, text.slice(0, Math.floor(text.length / 2)));
    const r = spawnSync(process.execPath, [BIN, 'shell', '--replay', cut], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^kprobesim: identical: \d+ events \(the log stops before log\.end: an interrupted session\)\n$/);
    expect(r.stdout).toMatch(/^\[root@kprobesim tracing\]# echo 'p:myprobe kernel_clone' > kprobe_events\n/);
  });
});
