// The `error_log` file (spec §21, R159–R166).

import { describe, expect, it } from 'vitest';
import {
  appendErrorLog,
  appendLogged,
  EMPTY_ERROR_LOG,
  ERROR_LOG_MAX_ENTRIES,
  FILTER_LOG_LOC,
  formatErrorTimestamp,
  openErrorLog,
  renderErrorLog,
  type ErrorLog,
} from '../src/tracefs/error-log.ts';
import { EMPTY_EVENTS_FILE, writeEventsFile } from '../src/tracefs/events-file.ts';
import { simpleContext } from '../src/tracefs/simple-context.ts';

const env = {
  parse: simpleContext({ symbols: ['vfs_read'] }),
  isEnabled: () => false,
};

/** What the selftest does: clear the log, write the failing command, read the log. */
function logFor(command: string, t: bigint = 1_000_000n): string {
  const r = writeEventsFile(EMPTY_EVENTS_FILE, `${command}\n`, env);
  return renderErrorLog(appendLogged(openErrorLog(EMPTY_ERROR_LOG, { truncate: true }), r.logged, t));
}

describe('§21 error_log', () => {
  it('R159: layout — timestamp, trace_kprobe: error: <message>, Command:, caret', () => {
    expect(logFor('p non_exist_func', 5_000_123_456n)).toBe(
      '[    5.000123] trace_kprobe: error: Invalid probed address or symbol\n' +
        '  Command: p non_exist_func\n' +
        '             ^\n',
    );
  });
  it('R160: the caret line is 13 + column bytes long including ^ and the newline (selftest helper)', () => {
    for (const [cmd, pos] of [
      ['p vfs_read %none_reg', 11],
      ['p:/bar vfs_read', 2],
      ['p vfs_read arg1=', 16],
    ] as const) {
      const lines = logFor(cmd).split('\n');
      const caretLine = `${lines[lines.length - 2]}\n`;
      expect(caretLine.length).toBe(13 + pos);
      expect(caretLine.trimStart()).toBe('^\n');
    }
  });
  it('R160: the command line shows the tokens joined by single spaces', () => {
    expect(logFor('  p\t vfs_read   %bad  ')).toContain('  Command: p vfs_read %bad\n');
  });
  it('R159: the timestamp is seconds right-aligned in 5 columns and 6 digits of microseconds', () => {
    expect(formatErrorTimestamp(0n)).toBe('[    0.000000]');
    expect(formatErrorTimestamp(1_038_282_286_875_999n)).toBe('[1038282.286875]');
    expect(formatErrorTimestamp(12_345_678_901)).toBe('[   12.345678]');
  });
  it('R161: commands rejected before parsing and deletions add no entry', () => {
    for (const cmd of ['x vfs_read', 'p', 'p /bin/sh:0x10', '-:nosuch', '-x']) {
      const r = writeEventsFile(EMPTY_EVENTS_FILE, `${cmd}\n`, env);
      expect(r.errno).not.toBe(0);
      expect(r.logged).toEqual([]);
    }
  });
  it('R162: opening with truncation clears the log; appending keeps it', () => {
    const log = appendLogged(EMPTY_ERROR_LOG, writeEventsFile(EMPTY_EVENTS_FILE, 'p bad\n', env).logged, 1n);
    expect(log.entries).toHaveLength(1);
    expect(openErrorLog(log, { truncate: false })).toBe(log);
    expect(openErrorLog(log, { truncate: true }).entries).toEqual([]);
    expect(renderErrorLog(openErrorLog(log, { truncate: true }))).toBe('');
  });
  it('R163: filter errors use the "event filter parse error" prefix', () => {
    const log = appendErrorLog(EMPTY_ERROR_LOG, {
      timestampNs: 2_000_000_000n,
      loc: FILTER_LOG_LOC,
      message: 'Field not found',
      command: 'nosuch == 1',
      pos: 0,
    });
    expect(renderErrorLog(log)).toBe(
      '[    2.000000] event filter parse error: error: Field not found\n  Command: nosuch == 1\n           ^\n',
    );
  });
  it('R164: the log keeps the 8 most recent entries', () => {
    let log: ErrorLog = EMPTY_ERROR_LOG;
    for (let i = 0; i < 10; i++) {
      log = appendLogged(log, writeEventsFile(EMPTY_EVENTS_FILE, `p nosuch${i}\n`, env).logged, BigInt(i) * 1_000_000_000n);
    }
    expect(ERROR_LOG_MAX_ENTRIES).toBe(8);
    expect(log.entries).toHaveLength(8);
    expect(log.entries.map((e) => e.command)).toEqual([2, 3, 4, 5, 6, 7, 8, 9].map((i) => `p nosuch${i}`));
    expect(renderErrorLog(log).split('\n')[0]).toBe('[    2.000000] trace_kprobe: error: Invalid probed address or symbol');
  });
  it('R164: the caret column is stored as 16 bits', () => {
    const log = appendErrorLog(EMPTY_ERROR_LOG, { timestampNs: 0n, loc: 'trace_kprobe', message: 'm', command: 'c', pos: 65536 + 3 });
    expect(log.entries[0]?.pos).toBe(3);
  });
  it('R165: a column past the last token points one past a virtual trailing space', () => {
    // the selftest's DIFF_ARG_TYPE-with-fewer-arguments case, via an existing event
    const setup = writeEventsFile(EMPTY_EVENTS_FILE, 'p:ev vfs_read a=%ax\n', env);
    const r = writeEventsFile(setup.state, 'p:ev vfs_read\n', env);
    const text = renderErrorLog(appendLogged(EMPTY_ERROR_LOG, r.logged, 0n));
    expect(text).toBe(
      '[    0.000000] trace_kprobe: error: Argument type or name is different from existing probe\n' +
        '  Command: p:ev vfs_read\n' +
        `${' '.repeat(11 + 'p:ev vfs_read'.length + 1)}^\n`,
    );
  });
});
