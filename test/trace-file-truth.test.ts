import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KernelVersion } from '../src/kernel/index.ts';
import { SimBackend } from '../src/session/sim-backend.ts';
import { openRead } from '../src/shell/io.ts';
import { ShellSession } from '../src/shell/session.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { breakpointIsNmi, traceHeader, traceLayout } from '../src/tracefs/trace-layout.ts';
import { TraceView } from '../src/views/trace.ts';
import { cliInProcess } from './cli-in-process.ts';
import { ofType, trace } from './helpers.ts';

// Issue 9 §3: `trace` shows what the kernel's trace file holds, in the layout of the run's
// release (spec R154; kernel/trace/trace.c print_func_help_header_irq, trace_print_context).

const T = '/sys/kernel/tracing';

/** The header seed 003 shows (arm64, v5.10): four flag columns, 7-digit pids. */
const SEED_003_HEADER = [
  '# tracer: nop',
  '#',
  '# entries-in-buffer/entries-written: 4/4   #P:1',
  '#',
  '#                                _-----=> irqs-off',
  '#                               / _----=> need-resched',
  '#                              | / _---=> hardirq/softirq',
  '#                              || / _--=> preempt-depth',
  '#                              ||| /     delay',
  '#           TASK-PID     CPU#  ||||   TIMESTAMP  FUNCTION',
  '#              | |         |   ||||      |         |',
  '',
].join('\n');

function shellTrace(kernel: KernelVersion, arch: 'x86_64' | 'arm64') {
  const backend = new SimBackend({ cpus: 1, seed: 1, kernel, arch });
  const sh = new ShellSession(backend, { cwd: T });
  // `_do_fork` was renamed kernel_clone in v5.10.
  const fork = kernel === '4.14' ? '_do_fork' : 'kernel_clone';
  sh.runScript(`echo 'p:myprobe ${fork}' > kprobe_events\necho 1 > events/kprobes/myprobe/enable\nrun ls`);
  sh.tracing.pull();
  const o = openRead(sh.vfs, sh.tracing, T, 'trace');
  if (!o.ok || 'dir' in o) throw new Error('trace');
  const r = o.ops.read();
  return r.ok ? r.data : '';
}

describe('the trace header and flags follow the release and arch (R154)', () => {
  it("v5.10 prints seed 003's four-column header, byte for byte", () => {
    expect(traceHeader(traceLayout('5.10'), 4, 4, 1)).toBe(SEED_003_HEADER);
  });

  it('v4.14: four columns and 5-digit pids (TASK-PID   CPU#); v6.17: five columns, irqs-off/BH-disabled, migrate-disable', () => {
    const old = traceHeader(traceLayout('4.14'), 0, 0, 2).split('\n');
    expect(old[4]).toBe('#                              _-----=> irqs-off');
    expect(old[9]).toBe('#           TASK-PID   CPU#  ||||    TIMESTAMP  FUNCTION');
    expect(old[10]).toBe('#              | |       |   ||||       |         |');
    const now = traceHeader(traceLayout('6.17'), 0, 0, 2).split('\n');
    expect(now[4]).toBe('#                                _-----=> irqs-off/BH-disabled');
    expect(now[8]).toBe('#                              ||| / _-=> migrate-disable');
    expect(now[10]).toBe('#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION');
  });

  it('the NMI flag Z only where the release and arch take the breakpoint as an NMI (x86 since v5.8, arm64 since v5.11)', () => {
    expect(breakpointIsNmi('x86_64', '4.14')).toBe(false);
    expect(breakpointIsNmi('x86_64', '5.10')).toBe(true);
    expect(breakpointIsNmi('arm64', '5.10')).toBe(false);
    expect(breakpointIsNmi('arm64', '6.17')).toBe(true);
  });

  const cases: [KernelVersion, 'x86_64' | 'arm64', RegExp][] = [
    // Seed 003's line: `sh-572     [000] d...   115.764845: myprobe: (kernel_clone+0x0/0x450)`.
    ['5.10', 'arm64', /^ {14}sh-572 {5}\[000\] d\.\.\. +\d+\.\d{6}: myprobe: \(kernel_clone\+0x0\/0x[0-9a-f]+\)$/],
    ['5.10', 'x86_64', /^ {14}sh-572 {5}\[000\] d\.Z\. +\d+\.\d{6}: myprobe: \(kernel_clone\+0x0\//],
    ['4.14', 'x86_64', /^ {14}sh-572 {3}\[000\] d\.\.\. +\d+\.\d{6}: myprobe: \(_do_fork\+0x0\//],
    ['6.17', 'x86_64', /^ {14}sh-572 {5}\[000\] d\.Z\.\. +\d+\.\d{6}: myprobe: \(kernel_clone\+0x0\//],
    ['6.17', 'arm64', /^ {14}sh-572 {5}\[000\] d\.Z\.\. +\d+\.\d{6}: myprobe: \(kernel_clone\+0x0\//],
  ];
  for (const [kernel, arch, line] of cases) {
    it(`a shell session on ${kernel} ${arch}: the release's header over records in its columns`, () => {
      const text = shellTrace(kernel, arch);
      expect(text.startsWith(traceHeader(traceLayout(kernel), 1, 1, 1))).toBe(true);
      const records = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
      expect(records).toHaveLength(1);
      expect(records[0]).toMatch(line);
    });
  }
});

describe('%p is hashed only from v4.15', () => {
  it('v4.14 prints the raw pointer for {addr} (%p); v6.17 a hash', () => {
    const run = (kernel: KernelVersion) =>
      trace(validateScenario({ name: 'p', cpus: 1, kernel, probes: [{ name: 'kp', symbol: 'vfs_read' }], tasks: [{ comm: 'insmod', program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'printk', text: '{addr:kp} {raw_addr:kp}' }] }] }));
    const [oldP, oldRaw] = ofType(run('4.14').events, 'printk')[0]!.text.split(' ');
    expect(oldP).toBe(oldRaw);
    const [newP, newRaw] = ofType(run('6.17').events, 'printk')[0]!.text.split(' ');
    expect(newP).not.toBe(newRaw);
  });
});

describe('trace of a module-only run (§3): the kernel file is empty; stderr says where the probes show', () => {
  it('kprobesim trace of the default run prints only the header (0/0), no record of kp', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kprobesim-trace-'));
    const log = join(dir, 'default.jsonl');
    expect((await cliInProcess(['run', 'default', '--log', log])).code).toBe(0);
    const r = await cliInProcess(['trace', log]);
    expect(r.code).toBe(0);
    // register_kprobe() from a module creates no trace event: the file is the header alone.
    expect(r.out).toBe(traceHeader(traceLayout('6.17'), 0, 0, 4));
    expect(r.out).not.toContain('kp: (kernel_clone');
    expect(r.err).toContain('registered by module code (register_kprobe), which creates no trace event');
    expect(r.err).toContain('--dmesg');
    expect(r.err).toContain(`kprobesim why ${log}`);
  });

  it("the view uses the run's release: do-fork-4.14's trace has the v4.14 header", () => {
    const s = validateScenario({ name: 'x', cpus: 2, kernel: '4.14', probes: [], tasks: [] });
    expect(new TraceView(s).text()).toBe(traceHeader(traceLayout('4.14'), 0, 0, 2));
    expect(new TraceView(s).note(null)).toBeNull();
  });
});
