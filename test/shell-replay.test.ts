// A session that uses the shell's programs (pipes, cat, sleep, dmesg, ls, grep) keeps its log
// replayable: what was typed is logged (`input.line`) and the programs' kernel work goes through
// the same recorded path (`input.ops`), so `kprobesim replay`, `shell --replay` and `trace LOG`
// re-run it identically, and the same input gives the same bytes.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = resolve('bin/kprobesim.js');
const dir = mkdtempSync(join(tmpdir(), 'kprobesim-shell-replay-'));
const kprobesim = (args: string[], input = '') => spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', input });

const SESSION = [
  "echo 'p:rd vfs_read' > kprobe_events",
  "echo 'p:kc kernel_clone' >> kprobe_events",
  'echo 1 > events/kprobes/enable',
  'ls / | wc -l',
  'cat /proc/kallsyms | grep -w vfs_read | head -n 1',
  'sleep 1',
  'dmesg -c',
  'cat /etc/passwd || echo no passwd',
  'cat trace | grep -c kc:',
  'cat trace | grep rd: | sort -r | tail -n 2',
  '',
].join('\n');

describe('a session with programs replays', () => {
  it('is logged line by line and re-runs identically through replay, shell --replay and trace', () => {
    const log = join(dir, 'programs.jsonl');
    const live = kprobesim(['shell', '--cpus', '2', '--seed', '11', '--log', log], SESSION);
    expect(live.stderr).toBe("cat: can't open '/etc/passwd': No such file or directory\n");
    expect(live.status).toBe(0);
    // Every typed line is in the log, in order.
    const events = readFileSync(log, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as { type: string; text?: string });
    expect(events.filter((e) => e.type === 'input.line').map((e) => e.text)).toEqual(SESSION.trim().split('\n'));
    // The kernel side re-executes to the same digest.
    const replay = kprobesim(['replay', log]);
    expect(replay.status).toBe(0);
    expect(replay.stdout).toMatch(/^identical: \d+ events, final digest sha256:[0-9a-f]{64}\n$/);
    // The typed lines re-run: the same output after each prompt, every event checked.
    const rerun = kprobesim(['shell', '--replay', log]);
    expect(rerun.status).toBe(0);
    expect(rerun.stderr).toMatch(/^kprobesim: identical: \d+ events\n$/);
    const transcript = rerun.stdout.replace(/^\[root@kprobesim [^\]]*\]# .*\n/gm, '');
    expect(transcript.replace(live.stderr, '')).toBe(live.stdout);
    expect(rerun.stdout).toContain('[root@kprobesim tracing]# sleep 1\n[root@kprobesim tracing]# dmesg -c\n');
    // trace LOG: the session's trace file as it stood at the end, which the last commands read.
    const trace = kprobesim(['trace', log]);
    expect(trace.status).toBe(0);
    const rd = trace.stdout.split('\n').filter((l) => l.includes(' rd: '));
    expect(live.stdout.endsWith(rd.sort().reverse().slice(-2).map((l) => `${l}\n`).join(''))).toBe(true);
    // Same input, same seed: the same bytes.
    const again = join(dir, 'programs-again.jsonl');
    kprobesim(['shell', '--cpus', '2', '--seed', '11', '--log', again], SESSION);
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(log, 'utf8'));
  });
});
