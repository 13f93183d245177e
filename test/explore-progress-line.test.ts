import { describe, expect, it } from 'vitest';
import { duration, formatProgress, PLAIN_EVERY_S, progressWriter, type ProgressSink } from '../src/cli/progress-line.ts';
import { cliInProcess } from './cli-in-process.ts';
import { scenarioFile, tempDir } from './explore-fixtures.ts';

// The progress of `kprobesim explore` (issue 12, "Scale"): the line is a pure function of the
// progress and the elapsed time; where it goes depends on the mode and on whether stderr is a
// terminal, and by default nothing is printed when it is not (CI logs and stdout unchanged).

/** A stream that records what is written, and a clock the test moves by hand. */
function fake(isTTY: boolean) {
  const written: string[] = [];
  let ms = 1_000_000;
  const sink: ProgressSink = { isTTY, write: (t: string) => written.push(t) };
  return { sink, written, now: () => ms, advance: (s: number) => (ms += s * 1000) };
}

const P = (runs: number, states = 7, failures = 0) => ({ runs, of: 1000, states, failures });

describe('formatProgress', () => {
  it('gives runs, runs/s, distinct states, failures and the time left at the current rate', () => {
    // 250 runs in 10 s: 25 runs/s, 750 left → 30 s.
    expect(formatProgress(P(250, 1234, 1), 10)).toBe('explore: 250/1000 runs, 25.0 runs/s, 1234 distinct states, 1 failure, ETA 30s');
    // 100 runs in 60 s: 5/3 runs/s, 900 left → 540 s = 9 min.
    expect(formatProgress(P(100, 1, 2), 60)).toBe('explore: 100/1000 runs, 1.7 runs/s, 1 distinct state, 2 failures, ETA 9m00s');
  });

  it('has no ETA before the first run and 0s once all are made', () => {
    expect(formatProgress(P(0, 0), 3)).toBe('explore: 0/1000 runs, 0.0 runs/s, 0 distinct states, 0 failures, ETA ?');
    expect(formatProgress(P(0, 0), 0)).toMatch(/ETA \?$/);
    expect(formatProgress(P(1000), 4)).toMatch(/250\.0 runs\/s, .* ETA 0s$/);
  });

  it('writes durations in h, m, s, rounding up', () => {
    expect([duration(0), duration(0.2), duration(59), duration(60), duration(75), duration(3725)]).toEqual(['0s', '1s', '59s', '1m00s', '1m15s', '1h02m05s']);
  });
});

describe('progressWriter', () => {
  it('auto on a terminal: the line redrawn in place on every update, erased at the end', () => {
    const f = fake(true);
    const w = progressWriter('auto', f.sink, f.now);
    f.advance(2);
    w.update(P(16));
    f.advance(2);
    w.update(P(32));
    w.done();
    expect(f.written).toEqual([
      `\r${formatProgress(P(16), 2)}\x1b[K`,
      `\r${formatProgress(P(32), 4)}\x1b[K`,
      '\r\x1b[K',
    ]);
  });

  it('auto elsewhere (a pipe, a CI log), and off anywhere: nothing at all', () => {
    for (const [mode, tty] of [['auto', false], ['off', true], ['off', false]] as const) {
      const f = fake(tty);
      const w = progressWriter(mode, f.sink, f.now);
      f.advance(30);
      w.update(P(500));
      w.done();
      expect(f.written, `${mode}, tty ${tty}`).toEqual([]);
    }
  });

  it(`plain: whole lines, at most one per ${PLAIN_EVERY_S} s, and the last progress at the end`, () => {
    const f = fake(false);
    const w = progressWriter('plain', f.sink, f.now);
    f.advance(PLAIN_EVERY_S - 1);
    w.update(P(16)); // too soon
    f.advance(1);
    w.update(P(32)); // 10 s in: printed
    f.advance(5);
    w.update(P(48)); // 5 s after the last line: not yet
    w.done(); // …but the end prints where it got to
    expect(f.written).toEqual([`${formatProgress(P(32), 10)}\n`, `${formatProgress(P(48), 15)}\n`]);
  });

  it('plain: nothing repeated at the end when the last progress was already printed', () => {
    const f = fake(false);
    const w = progressWriter('plain', f.sink, f.now);
    f.advance(PLAIN_EVERY_S);
    w.update(P(1000));
    w.done();
    expect(f.written).toEqual([`${formatProgress(P(1000), PLAIN_EVERY_S)}\n`]);
  });
});

describe('kprobesim explore --progress', () => {
  const dir = tempDir();
  const race = scenarioFile(dir);
  const args = ['explore', race, '--strategy', 'random', '--runs', '20', '--out', dir];

  it('prints nothing on a standard error that is not a terminal by default; plain prints the final line there, and stdout is the same', async () => {
    const quiet = await cliInProcess(args);
    const plain = await cliInProcess([...args, '--progress', 'plain']);
    expect(quiet.code).toBe(0);
    expect(quiet.err).toBe('');
    expect(plain.err).toMatch(/^explore: 20\/20 runs, \d+\.\d runs\/s, \d+ distinct states?, 0 failures, ETA 0s\n$/);
    expect(plain.out).toBe(quiet.out);
  });

  it('refuses a mode it does not know, naming the option', async () => {
    const r = await cliInProcess([...args, '--progress', 'bar']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--progress');
  });
});
