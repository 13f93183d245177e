import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.ts';
import { MemoryLog } from '../src/log/writer.ts';
import { recordRun } from '../src/run/record.ts';
import { MAX_SCENARIO_DEPTH } from '../src/scenario/nesting.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { cliInProcess } from './cli-in-process.ts';

// Issue 9 §2: JSON.parse builds values nested thousands of levels deep; zod, JSON.stringify and
// the message builders recurse over them. Depth is bounded first, without recursion, and the
// refusal names the field path (or the log's file:line) and the limit.

const dir = mkdtempSync(join(tmpdir(), 'kprobesim-nesting-'));

/** The text of a scenario whose one task forks `n` times, each child inside the last. */
function forks(n: number, leaf = '[]'): string {
  const program = '[{"op":"fork","comm":"c","program":'.repeat(n) + leaf + '}]'.repeat(n);
  return `{"name":"deep","cpus":1,"max_steps":100000,"probes":[],"tasks":[{"comm":"sh","program":${program}}]}`;
}

function refusal(text: string): InputError {
  try {
    validateScenario(JSON.parse(text));
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected a refusal');
}

describe('deeply nested input', () => {
  it('6,000 nested forks are refused at their field path, with the limit', () => {
    const e = refusal(forks(6000));
    expect(e.place).toMatch(/^scenario\.tasks\[0\]\.program\[0\]\.program\[0\]\.program\[0\]…\(\d+ more levels\)…(\.program\[0\])+$/);
    expect(e.what).toBe(`nested more than ${MAX_SCENARIO_DEPTH} levels deep (arrays and objects; a scenario may nest at most ${MAX_SCENARIO_DEPTH} levels)`);
  });

  it.each([
    ['a task op field', (deep: string) => `{"name":"d","cpus":1,"probes":[],"tasks":[{"comm":"sh","program":[{"op":"call","fn":${deep}}]}]}`, /^scenario\.tasks\[0\]\.program\[0\]\.fn\[0\]/],
    ['the description', (deep: string) => `{"name":"d","cpus":1,"description":${deep},"probes":[],"tasks":[]}`, /^scenario\.description\[0\]/],
    ['a handler step', (deep: string) => `{"name":"d","cpus":1,"probes":[{"name":"kp","symbol":"kernel_clone","pre":[{"do":"print","text":${deep}}]}],"tasks":[]}`, /^scenario\.probes\[0\]\.pre\[0\]\.text\[0\]/],
    ['an unknown field', (deep: string) => `{"name":"d","cpus":1,"probes":[],"tasks":[],"x":${deep}}`, /^scenario\.x\[0\]/],
  ])('arrays nested 20,000 deep in %s are refused at their path', (_what, make, place) => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    expect(refusal(make(deep)).place).toMatch(place);
    const objects = '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000);
    expect(refusal(make(objects)).what).toMatch(/^nested more than/);
  });

  it('nesting within the limit is an ordinary scenario: 45 nested forks run, each child forking the next', async () => {
    const s = validateScenario(JSON.parse(forks(45)));
    const r = await recordRun(s, { seed: 1, strategy: 'random' }, new MemoryLog());
    expect(r.endReason).toBe('done');
    expect(r.violations).toEqual([]);
    expect(r.state.next_pid - s.tasks.length).toBeGreaterThanOrEqual(45);
  });

  it('run of a deep scenario file is bad input naming the file and the field (no RangeError)', async () => {
    const file = join(dir, 'deep.json');
    writeFileSync(file, forks(6000));
    const r = await cliInProcess(['run', file, '--no-log']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^kprobesim: ${file}: scenario\\.tasks\\[0\\]\\.program\\[0\\]\\.program\\[0\\].*: nested more than ${MAX_SCENARIO_DEPTH} levels deep`));
    expect(r.err).not.toMatch(/RangeError|internal error/);
  });

  it('a log whose header or an event nests 20,000 deep is refused at that line by replay, state and trace', async () => {
    const log = join(dir, 'ok.jsonl');
    expect((await cliInProcess(['run', 'kunit-missed', '--log', log])).code).toBe(0);
    const [header, first, second] = readFileSync(log, 'utf8').split('\n');
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const cases: [string, string, number][] = [
      ['deep-event.jsonl', `${header}\n${first!.slice(0, -1)},"extra":${deep}}\n${second}\n`, 2],
      ['deep-header.jsonl', `${header!.replace('"format":"kprobesim-log"', `"format":${deep}`)}\n${first}\n`, 1],
      ['deep-scenario.jsonl', `${header!.replace('"scenario":{', `"scenario":{"x":${deep},`)}\n${first}\n`, 1],
    ];
    for (const [name, text, line] of cases) {
      const file = join(dir, name);
      writeFileSync(file, text);
      for (const command of ['replay', 'state', 'trace']) {
        const r = await cliInProcess([command, file]);
        expect(r.code, `${command} ${name}`).toBe(2);
        expect(r.err).toMatch(new RegExp(`^kprobesim: ${file}:${line}: .*(nests arrays and objects more than|nested more than)`));
      }
    }
  });
});
