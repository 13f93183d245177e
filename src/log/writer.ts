// Writes a log as JSON Lines. The run loop produces events much faster than a disk takes them,
// so writes go through a stream and the loop waits on `drain()` when the buffer is full instead
// of letting memory grow with the run. A log appears at its path only when complete: lines go
// to `<path>.partial`, and `commit()` renames it into place (an atomic replace on POSIX), so a
// crash never leaves a half-written file under the name the user asked for.

import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { InputError } from '../errors.ts';
import { OutputExistsError } from './errors.ts';

/** What the run loop writes to: `if (!sink.writeLine(s)) await sink.drain()`. */
export interface LineSink {
  /** Appends `line + "\n"`; false means "wait for drain() before writing more". */
  writeLine(line: string): boolean;
  drain(): Promise<void>;
}

export interface CreateOptions {
  /** Replace an existing file at `path`. */
  force: boolean;
  /** Stream buffer size in bytes; tests make it tiny to exercise backpressure. */
  highWaterMark?: number;
}

/** A line holding "\n" would split into two log lines and corrupt every seq after it. */
function assertOneLine(line: string): void {
  if (line.includes('\n')) throw new Error('log line contains a newline; serialize events with LogWriter.serialize');
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/**
 * An I/O error (ENOSPC, EIO, EACCES…) labelled with the path the user gave: they asked for
 * FILE, not for FILE.partial, and a write error on a descriptor carries no path at all. The CLI
 * prints it as `FILE: No space left on device`.
 */
function labelled(err: unknown, target: string): unknown {
  if (errnoCode(err) === undefined) return err;
  return Object.assign(err as Error, { path: target });
}

type State = 'open' | 'closing' | 'committed' | 'aborted';

/** How many characters of lines to gather before one stream write. */
const BATCH_CHARS = 64 * 1024;
/** The stream's own buffer: large enough that a block rarely has to wait for drain(). */
const STREAM_BUFFER = 1024 * 1024;

export class LogWriter implements LineSink {
  private state: State = 'open';
  /** The first stream error (ENOSPC, EIO…); once set, every later call reports it. */
  private failure: Error | undefined;

  private constructor(
    /** Where the finished log will appear. */
    readonly path: string,
    /** Where lines go until commit(): `<path>.partial`. */
    readonly partialPath: string,
    /** A plain descriptor, not a FileHandle: a FileHandle's close() waits for a stream that
     *  never closes it (autoClose off), and we need the descriptor open after the stream ends
     *  to fsync it. */
    private readonly fd: number,
    private readonly stream: fs.WriteStream,
  ) {
    // Without a listener an 'error' event would crash the process; record it and report it
    // from the next call instead, where the caller can handle it.
    stream.on('error', (err) => {
      this.failure ??= labelled(err, this.path) as Error;
    });
  }

  /** JSON.stringify, keeping the key order the engine built (seq, t, src, type, payload…). */
  static serialize(ev: object): string {
    return JSON.stringify(ev);
  }

  static async create(target: string, opts: CreateOptions): Promise<LogWriter> {
    // "" would write "./.partial" and then rename it to nothing.
    if (target === '') throw new InputError('--log', 'empty file name (give the path of the log to write)');
    // "-" reads as standard output, where the summary goes; a file named "-" would surprise.
    if (target === '-') throw new InputError('--log', '"-" is not a log file name (the log cannot go to standard output; give a file name)');
    const stat = await fsp.stat(target).catch((err: unknown) => {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw labelled(err, target);
    });
    if (stat?.isDirectory()) throw new OutputExistsError(target, `${target} is a directory; pass a file name for the log`);
    if (stat && !opts.force) throw new OutputExistsError(target, `${target} exists; pass --force to replace it`);

    // Same directory as the target so the final rename never crosses file systems. 'wx' (create,
    // fail if present) keeps two runs writing the same log from interleaving their lines.
    const partial = `${target}.partial`;
    let fd: number;
    try {
      fd = await openFd(partial, 'wx');
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw labelled(err, target);
      throw new OutputExistsError(
        partial,
        `${partial} exists (an unfinished or concurrent run's log); remove it or choose another log file`,
      );
    }
    // autoClose off: commit() must fsync the descriptor after the last write and before close.
    const stream = fs.createWriteStream('', {
      fd,
      encoding: 'utf8',
      autoClose: false,
      highWaterMark: opts.highWaterMark ?? STREAM_BUFFER,
    });
    return new LogWriter(target, partial, fd, stream);
  }

  writeLine(line: string): boolean {
    // After a write error (a full disk) the caller hears of it from drain(): "wait" now, and
    // the run loop's drain() rejects with the error. Throwing here would surface inside whatever
    // published the event (an actor, a shell command) instead of in the loop that can stop.
    if (this.failure) return false;
    if (this.state !== 'open') throw new Error(`log writer for ${this.path} is closed`);
    assertOneLine(line);
    // Lines are gathered and handed to the stream in blocks of whole lines: one stream write per
    // line costs more than producing the line. A crash loses at most the unwritten block, and
    // the file still ends on a complete line or a cut one the reader reports as truncated.
    this.batch.push(line, '\n');
    this.batchChars += line.length + 1;
    return this.batchChars < Math.min(BATCH_CHARS, this.stream.writableHighWaterMark) || this.flushBatch();
  }

  private batch: string[] = [];
  private batchChars = 0;

  private flushBatch(): boolean {
    if (this.batch.length === 0) return !this.stream.writableNeedDrain;
    const block = this.batch.join('');
    this.batch = [];
    this.batchChars = 0;
    return this.stream.write(block);
  }

  drain(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.flushBatch();
    if (!this.stream.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        this.stream.off('drain', onDrain);
        this.stream.off('error', done);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = (): void => done();
      this.stream.on('drain', onDrain);
      this.stream.on('error', done);
    });
  }

  /** Flushes, fsyncs and renames `.partial` onto `path`. Only then does `path` hold the new log. */
  async commit(): Promise<void> {
    if (this.state !== 'open') throw new Error(`log writer for ${this.path} is already ${this.state}`);
    this.state = 'closing';
    try {
      await this.endStream();
      if (this.failure) throw this.failure;
      // Data must be on disk before the rename makes it visible, or a power cut could leave an
      // empty file under the final name.
      await fsyncFd(this.fd).catch((err: unknown) => {
        throw labelled(err, this.path);
      });
    } catch (err) {
      // Not committed: the .partial stays, readable up to its last complete event.
      this.state = 'aborted';
      throw err;
    } finally {
      await closeFd(this.fd).catch(() => undefined);
    }
    await fsp.rename(this.partialPath, this.path).catch((err: unknown) => {
      this.state = 'aborted';
      throw labelled(err, this.path);
    });
    await syncDirectory(path.dirname(this.path));
    this.state = 'committed';
  }

  /**
   * Stops writing and leaves `.partial` in place: it is readable up to its last complete event
   * (the reader reports a truncated last line). Returns that path for the user, or null when
   * the log was already committed (so a cleanup path may call abort() unconditionally).
   */
  async abort(): Promise<string | null> {
    if (this.state === 'committed') return null;
    if (this.state === 'aborted') return this.partialPath;
    const wasOpen = this.state === 'open';
    this.state = 'aborted';
    if (wasOpen) {
      await this.endStream().catch(() => undefined); // best effort: the run is failing already
      await closeFd(this.fd).catch(() => undefined);
    }
    return this.partialPath;
  }

  /** Ends the stream and waits until every buffered line has reached the descriptor. */
  private endStream(): Promise<void> {
    if (this.failure) return Promise.resolve();
    this.flushBatch();
    return new Promise((resolve) => {
      // Listen for both outcomes ourselves: with autoClose off the stream is never destroyed, and
      // an error during the final flush must not leave us waiting for a 'finish' that never comes.
      // The constructor's listener records the error; commit() reports it.
      const done = (): void => {
        this.stream.off('finish', done);
        this.stream.off('error', done);
        resolve();
      };
      this.stream.on('finish', done);
      this.stream.on('error', done);
      this.stream.end();
    });
  }
}

const openFd = promisify(fs.open);
const fsyncFd = promisify(fs.fsync);
const closeFd = promisify(fs.close);

/** Makes the rename itself durable. Some platforms cannot open a directory; that is not fatal. */
async function syncDirectory(dir: string): Promise<void> {
  let h: fsp.FileHandle | undefined;
  try {
    h = await fsp.open(dir, 'r');
    await h.sync();
  } catch {
    // Not supported here (e.g. Windows); the rename is still atomic, only less durable.
  } finally {
    await h?.close().catch(() => undefined);
  }
}

/** An in-memory sink with the writer's shape, for tests and in-process comparisons (replay). */
export class MemoryLog implements LineSink {
  readonly lines: string[] = [];

  writeLine(line: string): boolean {
    assertOneLine(line);
    this.lines.push(line);
    return true;
  }

  drain(): Promise<void> {
    return Promise.resolve();
  }

  /** The exact bytes a LogWriter would have produced. */
  text(): string {
    return this.lines.map((l) => `${l}\n`).join('');
  }
}
