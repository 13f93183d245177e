import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLog } from '../src/log/writer.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';

// The package as a user gets it: `npm pack`, then the tarball installed into a project in the
// system's temporary directory, which cannot resolve anything from this clone. There it is
// (a) imported from plain Node ESM, (b) type-checked against its shipped declarations by a
// TypeScript consumer, and (c) used in a vitest + fast-check property, as the README says.
// The consumer's other packages come from npm's cache when `npm ci` has just filled it.

const CLONE = resolve('.');

/** The README's code blocks under "## As a library", in order: what a user copies. */
function readmeLibraryBlocks(): string[] {
  const readme = readFileSync(join(CLONE, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## As a library'), readme.indexOf('\n## ', readme.indexOf('## As a library') + 1));
  return [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
}
const pinned = (name: string): string => {
  const lock = JSON.parse(spawnSync('npm', ['ls', name, '--json', '--depth=0'], { cwd: CLONE, encoding: 'utf8' }).stdout) as {
    dependencies?: Record<string, { version: string }>;
  };
  return `${name}@${lock.dependencies![name]!.version}`;
};

let work: string;
let consumer: string;
let tarball: string;
let files: string[];

function sh(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' } });
}

function ok(r: SpawnSyncReturns<string>): string {
  expect(r.error, String(r.error)).toBeUndefined();
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kprobesim-pack-'));
  const packed = JSON.parse(ok(sh('npm', ['pack', '--json', '--pack-destination', work], CLONE))) as [{ filename: string; files: { path: string }[] }];
  tarball = join(work, packed[0].filename);
  files = packed[0].files.map((f) => f.path);
  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  ok(sh('npm', ['install', '--prefer-offline', '--no-package-lock', tarball, pinned('typescript'), pinned('vitest'), pinned('@types/node')], consumer));
}, 300_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the compiled library, its declarations, the CLI, docs, examples, the JSON Schema and licence; no sources, tests or bench', () => {
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/viewer/page.js', 'bin/kprobesim.js', 'README.md', 'LICENSE', 'package.json', 'docs/events.md', 'docs/rules.md', 'schema/scenario.schema.json', 'examples/unregister-race.json']) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.startsWith('examples/'))).toBe(true);
    expect(files.filter((f) => /^(src|test|property-tests|bench|scripts)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
    expect(files.filter((f) => f.includes('tsbuildinfo'))).toEqual([]);
  });

  it('(a) imports from plain Node ESM and runs a built-in scenario to the same digest as the sources', async () => {
    const script = join(consumer, 'run.mjs');
    writeFileSync(
      script,
      [
        "import { recordRun, MemoryLog, BUILTIN_SCENARIOS } from 'kprobesim';",
        'const log = new MemoryLog();',
        "const r = await recordRun(BUILTIN_SCENARIOS.get('printk-recursion'), { seed: 7, strategy: 'random' }, log);",
        'console.log(JSON.stringify({ digest: r.digest, violations: r.violations.length, lines: log.lines.length }));',
      ].join('\n'),
    );
    const printed = JSON.parse(ok(sh(process.execPath, [script], consumer))) as { digest: string; violations: number; lines: number };
    const log = new MemoryLog();
    const here = await recordRun(BUILTIN_SCENARIOS.get('printk-recursion')!, { seed: 7, strategy: 'random' }, log);
    expect(printed).toEqual({ digest: here.digest, violations: 0, lines: log.lines.length });
  });

  it('(a) installs the kprobesim command, which runs without a TypeScript loader', () => {
    const r = sh(join(consumer, 'node_modules', '.bin', 'kprobesim'), ['run', 'unregister-race', '--no-log'], consumer);
    expect(ok(r)).toMatch(/^scenario unregister-race: /);
    expect(r.stdout).toMatch(/invariants: all hold/);
  });

  it('(b) type-checks a TypeScript consumer against the shipped declarations, which reject misuse', () => {
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] }, include: ['*.ts'] }),
    );
    writeFileSync(
      join(consumer, 'consumer.ts'),
      [
        "import { recordRun, MemoryLog, BUILTIN_SCENARIOS, validateScenario, type Scenario, type RunResult } from 'kprobesim';",
        "const scenario: Scenario = validateScenario({ name: 'mine', cpus: 2, probes: [{ name: 'kp', symbol: 'vfs_read' }], tasks: [{ comm: 'cat', program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'ksys_read' }] }] });",
        "const result: RunResult = await recordRun(scenario, { seed: 1, strategy: 'round-robin' }, new MemoryLog());",
        'const hits: number = result.state.stats["kp"]?.hits ?? 0;',
        'console.log(hits, BUILTIN_SCENARIOS.size);',
        '// Declarations that were `any` would accept these; the checker must refuse them.',
        "// @ts-expect-error: no such strategy",
        "await recordRun(scenario, { seed: 1, strategy: 'fastest' }, null);",
        '// @ts-expect-error: a digest is a string',
        'const d: number = result.digest;',
        'void d;',
        'export {};',
      ].join('\n'),
    );
    ok(sh(process.execPath, [join(consumer, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], consumer));
  });

  it("(a) runs the README's library examples as written", () => {
    const [run, callbacks] = readmeLibraryBlocks();
    writeFileSync(join(consumer, 'readme-run.mjs'), run!);
    // stats.kp_printk, then the violations: printk-recursion's handlers print through a probed
    // _printk, so its probe misses (R50) and no invariant breaks.
    const printed = ok(sh(process.execPath, ['readme-run.mjs'], consumer));
    expect(printed).toMatch(/nmissed: [1-9]/);
    expect(printed).toMatch(/\[\] sha256:[0-9a-f]{64} \d+/);
    writeFileSync(join(consumer, 'readme-callbacks.mjs'), callbacks!);
    // 300 reads through ksys_read → vfs_read, each a hit on kp.
    expect(ok(sh(process.execPath, ['readme-callbacks.mjs'], consumer))).toMatch(/hits: 300\b/);
  });

  it("(c) runs the README's vitest + fast-check property over the exported scenarioArbitrary", () => {
    const property = readmeLibraryBlocks()[2]!;
    expect(property).toMatch(/scenarioArbitrary\(\)/);
    writeFileSync(join(consumer, 'invariants.test.ts'), property);
    const out = ok(sh(process.execPath, [join(consumer, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=verbose'], consumer));
    expect(out).toMatch(/no invariant is ever violated/);
    expect(out).toMatch(/1 passed/);
  });

  it('(c) a failing property prints its counterexample as a scenario file that `kprobesim run FILE --seed S` reproduces', () => {
    // A false claim: with a probe on a function its own handler calls, nmissed stays 0 (R50
    // says each nested hit is a miss).
    writeFileSync(
      join(consumer, 'false-claim.test.ts'),
      [
        "import fc from 'fast-check';",
        "import { expect, it } from 'vitest';",
        "import { counterexampleReporter, recordRun, scenarioArbitrary, seedArbitrary } from 'kprobesim';",
        'fc.configureGlobal({ reporter: counterexampleReporter });',
        "it('nmissed is always 0', async () => {",
        '  await fc.assert(',
        '    fc.asyncProperty(scenarioArbitrary(), seedArbitrary, async (scenario, seed) => {',
        "      const r = await recordRun(scenario, { seed, strategy: 'random' }, null);",
        '      expect(Object.values(r.state.stats).every((s) => s.nmissed === 0)).toBe(true);',
        '    }),',
        '    { numRuns: 200, seed: 1 },',
        '  );',
        '});',
      ].join('\n'),
    );
    const r = sh(process.execPath, [join(consumer, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'false-claim.test.ts'], consumer);
    expect(r.status).toBe(1);
    const text = r.stdout + r.stderr;
    const m = /save this as counterexample\.json; `kprobesim run counterexample\.json --seed (\d+)` reproduces it:\n(\{[\s\S]*?\n\})/.exec(text);
    expect(m, text).not.toBeNull();
    writeFileSync(join(consumer, 'counterexample.json'), m![2]!);
    const rerun = sh(join(consumer, 'node_modules', '.bin', 'kprobesim'), ['run', 'counterexample.json', '--seed', m![1]!, '--no-log'], consumer);
    expect(rerun.status, rerun.stderr).toBe(0);
    // The reproduced run misses too: some probe's NMISSED column is not 0.
    const rows = rerun.stdout.slice(rerun.stdout.indexOf('probes:')).split('\n').slice(2).filter((l) => /^\s+\S+\s+\S+\s+\d+\s+\d+/.test(l));
    expect(rows.some((l) => Number(l.trim().split(/\s+/)[3]) > 0), rerun.stdout).toBe(true);
  });
});
