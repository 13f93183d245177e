import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MemoryLog } from '../src/log/writer.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { scenarioFileText } from '../src/scenario/format.ts';
import { parseScenarioText } from '../src/scenario/load.ts';

// `kprobesim scenarios --show NAME` prints a built-in as a scenario file that runs as the
// built-in does; examples/ holds scenario files that run.

const BIN = resolve('bin/kprobesim.js');
const dir = mkdtempSync(join(tmpdir(), 'kprobesim-show-'));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const digestOf = (out: string) => /^digest: (sha256:[0-9a-f]{64})$/m.exec(out)?.[1];

describe('scenarios --show NAME', () => {
  it('every built-in, shown as a file, reads back as the same scenario and runs to the same digest', async () => {
    for (const s of BUILTIN_SCENARIOS.values()) {
      const text = scenarioFileText(s);
      expect(JSON.parse(text).$schema).toMatch(/scenario\.schema\.json$/);
      expect(parseScenarioText(text, `${s.name}.json`)).toEqual({ ...s });
      const [a, b] = [await recordRun(s, { seed: 3, strategy: 'random' }, new MemoryLog()), await recordRun(parseScenarioText(text, 'x.json'), { seed: 3, strategy: 'random' }, new MemoryLog())];
      expect(b.digest).toBe(a.digest);
    }
  });

  it('the command prints pretty JSON with "$schema" first; run FILE --seed S gives the built-in\'s digest', () => {
    for (const name of ['unregister-race', 'optprobes']) {
      const shown = cli('scenarios', '--show', name);
      expect(shown.code).toBe(0);
      expect(shown.out).toMatch(/^\{\n  "\$schema": "[^"]+scenario\.schema\.json",\n  "name": /);
      const file = join(dir, `${name}.json`);
      writeFileSync(file, shown.out);
      const fromFile = cli('run', file, '--seed', '9', '--no-log');
      const builtin = cli('run', name, '--seed', '9', '--no-log');
      expect(fromFile.code).toBe(0);
      expect(digestOf(fromFile.out)).toBeDefined();
      expect(digestOf(fromFile.out)).toBe(digestOf(builtin.out));
    }
  });

  it('"$schema" is the shipped schema file relative to the current directory when it is below it, else its file: URL', () => {
    const here = spawnSync(process.execPath, [BIN, 'scenarios', '--show', 'default'], { cwd: resolve('.'), encoding: 'utf8' });
    expect(JSON.parse(here.stdout).$schema).toBe('schema/scenario.schema.json');
    expect(JSON.parse(cli('scenarios', '--show', 'default').out).$schema).toBe(pathToFileURL(resolve('schema/scenario.schema.json')).href);
  });

  it('an unknown NAME gets "did you mean" and exit 2', () => {
    const r = cli('scenarios', '--show', 'unregister-rase');
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toBe('kprobesim: --show: no built-in scenario "unregister-rase"; did you mean "unregister-race"?\n');
  });
});

describe('examples/', () => {
  const examples = readdirSync('examples').filter((f) => f.endsWith('.json'));

  it('has scenario files', () => {
    expect(examples).toEqual(expect.arrayContaining(['kretprobe-pool.json', 'my-probe.json', 'unregister-race.json']));
  });

  for (const file of examples) {
    it(`${file} runs (exit 0, every invariant holds)`, () => {
      const r = cli('run', resolve('examples', file), '--no-log');
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/invariants: all hold/);
    });
  }

  it('the examples taken from built-ins run as the built-ins do', async () => {
    for (const name of ['unregister-race', 'kretprobe-pool']) {
      const fromFile = parseScenarioText(readFileSync(join('examples', `${name}.json`), 'utf8'), `${name}.json`);
      expect(fromFile).toEqual({ ...BUILTIN_SCENARIOS.get(name)! });
    }
  });
});
