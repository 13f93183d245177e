import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.ts';
import { MemoryLog } from '../src/log/writer.ts';
import { recordRun } from '../src/run/record.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { cliInProcess } from './cli-in-process.ts';

// Issue 9 §2: names a user chooses (probe, module and function names, symbols, options) are
// looked up in tables. Object.prototype's members ("constructor", "__proto__", "toString"…)
// must be names like any other: unknown where unknown, and a run with them behaves exactly as
// the same run with ordinary names.

const PROTO_NAMES = ['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf'];
const dir = mkdtempSync(join(tmpdir(), 'kprobesim-names-'));

function placeOf(raw: unknown): string {
  try {
    validateScenario(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).message;
  }
  throw new Error('expected the scenario to be refused');
}

describe('names that are Object.prototype members', () => {
  it.each(PROTO_NAMES)('a probe on symbol %s is an unknown symbol (R21: -ENOENT), not a TypeError', (name) => {
    const raw = { name: 'x', cpus: 1, probes: [{ name: 'kp', symbol: name }], tasks: [{ comm: 'sh', program: [] }] };
    expect(placeOf(raw)).toMatch(new RegExp(`^scenario\\.probes\\[0\\]\\.symbol: unknown symbol "${name}"`));
  });

  it.each(PROTO_NAMES)('a task calling %s, or registering / loading what is not defined under that name, is refused at its field', (name) => {
    const task = (program: unknown[]) => ({ name: 'x', cpus: 1, probes: [{ name: 'kp', symbol: 'kernel_clone' }], tasks: [{ comm: 'sh', program }] });
    expect(placeOf(task([{ op: 'call', fn: name }]))).toMatch(/^scenario\.tasks\[0\]\.program\[0\]\.fn: unknown symbol/);
    expect(placeOf(task([{ op: 'register_kprobe', probe: name }]))).toMatch(/^scenario\.tasks\[0\]\.program\[0\]\.probe: no probe named/);
    expect(placeOf(task([{ op: 'insmod', module: name }]))).toMatch(/^scenario\.tasks\[0\]\.program\[0\]\.module: no module named/);
    expect(placeOf(task([{ op: 'fork', comm: 'child', program: [{ op: 'call', fn: `${name}:${name}` }] }]))).toMatch(/^scenario\.tasks\[0\]\.program\[0\]\.program\[0\]\.fn: unknown symbol/);
  });

  // The same scenario twice: once with ordinary names, once with Object.prototype's. Each
  // ordinary name has the length of the name it stands for, so even the header's run id (a
  // function of the scenario's length) agrees; the logs must then differ only in the names and
  // in log.end's digest (the folded state's keys sort differently).
  const RENAME: [string, string][] = [
    ['probe_aaa', '__proto__'],
    ['probe_bbbbb', 'constructor'],
    ['probe_cccccccc', 'hasOwnProperty'],
    ['probe_dd', 'toString'],
    ['module_eeee', 'constructor'],
    ['fn_fffff', 'toString'],
  ];
  const template = JSON.stringify({
    name: 'names',
    description: 'probes and a module named like Object.prototype members',
    cpus: 2,
    max_steps: 20_000,
    modules: [{ name: 'module_eeee', functions: [{ name: 'fn_fffff', calls: ['kfree'], ret: 7 }] }],
    probes: [
      { name: 'probe_aaa', symbol: 'kernel_clone', pre: [{ do: 'print', text: 'nmissed {nmissed:probe_aaa}' }] },
      { name: 'probe_bbbbb', symbol: 'kernel_clone', kind: 'kretprobe', maxactive: 1, handler: [{ do: 'print', text: 'returned {retval}' }] },
      { name: 'probe_cccccccc', symbol: 'module_eeee:fn_fffff' },
      { name: 'probe_dd', symbol: 'vfs_read' },
    ],
    tasks: [
      {
        comm: 'insmod',
        program: [
          { op: 'insmod', module: 'module_eeee' },
          { op: 'register_kprobe', probe: 'probe_aaa' },
          { op: 'register_kprobe', probe: 'probe_bbbbb' },
          { op: 'register_kprobe', probe: 'probe_cccccccc' },
          { op: 'call', fn: 'module_eeee:fn_fffff' },
          { op: 'call', fn: 'kernel_clone', times: 2 },
          { op: 'disable_kprobe', probe: 'probe_aaa' },
          { op: 'enable_kprobe', probe: 'probe_aaa' },
          { op: 'rmmod', module: 'module_eeee' },
          { op: 'unregister_kprobe', probe: 'probe_aaa' },
          { op: 'unregister_kprobe', probe: 'probe_bbbbb' },
          { op: 'unregister_kprobe', probe: 'probe_cccccccc' },
        ],
      },
      { comm: 'sh', program: [{ op: 'call', fn: 'kernel_clone', times: 3 }] },
    ],
  });
  const renamed = RENAME.reduce((text, [from, to]) => text.replaceAll(from, to), template);
  const withoutDigest = (text: string) => text.replace(/"digest":"sha256:[0-9a-f]{64}"/, '"digest":…');

  it('a run with those names (modules R95, kretprobes R74, aggregates R12) logs what the same run with ordinary names logs', async () => {
    const plain = new MemoryLog();
    const odd = new MemoryLog();
    const a = await recordRun(validateScenario(JSON.parse(template)), { seed: 7, strategy: 'random' }, plain);
    const b = await recordRun(validateScenario(JSON.parse(renamed)), { seed: 7, strategy: 'random' }, odd);
    expect(b.violations).toEqual([]);
    expect(b.events).toBe(a.events);
    // The module loads (no "module.exists": no module named constructor was loaded before it).
    expect(odd.text()).toContain('"type":"module.live"');
    expect(withoutDigest(odd.text())).toBe(withoutDigest(RENAME.reduce((text, [from, to]) => text.replaceAll(from, to), plain.text())));
  });

  it('replay, why and state read such a log; why --probe with an unknown prototype name is bad input naming --probe', async () => {
    const file = join(dir, 'names.json');
    const log = join(dir, 'names.jsonl');
    writeFileSync(file, renamed);
    expect(await cliInProcess(['run', file, '--log', log])).toMatchObject({ code: 0 });
    expect((await cliInProcess(['replay', log])).out).toMatch(/^identical: /);
    const why = await cliInProcess(['why', log, '--probe', '__proto__']);
    expect(why).toMatchObject({ code: 0 });
    expect(why.out).toMatch(/^probe __proto__: 4 hits/);
    for (const name of ['valueOf', 'isPrototypeOf', '__defineGetter__']) {
      const r = await cliInProcess(['why', log, '--probe', name]);
      expect(r.code).toBe(2);
      expect(r.err).toBe(`kprobesim: --probe: no probe named "${name}" in this log (known: __proto__, constructor, hasOwnProperty, toString)\n`);
    }
    const state = JSON.parse((await cliInProcess(['state', log])).out) as { stats: Record<string, { hits: number }> };
    expect(Object.keys(state.stats)).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
  });

  it('--config constructor is bad input naming --config', async () => {
    const r = await cliInProcess(['run', 'default', '--no-log', '--config', 'constructor']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^kprobesim: --config: "constructor" is not a build option/);
    const s = await cliInProcess(['shell', '--config', 'constructor'], '');
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/--config: "constructor" is not a build option/);
  });
});
