import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Scenario files as users write and name them (issue 9, §4): a misspelt built-in is told apart
// from a missing file; a file may omit cpus; validation lists every error it finds.

const BIN = resolve('bin/kprobesim.js');
const dir = mkdtempSync(join(tmpdir(), 'kprobesim-files-'));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('run SCENARIO: a built-in name or a file', () => {
  it('a misspelt built-in gets "did you mean" (exit 2)', () => {
    const r = cli('run', 'defualt', '--no-log');
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toBe('kprobesim: no built-in scenario "defualt"; did you mean "default"? (or give a scenario file path)\n');
    expect(cli('run', 'kretprobe-pol', '--no-log').err).toBe('kprobesim: no built-in scenario "kretprobe-pol"; did you mean "kretprobe-pool"? (or give a scenario file path)\n');
  });

  it('a word close to no built-in lists them', () => {
    const r = cli('run', 'zzzzzzzzzz', '--no-log');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^kprobesim: no built-in scenario "zzzzzzzzzz" \(built-in: default, printk-recursion, .*, timer-tick\) \(or give a scenario file path\)\n$/);
  });

  it('an argument that looks like a path and does not exist is a missing file', () => {
    for (const arg of ['defualt.json', './default', 'no/such/dir/x']) {
      const r = cli('run', arg, '--no-log');
      expect(r.code).toBe(2);
      expect(r.err).toBe(`kprobesim: ${arg}: No such file or directory\n`);
    }
  });

  it('a bare word that is an existing file runs as a file', () => {
    writeFileSync(join(dir, 'mine'), JSON.stringify({ name: 'mine', cpus: 1, tasks: [{ comm: 'sh', program: [] }] }));
    const r = cli('run', 'mine', '--no-log');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^scenario mine/);
  });
});
