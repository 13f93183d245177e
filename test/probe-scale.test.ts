import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coldPoints, probeScaleScenario } from '../bench/probe-scale.ts';
import { symbolsFor } from '../src/kernel/index.ts';
import { canonicalJson } from '../src/model/digest.ts';
import { recDelete, recEntries, recGet, recSet, SMALL } from '../src/model/fold/record.ts';
import { recordRun } from '../src/run/record.ts';
import type { ProbeSpec, Scenario, TaskOp } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';

// Runs with thousands of probes (issue 10 §4). The fold keeps its large keyed records (probes,
// stats, the probe table, kretprobe pools) as persistent tries seen as plain objects
// (src/model/fold/record.ts): these tests check that such a record reads exactly as the plain
// object it stands for, that runs past the size where records switch keep their logs and digests
// byte for byte, and that 10,000 probes register and hit.

type Op = { readonly del: boolean; readonly key: string; readonly value: number };

// Names as users choose them, Object.prototype's among them, and array-index keys (which a plain
// object lists first, ascending).
const keyArb = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', '1', '7', '42', '4294967294', '4294967295', '01', '-1'),
  fc.integer({ min: 0, max: 300 }).map((i) => `k${i}`),
  fc.integer({ min: 0, max: 40 }).map(String),
);
const opArb: fc.Arbitrary<Op> = fc.record({ del: fc.integer({ min: 0, max: 3 }).map((n) => n === 0), key: keyArb, value: fc.integer() });

describe('keyed records (src/model/fold/record.ts)', () => {
  it('read as the plain object built by the same updates, past the size where they become tries', () => {
    let large = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 0, maxLength: 400, size: 'max' }), (ops) => {
        let rec: Readonly<Record<string, number>> = {};
        let plain: Record<string, number> = {};
        const kept: [Readonly<Record<string, number>>, string][] = [];
        for (const op of ops) {
          if (op.del) {
            rec = recDelete(rec, op.key);
            plain = { ...plain };
            delete plain[op.key];
          } else {
            rec = recSet(rec, op.key, op.value);
            plain = { ...plain, [op.key]: op.value };
          }
          // Earlier versions stay as they were.
          if (kept.length < 8 || op.value % 17 === 0) kept.push([rec, JSON.stringify(plain)]);
        }
        expect(Object.keys(rec)).toEqual(Object.keys(plain));
        expect(JSON.stringify(rec)).toBe(JSON.stringify(plain));
        expect(canonicalJson(rec)).toBe(canonicalJson(plain));
        expect(recEntries(rec)).toEqual(Object.entries(plain));
        expect(rec).toEqual(plain);
        expect({ ...rec }).toEqual({ ...plain });
        for (const k of ['__proto__', 'constructor', 'toString', 'k1', '0', '42', 'absent']) {
          expect(Object.hasOwn(rec, k)).toBe(Object.hasOwn(plain, k));
          expect(recGet(rec, k)).toBe(Object.hasOwn(plain, k) ? plain[k] : undefined);
          if (k !== '__proto__') expect(rec[k]).toBe(plain[k]);
          expect(k in rec).toBe(k in plain);
        }
        for (const [old, json] of kept) expect(JSON.stringify(old)).toBe(json);
        if (Object.keys(plain).length > SMALL) large++;
      }),
      { numRuns: 200 },
    );
    expect(large).toBeGreaterThan(50);
  });

  it(`a record past ${SMALL} keys is read-only, prints as its keys and values, and is a plain Object`, () => {
    let rec: Readonly<Record<string, number>> = {};
    for (let i = 0; i <= SMALL; i++) rec = recSet(rec, `p${i}`, i);
    expect(Object.prototype.toString.call(rec)).toBe('[object Object]');
    expect(Object.getPrototypeOf(rec)).toBe(Object.prototype);
    expect(() => {
      (rec as Record<string, number>).p0 = 5;
    }).toThrow(TypeError);
    expect(rec.p0).toBe(0);
    expect(inspect(rec, { maxArrayLength: 2, breakLength: Infinity })).toContain(`p${SMALL}: ${SMALL}`);
  });
});

// Scenarios past SMALL probes, their logs' and final states' fingerprints taken with the fold as it
// was before the tries (plain objects copied on every update): they must not move.
function mixedScaleScenario(): Scenario {
  const cold = coldPoints();
  const probes: ProbeSpec[] = [
    { name: 'hot', symbol: 'vfs_read', pre: [{ do: 'print', text: 'hot {comm} nmissed={nmissed}' }], post: [{ do: 'spin', steps: 2 }] },
    { name: 'bad', symbol: 'get_kprobe' },
  ];
  const p = Array.from({ length: 150 }, (_, i) => `p${i}`);
  const q = Array.from({ length: 150 }, (_, i) => `q${i}`);
  p.forEach((name, i) => probes.push({ name, addr: cold[i % cold.length]! }));
  q.forEach((name, i) => probes.push({ name, addr: cold[(i * 7 + 100) % cold.length]!, ...(i % 5 === 0 ? { disabled: true } : {}) }));
  const r = Array.from({ length: 8 }, (_, i) => `r${i}`);
  r.forEach((name, i) => probes.push({ name, kind: 'kretprobe', symbol: i < 4 ? 'vfs_read' : 'kernel_clone', maxactive: 1 + (i % 3), handler: [{ do: 'print', text: '{comm} ret={retval}' }] }));
  const w = Array.from({ length: 20 }, (_, i) => `w${i}`);
  w.forEach((name, i) => probes.push({ name, symbol: i % 2 ? 'copy_process' : 'do_sys_openat2', offset: [0, 1, 4, 8][i % 4]! }));
  const a: TaskOp[] = [
    { op: 'register_kprobes', probes: p.slice(0, 75) },
    { op: 'register_kprobes', probes: p.slice(75) },
    ...q.map((name): TaskOp => ({ op: 'register_kprobe', probe: name })),
    { op: 'register_kprobe', probe: 'bad' },
    { op: 'register_kprobe', probe: 'p3' },
    { op: 'register_kprobe', probe: 'hot' },
    ...r.map((name): TaskOp => ({ op: 'register_kprobe', probe: name })),
    ...w.map((name): TaskOp => ({ op: 'register_kprobe', probe: name })),
    { op: 'call', fn: 'ksys_read', times: 20 },
    { op: 'call', fn: 'kernel_clone', times: 5 },
    ...w.slice(0, 6).map((name): TaskOp => ({ op: 'disable_kprobe', probe: name })),
    { op: 'call', fn: 'do_sys_openat2', times: 5 },
    ...q.slice(0, 10).map((name): TaskOp => ({ op: 'enable_kprobe', probe: name })),
    { op: 'unregister_kprobes', probes: q.slice(0, 100) },
    { op: 'unregister_kprobe', probe: 'hot' },
    { op: 'unregister_kprobe', probe: 'r1' },
    { op: 'call', fn: 'ksys_read', times: 5 },
  ];
  const b: TaskOp[] = [
    { op: 'call', fn: 'vfs_read', times: 30 },
    { op: 'call', fn: 'kernel_clone', times: 10 },
    { op: 'call', fn: 'do_sys_openat2', times: 10 },
    { op: 'call', fn: 'vfs_read', times: 30 },
  ];
  return validateScenario({
    name: 'mixed-scale',
    cpus: 2,
    max_steps: 1_000_000,
    probes,
    tasks: [
      { comm: 'insmod', cpu: 0, program: a },
      { comm: 'reader', cpu: 1, program: b },
    ],
  });
}

/** Optimized probes (§11) on neighbouring instructions: jumps covering armed probes, queued, patched, unoptimized. */
function optScaleScenario(): Scenario {
  const syms = symbolsFor('6.17');
  const probes: ProbeSpec[] = [];
  let i = 0;
  for (const fname of ['kernel_clone', 'copy_process', 'do_sys_openat2', 'do_filp_open', 'ksys_read', 'vfs_read', 'dput', 'kfree', 'vfs_write', 'ksys_write']) {
    const f = syms.lookup(fname)!;
    if (f.kind !== 'func') continue;
    for (const [n, insn] of f.body.entries()) {
      if (fname !== 'kernel_clone' && n % 3 !== 0) continue;
      for (let j = 0; j < (n % 2) + 1; j++) {
        probes.push({
          name: `o${i++}`,
          addr: `0x${(f.addr + BigInt(insn.off)).toString(16)}`,
          ...(i % 9 === 0 ? { post: [{ do: 'spin', steps: 1 }] } : {}),
          ...(i % 11 === 0 ? { disabled: true } : {}),
        });
      }
    }
  }
  const names = probes.map((p) => p.name);
  const a: TaskOp[] = [
    { op: 'register_kprobes', probes: names.slice(0, 120) },
    ...names.slice(120).map((probe): TaskOp => ({ op: 'register_kprobe', probe })),
    { op: 'sleep', ticks: 6000 },
    { op: 'call', fn: 'kernel_clone', times: 3 },
    ...names.filter((_, j) => j % 7 === 3).map((probe): TaskOp => ({ op: 'disable_kprobe', probe })),
    { op: 'call', fn: 'ksys_read', times: 3 },
    ...names.filter((_, j) => j % 11 === 10).map((probe): TaskOp => ({ op: 'enable_kprobe', probe })),
    { op: 'unregister_kprobes', probes: names.filter((_, j) => j % 3 === 0) },
    { op: 'sleep', ticks: 6000 },
    { op: 'call', fn: 'do_sys_openat2', times: 3 },
    { op: 'kprobes_enabled', value: false },
    { op: 'kprobes_enabled', value: true },
    { op: 'sleep', ticks: 6000 },
    { op: 'call', fn: 'vfs_write', times: 3 },
  ];
  const b: TaskOp[] = [
    { op: 'call', fn: 'kernel_clone', times: 10 },
    { op: 'call', fn: 'ksys_read', times: 10 },
    { op: 'sleep', ticks: 8000 },
    { op: 'call', fn: 'do_sys_openat2', times: 10 },
  ];
  return validateScenario({
    name: 'opt-scale',
    cpus: 2,
    max_steps: 1_000_000,
    config: { optprobes: true },
    probes,
    tasks: [
      { comm: 'insmod', cpu: 0, program: a },
      { comm: 'sh', cpu: 1, program: b },
    ],
  });
}

/**
 * The run's counts, digest and log hash, and the hash of its log without the decision labels
 * (sched.pick's `label`, added to logs after these hashes were first pinned): that one must not
 * have moved, so a label change and any other change to the bytes are told apart.
 */
async function fingerprint(s: Scenario): Promise<{ events: number; digest: string; log: string; unlabelled: string; violations: number }> {
  const h = createHash('sha256');
  const bare = createHash('sha256');
  const sink = {
    writeLine(line: string): boolean {
      h.update(`${line}\n`);
      bare.update(`${line.startsWith('{"seq":') && line.includes('"type":"sched.pick"') ? line.replace(/,"label":"(?:[^"\\]|\\.)*"/, '') : line}\n`);
      return true;
    },
    async drain(): Promise<void> {},
  };
  const r = await recordRun(s, { seed: 1, strategy: 'random' }, sink);
  return { events: r.events, digest: r.digest, log: h.digest('hex'), unlabelled: bare.digest('hex'), violations: r.violations.length };
}

describe('runs with hundreds of probes keep their bytes (INV-determinism)', () => {
  it('batches, aggregates, kretprobes, disable/enable, unregister batches, refusals: 310 probes', async () => {
    expect(await fingerprint(mixedScaleScenario())).toEqual({
      events: 54957,
      digest: 'sha256:d421b12b2e2730936169278cf702873bb04e560e4d929c4587260d33667d1a11',
      log: '52f3f8c6038c3f61bd3f6f64f1774e3cfa439147f455b33d97dd62817e1b5e25',
      unlabelled: '88bca36a48227cb6c734436fa56fb9e3839e9e9bbe7ea386209d79ef24c0a972',
      violations: 0,
    });
  });

  it('69 optimized probes on neighbouring instructions (§11): queued, patched, covered, unoptimized', async () => {
    expect(await fingerprint(optScaleScenario())).toEqual({
      events: 10356,
      digest: 'sha256:c847d145c4ad144bd9c78bb6620448070b5bd2b5542a7c92cfd1a602f5edcd86',
      log: '5c61aaec63bfdc5a8a5317700074b0db83035850d6ccae5c161125dbcff5c993',
      unlabelled: 'd168c72eda01b169ac2c16555dc05fda8fba6e2401dd4cb83bce9546e118074e',
      violations: 0,
    });
  });

  it('300 probes registered in batches of 64, one of them hit 50 times', async () => {
    expect(await fingerprint(probeScaleScenario(300, 50, 64))).toEqual({
      events: 6583,
      digest: 'sha256:c0dce552c01c87efcca152c05a7cc8d4fddc0f55aeb8580479967db6d896b5cf',
      log: 'aed36504138cde19b20c3bcce42da24383cfc8cca95161adf822277d034bb4da',
      unlabelled: '16752b1a08e9f260f5e56ce83e925f8ad80f2f9d9bc2c4e82c00e44ba0b39f45',
      violations: 0,
    });
  });
});

describe('10,000 probes', () => {
  it('register (in batches of 2,500) and the one on vfs_read is hit on every call; the rest wait, aggregated', async () => {
    const s = probeScaleScenario(10_000, 20, 2_500);
    const r = await recordRun(s, { seed: 1, strategy: 'random' }, null);
    expect(r.endReason).toBe('done');
    expect(r.violations).toEqual([]);
    const probes = Object.values(r.state.kprobes.probes);
    expect(probes).toHaveLength(10_000);
    expect(probes.every((p) => p.state === 'registered')).toBe(true);
    expect(r.state.stats.hot).toMatchObject({ hits: 20, handled: 20, pre_calls: 20, nmissed: 0 });
    expect(r.state.stats.p9999).toMatchObject({ hits: 0 });
    // Every cold point holds a probe; the image has fewer than 10,000, so most are aggregators.
    const table = Object.values(r.state.kprobes.table);
    expect(table).toHaveLength(coldPoints().length + 1);
    expect(table.reduce((n, point) => n + point.probes.length, 0)).toBe(10_000);
  });
});
