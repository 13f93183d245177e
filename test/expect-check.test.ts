import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.ts';
import { compileExpr } from '../src/expect/compile.ts';
import { CPU, PROBE, ROOTS } from '../src/expect/env.ts';
import type { Expectation, Scenario } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { initialState } from '../src/model/initial.ts';

// The type check of expect expressions (docs/expect.md): every name, field, probe name and operand
// type is checked against the state's shape before the run, and each error names its place as
// scenario.expect[I].MODE:LINE:COLUMN.

const base = {
  name: 'expect-check',
  cpus: 2,
  probes: [
    { name: 'kp', symbol: 'vfs_read' },
    { name: 'rp', symbol: 'kernel_clone', kind: 'kretprobe' },
  ],
  tasks: [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'vfs_read' }] }],
};

/** The message validation gives for a scenario with these expectations (one line per error). */
function refusal(...expect: Expectation[]): string {
  try {
    validateScenario({ ...base, expect });
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
  return 'accepted';
}

const ok = (text: string) => refusal({ always: 'true' }, { always: text });
const bad = (text: string) => ok(text).replace(/^scenario\.expect\[1\]\.always:/, '');

describe('expect expressions are type-checked before the run', () => {
  it('an unknown field names its place and what exists (the issue\'s example)', () => {
    expect(refusal({ always: 'true' }, { always: 'count(c in cpus: probes.kp.hitz > 0) > 0' })).toBe(
      'scenario.expect[1].always:1:28: unknown field "hitz" of a probe (expected one of ' + Object.keys(PROBE.fields).join(', ') + '; did you mean "hits"?)',
    );
    // Line and column count from the expression's own text, across lines too.
    expect(refusal({ at_end: 'probes.kp.hits > 0 &&\n  probes.kp.nmised == 0' })).toBe(
      'scenario.expect[0].at_end:2:13: unknown field "nmised" of a probe (expected one of ' + Object.keys(PROBE.fields).join(', ') + '; did you mean "nmissed"?)',
    );
  });

  it('names: the state\'s roots, the bound names of count/all/any/sum, and nothing else', () => {
    expect(bad('cpu.id == 0')).toBe(`1:1: unknown name "cpu" (expected one of ${Object.keys(ROOTS).join(', ')}; did you mean "cpus"?)`);
    expect(bad('count(c in cpus: d.id == 0) > 0')).toMatch(/^1:18: unknown name "d" \(expected one of .*, c\)$/);
    expect(bad('all == 1')).toMatch(/^1:1: unknown name "all" \(all is a function: all\(x in LIST: …\)\)/);
    expect(bad('avg(c in cpus: c.id) > 0')).toBe('1:1: unknown function "avg" (expected one of count, all, any, sum)');
  });

  it('probes.NAME and pools.NAME must name a probe (a kretprobe) of the scenario', () => {
    expect(ok('probes.kp.hits >= 0 && probes["rp"].hits >= 0 && pools.rp.free >= 0')).toBe('accepted');
    expect(bad('probes.kq.hits > 0')).toBe('1:8: no probe named "kq" in scenario.probes (expected one of kp, rp; did you mean "kp"?)');
    expect(bad('pools.kp.free > 0')).toBe('1:7: probe "kp" is not a kretprobe (kretprobes: rp)');
    expect(bad('pools.rq.free > 0')).toBe('1:7: no kretprobe named "rq" in scenario.probes (expected one of rp; did you mean "rp"?)');
    expect(bad('cpus.id == 0')).toBe('1:6: a list of CPUs has no field "id" (use count(x in LIST: …), all(…), any(…) or sum(…))');
  });

  it('operand types: bool for && || => !, int for arithmetic and order, like for like in == and !=', () => {
    expect(bad('probes.kp.hits && true')).toBe('1:1: "&&" needs a bool, not int');
    expect(bad('probes.kp.hits + probes.kp.registered > 0')).toBe('1:18: "+" needs an int, not bool');
    expect(bad('probes.kp.addr > 0')).toBe('1:1: ">" needs an int, not string or null');
    expect(bad('probes.kp.name == 1')).toBe('1:16: cannot compare string with int');
    expect(bad('probes.kp.hits == null')).toBe('1:16: int is never null');
    expect(ok('probes.kp.addr != null && count(c in cpus: c.handler == "kp") <= 1')).toBe('accepted');
    expect(bad('!probes.kp.hits')).toBe('1:2: "!" needs a bool, not int');
    expect(bad('probes.kp == probes.rp')).toBe('1:1: "==" compares ints, bools or strings, not a probe');
  });

  it('a string compared with a field of known values must be one of them', () => {
    expect(bad('all(c in cpus: c.status != "KPROBE_HIT_ACTIV")')).toBe(
      '1:28: "KPROBE_HIT_ACTIV" is not a kprobe status (expected one of "idle", "KPROBE_HIT_ACTIVE", "KPROBE_HIT_SS", "KPROBE_HIT_SSDONE", "KPROBE_REENTER")',
    );
    expect(bad('"registerd" == probes.kp.state')).toMatch(/^1:1: "registerd" is not a probe state/);
  });

  it('the whole condition, and the condition of count/all/any, must be a bool; sum adds ints', () => {
    expect(bad('probes.kp.hits')).toBe('1:1: a condition must be a bool, not int');
    expect(bad('count(c in cpus: c.id) > 0')).toBe('1:18: count()\'s condition must be a bool, not int');
    expect(bad('sum(c in cpus: c.halted) > 0')).toBe('1:16: sum()\'s body needs an int, not bool');
    expect(bad('all(cpus)')).toBe('1:1: all() needs a name and a condition: all(x in cpus: …)');
    expect(bad('count(t) > 0')).toBe('1:7: count() goes over a list (cpus, tasks, probes, pools), not int');
  });

  it('a syntax error names its place too', () => {
    expect(bad('probes.kp.hits >')).toBe('1:17: expected "!", "(", "-", "false", "null", "true", a name, a string, or an integer, found the end');
  });

  it('every error of a scenario is reported, one line each', () => {
    expect(refusal({ always: 'cpu' }, { at_end: 'probes.kp.hits' }).split('\n')).toEqual([
      expect.stringMatching(/^scenario\.expect\[0\]\.always:1:1: unknown name "cpu"/),
      'scenario.expect[1].at_end:1:1: a condition must be a bool, not int',
    ]);
  });

  it('"always" or "at_end", one of them, with an optional "name"', () => {
    expect(refusal({ always: 'true', name: 'trivially' })).toBe('accepted');
    expect(refusal({ alway: 'true' } as unknown as Expectation)).toBe('scenario.expect[0]: give "always" or "at_end" (a condition), and optionally "name"');
    expect(refusal({ always: 'true', at_end: 'true' } as unknown as Expectation)).toBe('scenario.expect[0]: give "always" or "at_end" (a condition), and optionally "name"');
  });

  it('every documented field reads a value of its declared type from a state', () => {
    const scenario = validateScenario({ ...base }) as Scenario;
    const s = initialState(scenario);
    for (const [name, f] of Object.entries(CPU.fields)) {
      const v = (f.get as (c: unknown, st: unknown) => unknown)(s.cpus[0], s);
      const t = f.type;
      const want = t.kind === 'int' ? 'number' : t.kind === 'bool' ? 'boolean' : 'string';
      expect(v === null ? 'nullable' in t && t.nullable : typeof v === want, name).toBe(true);
    }
    // A compiled condition evaluates on a state without a run.
    const c = compileExpr('count(c in cpus: c.status == "idle") == 2 && probes.kp.hits == 0 && !probes.kp.registered', scenario);
    expect(c.holds(s)).toBe(true);
  });
});
