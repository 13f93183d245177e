import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.ts';
import { parseScenarioText } from '../src/scenario/load.ts';
import { validateScenario } from '../src/scenario/validate.ts';

// Scenario files are user input: every mistake gets the field path and what was expected.

const ok = {
  name: 'x',
  cpus: 2,
  probes: [{ name: 'kp', symbol: 'kernel_clone', pre: [{ do: 'print', text: '<{symbol}> at {addr}' }] }],
  tasks: [{ comm: 'bash', program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'kernel_clone' }] }],
};

function message(raw: unknown): string {
  try {
    validateScenario(raw);
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
  return 'accepted';
}

const edit = (f: (s: any) => void) => {
  const s = structuredClone(ok) as any;
  f(s);
  return s;
};

describe('scenario validation', () => {
  it('accepts a valid scenario and fills defaults', () => {
    const s = validateScenario(ok);
    expect(s.max_steps).toBeGreaterThan(0);
    expect(s.description).toBe('');
  });

  it('names an unknown symbol with its field path and a suggestion (design.md error format)', () => {
    expect(message(edit((s) => (s.probes[0].symbol = 'kernel_clon')))).toBe(
      'scenario.probes[0].symbol: unknown symbol "kernel_clon"; did you mean "kernel_clone"?',
    );
    expect(message(edit((s) => (s.tasks[0].program[1].fn = 'zzzzzzzzzz')))).toBe('scenario.tasks[0].program[1].fn: unknown symbol "zzzzzzzzzz"');
  });

  it('reports wrong types, unknown fields and unknown kinds at their path', () => {
    expect(message(edit((s) => (s.cpus = 'four')))).toBe('scenario.cpus: expected number, received string');
    expect(message(edit((s) => (s.tasks[0].extra = 1)))).toBe('scenario.tasks[0]: unknown field "extra"');
    expect(message(edit((s) => (s.tasks[0].program[0].op = 'regster_kprobe')))).toMatch(
      /^scenario\.tasks\[0\]\.program\[0\]\.op: unknown kind "regster_kprobe" \(expected one of "call", /,
    );
    expect(message(edit((s) => (s.probes[0].pre[0] = { do: 'print' })))).toMatch(/^scenario\.probes\[0\]\.pre\[0\]\.text: /);
  });

  it('checks cross references: probe names, pinned CPUs, pids, placeholders', () => {
    expect(message(edit((s) => (s.tasks[0].program[0].probe = 'nope')))).toBe(
      'scenario.tasks[0].program[0].probe: no probe named "nope" in scenario.probes (known: kp)',
    );
    expect(message(edit((s) => (s.tasks[0].cpu = 2)))).toBe('scenario.tasks[0].cpu: cpu 2 does not exist (cpus: 2, so 0 to 1)');
    expect(message(edit((s) => s.tasks.push({ comm: 'a', pid: 7, program: [] }, { comm: 'b', pid: 7, program: [] })))).toBe(
      'scenario.tasks[2].pid: duplicate pid 7',
    );
    expect(message(edit((s) => (s.probes[0].pre[0].text = '{bogus}')))).toMatch(/^scenario\.probes\[0\]\.pre\[0\]\.text: unknown placeholder \{bogus\}/);
    expect(message(edit((s) => s.probes.push({ name: 'kp', symbol: 'vfs_read' })))).toBe('scenario.probes[1].name: duplicate probe name "kp"');
  });

  it('rejects handler steps that would make the model inconsistent, at load time', () => {
    expect(message(edit((s) => (s.probes[0].pre[0] = { do: 'call', fn: 'do_exit' })))).toMatch(/^scenario\.probes\[0\]\.pre\[0\]\.fn: do_exit cannot be called from a handler/);
    expect(message(edit((s) => (s.probes[0].pre[0] = { do: 'call', fn: 'linux_proc_banner' })))).toBe(
      'scenario.probes[0].pre[0].fn: "linux_proc_banner" is data, not a function',
    );
    expect(message(edit((s) => (s.probes[0].addr = '0xffffffff81000000')))).toBe('scenario.probes[0]: give "symbol" or "addr", not both (R21)');
  });

  it('R70: kretprobe fields belong to kretprobes, pre/post to kprobes; {retval} only in a return handler', () => {
    expect(message(edit((s) => (s.probes[0].kind = 'kretprobe')))).toBe('scenario.probes[0].pre: a kretprobe has "entry" and "handler", not "pre" (R70)');
    expect(message(edit((s) => (s.probes[0].maxactive = 3)))).toBe('scenario.probes[0].maxactive: "maxactive" belongs to a kretprobe (add "kind": "kretprobe")');
    expect(message(edit((s) => (s.probes[0].post = [{ do: 'return', value: 1 }])))).toBe(
      'scenario.probes[0].post[0].do: "return" is only for a pre-handler (R46) or a kretprobe entry_handler (R73)',
    );
    expect(
      message(edit((s) => (s.probes[0] = { name: 'rp', kind: 'kretprobe', symbol: 'kernel_clone', entry: [{ do: 'print', text: '{retval}' }] }))),
    ).toBe(
      // Every error is reported: renaming the probe also orphans the task's reference to it.
      'scenario.probes[0].entry[0].text: {retval} is only known in a kretprobe return handler\n' +
        'scenario.tasks[0].program[0].probe: no probe named "kp" in scenario.probes (known: rp)',
    );
    expect(
      message(edit((s) => (s.probes[0] = { name: 'kp', kind: 'kretprobe', symbol: 'kernel_clone', maxactive: 4097 }))),
    ).toMatch(/^scenario\.probes\[0\]\.maxactive: /);
  });

  it('reports JSON syntax errors at file:line:col', () => {
    const text = '{\n  "name": "x",\n  "cpus": 2,,\n}';
    expect(() => parseScenarioText(text, 'bad.json')).toThrow(/^bad\.json:3:13: Expected double-quoted property name/);
  });
});
