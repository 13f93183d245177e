import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliInProcess } from './cli-in-process.ts';
import { scenarioFile, tempDir } from './explore-fixtures.ts';

// The command line of `kprobesim explore` (issue 12's contract): exit 0 nothing found, 1 a
// failure, 2 bad input naming the option; the last line of standard output a verdict; the same
// command the same report, byte for byte, whatever the workers; shards that merge to the report
// of the single run.

const dir = tempDir();
const race = scenarioFile(dir);
const MUTANT = ['--mutant', 'disarm-without-sync'];

async function explore(args: string[]) {
  const r = await cliInProcess(['explore', race, ...args]);
  return { ...r, last: r.out.trimEnd().split('\n').at(-1)! };
}

function read(file: string): string {
  return readFileSync(file, 'utf8');
}

describe('kprobesim explore', () => {
  it('exits 1 on a failure, prints its replay command, and the verdict last; the log replays identically', async () => {
    const out = join(dir, 'found');
    const r = await explore(['--strategy', 'pct', '--runs', '300', ...MUTANT, '--out', out, '--report', join(dir, 'found.json')]);
    expect(r.code).toBe(1);
    expect(r.last).toMatch(/^FAILED: 1 failure \(INV-removed-race\) in \d+ runs \(pct, seed 42, \d+ distinct states\)$/);
    const report = JSON.parse(read(join(dir, 'found.json')));
    const log = report.failures[0].log as string;
    expect(r.out).toContain(`replay: kprobesim replay ${log}\n`);
    const replay = await cliInProcess(['replay', log]);
    expect(replay.code).toBe(0);
    expect(replay.out).toMatch(/^identical: /);
  });

  it('exits 0 with an OK verdict when nothing is found', async () => {
    const r = await explore(['--strategy', 'random', '--runs', '20', '--out', join(dir, 'none')]);
    expect(r.code).toBe(0);
    expect(r.last).toMatch(/^OK: no failure in 20 runs \(random, seed 42, \d+ distinct states\)$/);
    expect(existsSync(join(dir, 'none'))).toBe(false);
  });

  it('gives a byte-identical report for the same command, and leaves the logs it wrote alone', async () => {
    const args = ['--strategy', 'portfolio', '--runs', '300', '--keep-going', ...MUTANT, '--out', join(dir, 'same')];
    const a = await explore([...args, '--report', join(dir, 'same-a.json')]);
    const b = await explore([...args, '--report', join(dir, 'same-b.json')]);
    expect(a.code).toBe(1);
    expect(read(join(dir, 'same-b.json'))).toBe(read(join(dir, 'same-a.json')));
    expect(b.out.replace('same-b.json', 'same-a.json')).toBe(a.out);
  });

  it('refuses to replace a log that differs from the one it would write', async () => {
    const out = join(dir, 'clash');
    const args = ['--strategy', 'dfs', '--runs', '300', ...MUTANT, '--out', out];
    const first = await explore([...args, '--report', join(dir, 'clash.json')]);
    expect(first.code).toBe(1);
    const log = JSON.parse(read(join(dir, 'clash.json'))).failures[0].log as string;
    writeFileSync(log, 'not this\n');
    const again = await explore(args);
    expect(again.code).toBe(2);
    expect(again.err).toBe(`kprobesim: ${log}: exists and differs from this failure's log (another scenario or kprobesim version?); remove it or give another --out\n`);
    expect(read(log)).toBe('not this\n');
  });

  it('gives the same report with 1 and 2 worker processes', async () => {
    const args = ['--strategy', 'swarm', '--runs', '120', '--keep-going', ...MUTANT, '--out', join(dir, 'workers')];
    await explore([...args, '--workers', '1', '--report', join(dir, 'w1.json')]);
    await explore([...args, '--workers', '2', '--report', join(dir, 'w2.json')]);
    expect(read(join(dir, 'w2.json'))).toBe(read(join(dir, 'w1.json')));
  });

  for (const keepGoing of [true, false]) {
    it(`merges --shard 0/2 and 1/2 into the unsharded report's runs and failures${keepGoing ? ' (--keep-going)' : ''}`, async () => {
      const tag = keepGoing ? 'all' : 'first';
      const args = ['--strategy', 'portfolio', '--runs', '400', ...MUTANT, '--out', join(dir, `shard-${tag}`), ...(keepGoing ? ['--keep-going'] : [])];
      const whole = await explore([...args, '--report', join(dir, `${tag}.json`)]);
      const s0 = await explore([...args, '--shard', '0/2', '--report', join(dir, `${tag}-0.json`)]);
      const s1 = await explore([...args, '--shard', '1/2', '--report', join(dir, `${tag}-1.json`)]);
      expect(whole.code).toBe(1);
      expect(Math.max(s0.code, s1.code)).toBe(1);
      const merged = await cliInProcess(['explore', 'merge', join(dir, `${tag}-1.json`), join(dir, `${tag}-0.json`)]);
      expect(merged.code).toBe(1);
      const m = JSON.parse(merged.out);
      const w = JSON.parse(read(join(dir, `${tag}.json`)));
      expect(m.runs).toBe(w.runs);
      expect(m.failures).toEqual(w.failures);
      if (keepGoing) expect(w.failures.length).toBeGreaterThan(1);
      expect({ ...m, distinct_states: 0 }).toEqual({ ...w, distinct_states: 0 });
    });
  }

  it('refuses bad input with exit 2 and a message naming the option', async () => {
    const cases: [string[], string][] = [
      [['--runs', '0'], "option '--runs <N>' argument '0' is invalid. expected a number of runs from 1 to 1000000000"],
      [['--shard', '2/2'], "option '--shard <I/N>' argument '2/2' is invalid. expected I/N with 0 ≤ I < N (N from 1 to 1000000), got 2/2"],
      [['--shard', 'half'], "option '--shard <I/N>' argument 'half' is invalid. expected I/N, shard I of N (0 ≤ I < N), e.g. 0/4"],
      [['--workers', '0'], "option '--workers <W>' argument '0' is invalid. expected a number of worker processes from 1 to 256"],
      [['--strategy', 'bfs'], "option '--strategy <name>' argument 'bfs' is invalid. Allowed choices are portfolio, random, pct, dfs, swarm."],
      [['--mutant', 'nope'], "option '--mutant <NAME>' argument 'nope' is invalid. Allowed choices are no-grace-period, arm-before-insert, no-reenter-check, disarm-without-sync, int3-sync-gap."],
      [['--strategy', 'dfs', '--shard', '0/2'], '--shard: dfs explores one tree, each run depending on the ones before it, and cannot be split into shards (use random, pct, swarm or portfolio)'],
      [['--strategy', 'pct', '--preemption-bound', '1'], '--preemption-bound: bounds the dfs strategy only (--strategy is pct)'],
      [['--strategy', 'random', '--depth', '2'], "--depth: is PCT's bug depth or dfs's branching depth (--strategy is random)"],
      [['--cpus', '0'], "option '--cpus <N>' argument '0' is invalid. expected a number of CPUs from 1 to 64"],
      [['--out', race], `--out: ${race} is not a directory`],
      [['--report', join(dir, 'nope', 'r.json')], `--report: ${join(dir, 'nope')}: no such directory`],
      [['--report', dir], `--report: ${dir} is a directory; give the report's file name`],
    ];
    for (const [args, message] of cases) {
      const r = await explore(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.split('\n')[0], args.join(' ')).toBe(`kprobesim: ${message}`);
      expect(r.out).toBe('');
    }
  });

  it('refuses reports that are not shards of one exploration', async () => {
    const a = join(dir, 'm-a.json');
    const b = join(dir, 'm-b.json');
    await explore(['--strategy', 'random', '--runs', '10', '--shard', '0/2', '--report', a]);
    await explore(['--strategy', 'random', '--runs', '10', '--seed', '5', '--shard', '1/2', '--report', b]);
    const mismatch = await cliInProcess(['explore', 'merge', a, b]);
    expect(mismatch.code).toBe(2);
    expect(mismatch.err).toBe(`kprobesim: ${b}: seed is 5, but ${a} has 42: not shards of one exploration\n`);
    const missing = await cliInProcess(['explore', 'merge', a]);
    expect(missing.code).toBe(2);
    expect(missing.err).toBe('kprobesim: explore merge: shard 1/2 missing\n');
    const twice = await cliInProcess(['explore', 'merge', a, a]);
    expect(twice.err).toBe(`kprobesim: ${a}: is shard 0/2 again (so is ${a})\n`);
    writeFileSync(join(dir, 'junk.json'), '{"runs": 3');
    const junk = await cliInProcess(['explore', 'merge', join(dir, 'junk.json')]);
    expect(junk.code).toBe(2);
    expect(junk.err).toMatch(new RegExp(`^kprobesim: ${join(dir, 'junk.json')}: not JSON: `));
  });
});
