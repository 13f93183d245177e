import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { traceHeader, traceLayout } from '../src/tracefs/trace-layout.ts';
import { cliInProcess } from './cli-in-process.ts';

// Issue 9 §4, the run and views output: say each thing once, count in English, name what the
// options changed, `trace --at`, and `why` of every probe.

const dir = mkdtempSync(join(tmpdir(), 'kprobesim-output-'));

describe('run output', () => {
  it('--dmesg prints the kernel log once: the summary does not abridge it as well', async () => {
    const r = await cliInProcess(['run', 'default', '--no-log', '--dmesg']);
    expect(r.code).toBe(0);
    // The module prints "Planted kprobe at …" once (kprobe_init): so must the output.
    expect(r.out.match(/Planted kprobe at/g)).toHaveLength(1);
    expect(r.out).toMatch(/^dmesg: \d+ lines, printed in full below$/m);
  });

  it('one CPU is "1 CPU"', async () => {
    const r = await cliInProcess(['run', 'registration-errors', '--no-log']);
    expect(r.out).toMatch(/^seed 42, 1 CPU, kernel 6\.17/m);
    expect(r.out).not.toContain('1 CPUs');
  });

  it('--cpus 64 is named next to a description written for 4 CPUs', async () => {
    const r = await cliInProcess(['run', 'default', '--no-log', '--cpus', '64']);
    expect(r.out).toMatch(/^seed 42, 64 CPUs,/m);
    expect(r.out).toContain("run with options that change it: --cpus 64 (the scenario's: 4)");
    const same = await cliInProcess(['run', 'default', '--no-log']);
    expect(same.out).not.toContain('run with options');
  });
});

describe('trace --at SEQ', () => {
  it('a session log: the trace file as it was after that seq', async () => {
    const log = join(dir, 'session.jsonl');
    const script = "echo 'p:myprobe kernel_clone' > kprobe_events\necho 1 > events/kprobes/myprobe/enable\nrun ls\nrun ls\n";
    expect((await cliInProcess(['shell', '--cpus', '1', '--log', log], script)).code).toBe(0);
    const events = readFileSync(log, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as { seq: number; type: string; text?: string });
    const runs = events.filter((e) => e.type === 'input.line' && e.text === 'run ls');
    const records = (out: string) => out.split('\n').filter((l) => l.includes('myprobe: (kernel_clone'));
    // Before the second `run ls` was typed, its fork had not happened: one record.
    const before = await cliInProcess(['trace', log, '--at', String(runs[1]!.seq - 1)]);
    expect(before.code).toBe(0);
    expect(records(before.out)).toHaveLength(1);
    expect(before.out).toContain('# entries-in-buffer/entries-written: 1/1   #P:1');
    const end = await cliInProcess(['trace', log]);
    expect(records(end.out)).toHaveLength(2);
    const past = await cliInProcess(['trace', log, '--at', String(events.at(-1)!.seq + 1)]);
    expect(past.code).toBe(2);
    expect(past.err).toMatch(/--at: the log has events up to seq \d+; there is no seq/);
  });

  it('a scenario log: the header alone at any seq (its probes are a module\'s)', async () => {
    const log = join(dir, 'default.jsonl');
    expect((await cliInProcess(['run', 'default', '--log', log])).code).toBe(0);
    const r = await cliInProcess(['trace', log, '--at', '100']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(traceHeader(traceLayout('6.17'), 0, 0, 4));
  });
});

describe('why without --probe', () => {
  it('summarizes every probe, failed registrations with their errno', async () => {
    const log = join(dir, 'regerr.jsonl');
    expect((await cliInProcess(['run', 'registration-errors', '--log', log])).code).toBe(0);
    const r = await cliInProcess(['why', log]);
    expect(r.code).toBe(0);
    for (const name of ['blacklisted', 'mid_insn', 'padding', 'ok']) expect(r.out).toMatch(new RegExp(`^probe ${name}: `, 'm'));
    expect(r.out).toMatch(/^probe mid_insn: never registered/m);
    expect(r.out).toContain('  register_kprobe returned -EILSEQ (-84): kernel_clone+0x2/0x22 is not an instruction boundary (R26)');
    expect(r.out).toMatch(/^probe ok: 0 hits: /m);
    expect(r.out).toContain(`each in full: kprobesim why ${log} --probe NAME`);
  });
});
