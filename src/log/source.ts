// Where a log's text comes from. Logs are read from regular files, or from standard input when
// the path is "-": a directory gives EISDIR half-way through, a device such as /dev/zero never
// ends, and a FIFO nobody writes to blocks forever, so those are refused before reading.

import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InputError } from '../errors.ts';
import { LogError } from './errors.ts';

/** The longest line a log may have: far beyond any event, short of what would exhaust memory. */
export const MAX_LINE_CHARS = 16 * 1024 * 1024;

export function lineTooLong(file: string, line: number): LogError {
  return new LogError(file, line, undefined, `line is longer than ${MAX_LINE_CHARS / (1024 * 1024)} MiB (no event is anywhere near that; is this a kprobesim log?)`);
}

/** The path that means standard input. */
export const STDIN = '-';

/** Chunks read at a time: large enough that reading is cheap, small enough to stay bounded. */
const CHUNK = 256 * 1024;

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Standard input copied to a temporary file, once per stdin stream: a command may read its log
 * more than once (trace looks at the header before folding; replay reads a TypeScript run's
 * callback results ahead), and a pipe can be read only once.
 */
const spools = new WeakMap<object, Promise<string>>();
/** The spools' directories, removed when the process exits (one listener for all of them). */
const spoolDirs = new Set<string>();
let cleanupHooked = false;

function removeAtExit(dir: string): void {
  spoolDirs.add(dir);
  if (cleanupHooked) return;
  cleanupHooked = true;
  process.once('exit', () => {
    for (const d of spoolDirs) fs.rmSync(d, { recursive: true, force: true });
  });
}

function spoolStdin(): Promise<string> {
  const stdin = process.stdin;
  let spool = spools.get(stdin);
  if (spool === undefined) {
    spool = (async () => {
      const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'kprobesim-stdin-'));
      const file = path.join(dir, 'log.jsonl');
      removeAtExit(dir);
      await pipeline(stdin, boundedLines(), fs.createWriteStream(file, { flags: 'wx' }));
      return file;
    })();
    spools.set(stdin, spool);
  }
  return spool;
}

/** Passes bytes through, refusing a line longer than MAX_LINE_CHARS (an endless `cat /dev/zero`). */
function boundedLines(): Transform {
  let line = 1;
  let length = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      for (let start = 0; ; ) {
        const nl = chunk.indexOf(10, start);
        length += (nl === -1 ? chunk.length : nl) - start;
        if (length > MAX_LINE_CHARS) return done(lineTooLong(STDIN, line));
        if (nl === -1) break;
        line++;
        length = 0;
        start = nl + 1;
      }
      done(null, chunk);
    },
  });
}

/**
 * The file to read for `given` (a path, or "-"), refused with an InputError naming `given`
 * unless it is a regular file. Errors such as ENOENT keep their code and get `given` as path.
 */
export async function logFile(given: string): Promise<string> {
  if (given === '') throw new InputError('', 'empty log path (give a log file, or - for standard input)');
  if (given === STDIN) return spoolStdin();
  const st = await fsp.stat(given).catch((err: unknown) => {
    throw withPath(err, given);
  });
  if (!st.isFile()) throw new InputError(given, `${kindOf(st)}, not a log file (give a regular file, or - for standard input)`);
  return given;
}

/** Reads `given` (see logFile) as UTF-8 text in chunks; read errors (EIO…) name `given`. */
export async function* logChunks(given: string): AsyncGenerator<string> {
  const file = await logFile(given);
  // Decoding with setEncoding keeps multi-byte UTF-8 characters whole across chunk borders.
  const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK });
  try {
    for await (const chunk of stream as AsyncIterable<string>) yield chunk;
  } catch (err) {
    throw withPath(err, given);
  } finally {
    stream.destroy();
  }
}

/** An errno error, re-labelled with the path the user gave (the CLI prints `path: strerror`). */
function withPath(err: unknown, given: string): unknown {
  if (errnoCode(err) === undefined) return err;
  const e = err as NodeJS.ErrnoException;
  e.path = given;
  return e;
}
