import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliInProcess } from './cli-in-process.ts';

// Issue 9 §2: what is not a regular file is not read. A directory fails with EISDIR half-way, a
// device never ends (/dev/zero is one endless line), a FIFO with no writer blocks forever and
// /proc/self/mem fails with EIO: each is bad input naming the path, at once. Standard input is
// read only when the path is "-"; a line longer than 16 MiB is refused at its file:line.

const dir = mkdtempSync(join(tmpdir(), 'kprobesim-paths-'));
const fifo = join(dir, 'fifo');
const log = join(dir, 'run.jsonl');
const LOG_COMMANDS: string[][] = [['replay'], ['state'], ['trace'], ['why', '--probe', 'kp'], ['debugfs', 'list'], ['view']];

/** `kprobesim COMMAND PATH [rest]`: the log argument comes right after the command. */
function withLog([command, ...rest]: string[], path: string): string[] {
  return [command!, path, ...rest];
}

beforeAll(async () => {
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  expect((await cliInProcess(['run', 'kunit-missed', '--log', log])).code).toBe(0);
});

describe('log paths that are not regular files', () => {
  it.each(LOG_COMMANDS)('%s refuses a directory, a character device and a FIFO without reading them', async (...command) => {
    for (const [path, kind] of [
      [dir, 'a directory'],
      ['/dev/zero', 'a character device'],
      ['/dev/null', 'a character device'],
      [fifo, 'a FIFO'],
    ] as const) {
      const r = await cliInProcess(withLog(command, path));
      expect(r.code, `${command.join(' ')} ${path}`).toBe(2);
      expect(r.err).toBe(`kprobesim: ${path}: ${kind}, not a log file (give a regular file, or - for standard input)\n`);
    }
  });

  it('an I/O error while reading (/proc/self/mem: EIO) is bad input naming the path', async () => {
    const r = await cliInProcess(['state', '/proc/self/mem']);
    expect(r).toMatchObject({ code: 2, err: 'kprobesim: /proc/self/mem: Input/output error\n' });
  });

  it('an empty path is bad input, and a missing file is named', async () => {
    expect(await cliInProcess(['replay', ''])).toMatchObject({ code: 2, err: 'kprobesim: empty log path (give a log file, or - for standard input)\n' });
    const missing = join(dir, 'missing.jsonl');
    expect(await cliInProcess(['state', missing])).toMatchObject({ code: 2, err: `kprobesim: ${missing}: No such file or directory\n` });
  });

  it('a line longer than 16 MiB is refused at its file:line, in a file and on standard input', async () => {
    const header = readFileSync(log, 'utf8').split('\n')[0]!;
    const long = join(dir, 'long.jsonl');
    writeFileSync(long, `${header}\n${'x'.repeat(17 * 1024 * 1024)}`);
    const msg = 'line is longer than 16 MiB (no event is anywhere near that; is this a kprobesim log?)';
    expect(await cliInProcess(['state', long])).toMatchObject({ code: 2, err: `kprobesim: ${long}:2: ${msg}\n` });
    const zeros = '\0'.repeat(17 * 1024 * 1024);
    expect(await cliInProcess(['state', '-'], zeros)).toMatchObject({ code: 2, err: `kprobesim: -:1: ${msg}\n` });
  });
});

describe('"-" is standard input', () => {
  it('replay -, state -, trace - and why - read the log from standard input', async () => {
    const text = readFileSync(log, 'utf8');
    const fromFile = await cliInProcess(['replay', log]);
    expect(fromFile.out).toMatch(/^identical: \d+ events, final digest sha256:/);
    expect(await cliInProcess(['replay', '-'], text)).toEqual(fromFile);
    expect((await cliInProcess(['state', '-'], text)).out).toBe((await cliInProcess(['state', log])).out);
    expect((await cliInProcess(['trace', '-'], text)).out).toBe((await cliInProcess(['trace', log])).out);
    expect((await cliInProcess(['why', '-', '--probe', 'kp'], text)).out).toBe((await cliInProcess(['why', log, '--probe', 'kp'])).out);
  });

  it('empty standard input is an empty log, named "-"', async () => {
    expect(await cliInProcess(['state', '-'], '')).toMatchObject({ code: 2, err: 'kprobesim: -:1: empty file: not a kprobesim log\n' });
  });
});

describe('scenario paths that are not regular files', () => {
  it.each([
    [dir, 'not a regular file'],
    ['/dev/zero', 'not a regular file'],
    [fifo, 'not a regular file'],
    ['/proc/self/mem', 'Input/output error'],
  ])('run %s is bad input naming the path', async (path, what) => {
    const r = await cliInProcess(['run', path, '--no-log']);
    expect(r).toMatchObject({ code: 2, err: `kprobesim: ${path}: ${what}\n` });
  });
});
