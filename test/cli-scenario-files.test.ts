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

describe('scenario files: cpus may be omitted; every error is reported', () => {
  it('a file without "cpus" runs on the default 4 CPUs', () => {
    writeFileSync(join(dir, 'nocpus.json'), JSON.stringify({ name: 'nocpus', tasks: [{ comm: 'sh', program: [{ op: 'call', fn: 'kernel_clone' }] }] }));
    const r = cli('run', 'nocpus.json', '--no-log');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[1]).toMatch(/^seed 42, 4 CPUs, /);
  });

  it('validation lists every error, one line each with its field path (exit 2)', () => {
    const file = 'bad.json';
    writeFileSync(
      join(dir, file),
      JSON.stringify({
        name: 'bad',
        probes: [{ name: 'kp', symbol: 'kernel_clon' }, { name: 'kp', symbol: 'vfs_read' }],
        tasks: [{ comm: 'sh', cpu: 9, program: [{ op: 'register_kprobe', probe: 'kq' }, { op: 'call', fn: 'vfs_reed' }] }],
      }),
    );
    const r = cli('run', file, '--no-log');
    expect(r.code).toBe(2);
    expect(r.err.split('\n')).toEqual([
      `kprobesim: ${file}: scenario.probes[0].symbol: unknown symbol "kernel_clon"; did you mean "kernel_clone"?`,
      `kprobesim: ${file}: scenario.probes[1].name: duplicate probe name "kp"`,
      `kprobesim: ${file}: scenario.tasks[0].cpu: cpu 9 does not exist (cpus: 4, so 0 to 3)`,
      `kprobesim: ${file}: scenario.tasks[0].program[0].probe: no probe named "kq" in scenario.probes (known: kp)`,
      `kprobesim: ${file}: scenario.tasks[0].program[1].fn: unknown symbol "vfs_reed"; did you mean "vfs_read"?`,
      '',
    ]);
  });

  it('structural errors are all listed too, and the list stops at 20', () => {
    writeFileSync(join(dir, 'shape.json'), JSON.stringify({ name: '', cpus: 0, max_steps: -1, tasks: [{ comm: 'sh', program: [{ op: 'sleep', ticks: 0 }] }] }));
    const shape = cli('run', 'shape.json', '--no-log');
    expect(shape.code).toBe(2);
    expect(shape.err.trim().split('\n').map((l) => l.split(': ')[2])).toEqual(['scenario.name', 'scenario.cpus', 'scenario.max_steps', 'scenario.tasks[0].program[0].ticks']);
    const tasks = Array.from({ length: 30 }, (_, i) => ({ comm: 'sh', program: [{ op: 'call', fn: `nosuch${i}` }] }));
    writeFileSync(join(dir, 'many.json'), JSON.stringify({ name: 'many', tasks }));
    const many = cli('run', 'many.json', '--no-log');
    expect(many.code).toBe(2);
    const lines = many.err.trim().split('\n');
    expect(lines).toHaveLength(21);
    expect(lines[0]).toBe('kprobesim: many.json: scenario.tasks[0].program[0].fn: unknown symbol "nosuch0"');
    expect(lines[19]).toMatch(/^kprobesim: many\.json: scenario\.tasks\[19\]\.program\[0\]\.fn: /);
    expect(lines[20]).toBe('kprobesim: many.json: scenario: more errors not shown (stopped after 20)');
  });

  it('an option that makes several fields misfit names each on its own line, each with the option', () => {
    // x86's regs->ip and regs->flags do not exist on arm64 (its pt_regs has pc and pstate).
    const probe = (name: string, text: string) => ({ name, symbol: 'vfs_read', pre: [{ do: 'print', text }] });
    writeFileSync(join(dir, 'x86.json'), JSON.stringify({ name: 'x86', probes: [probe('kp', '{ip}'), probe('kq', '{flags}')], tasks: [{ comm: 'sh', program: [] }] }));
    expect(cli('run', 'x86.json', '--no-log').code).toBe(0);
    const r = cli('run', 'x86.json', '--arch', 'arm64', '--no-log');
    expect(r.code).toBe(2);
    const lines = r.err.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^kprobesim: --arch: arm64 does not fit the scenario: scenario\.probes\[0\]\.pre\[0\]\.text: .*\{pc\}/);
    expect(lines[1]).toMatch(/^kprobesim: --arch: arm64 does not fit the scenario: scenario\.probes\[1\]\.pre\[0\]\.text: .*\{pstate\}/);
  });
});
