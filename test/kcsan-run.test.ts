import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliInProcess } from './cli-in-process.ts';
import { tempDir } from './explore-fixtures.ts';
import { countOpens } from './kcsan-fixtures.ts';

// `kprobesim run --module` prints KCSAN's reports in dmesg and says in its summary how many data
// races there were (issue 12). The module's pre-handler on openat bumps a plain counter; the
// default workload's cats each open a file, so handlers of different tasks race on it.

const dir = tempDir('kprobesim-kcsan-run-');

function module(name: string, code: string): string {
  const path = join(dir, name);
  writeFileSync(path, code);
  return path;
}

const strip = (l: string) => l.replace(/^\[[ 0-9.]+\] /, '');

describe('kprobesim run --module: KCSAN', () => {
  it('x86_64: the report in dmesg and the summary; both handler accesses "by interrupt" (int3 runs as an NMI: in_task() is false)', async () => {
    const r = await cliInProcess(['run', '--module', module('count_opens.c', countOpens('x86_64')), '--no-log', '--dmesg']);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines).toContain('data races (KCSAN): 1');
    expect(lines.find((l) => l.startsWith('  seq ') && l.includes('data-race'))).toMatch(/^ {2}seq \d+: data-race in handler_pre \/ handler_pre \(interrupt on cpu \d, interrupt on cpu \d\)$/);
    const dmesg = lines.slice(lines.indexOf('--- dmesg ---') + 1).map(strip);
    const at = dmesg.indexOf('BUG: KCSAN: data-race in handler_pre / handler_pre');
    expect(at).toBeGreaterThan(0);
    expect(dmesg[at + 2]).toMatch(/^(read|write) to 0x[0-9a-f]{16} of 8 bytes by interrupt on cpu \d:$/);
    // The handler's frame, then the task standing on the probed instruction (symbol+0x0).
    expect(dmesg[at + 3]).toMatch(/^ handler_pre\+0x[0-9a-f]+\/0x[0-9a-f]+ \[count_opens\]$/);
    expect(dmesg[at + 4]).toMatch(/^ __x64_sys_openat\+0x0\/0x[0-9a-f]+$/);
    // The counter still counts every open: the race is reported whether or not a bump was lost.
    expect(dmesg.filter((l) => l !== '').at(-1)).toMatch(/^opens=\d$/);
  });

  it('arm64: the BRK handler runs in the task\'s context, so the accesses are "by task N"', async () => {
    const r = await cliInProcess(['run', '--arch', 'arm64', '--module', module('count_opens_arm64.c', countOpens('arm64')), '--no-log', '--dmesg']);
    expect(r.code).toBe(0);
    const dmesg = r.out.split('\n').map(strip);
    const access = dmesg.filter((l) => / to 0x[0-9a-f]{16} of 8 bytes by /.test(l));
    expect(access).toHaveLength(2);
    for (const l of access) expect(l).toMatch(/ by task \d+ on cpu \d:$/);
    // Two different cats.
    expect(new Set(access.map((l) => /task (\d+)/.exec(l)![1])).size).toBe(2);
  });

  it('under a spinlock: "data races (KCSAN): none"; a run without C modules has no such line', async () => {
    const locked = await cliInProcess(['run', '--module', module('count_locked.c', countOpens('x86_64', true)), '--no-log']);
    expect(locked.out.split('\n')).toContain('data races (KCSAN): none');
    const plain = await cliInProcess(['run', 'default', '--no-log']);
    expect(plain.out).not.toContain('KCSAN');
  });
});
