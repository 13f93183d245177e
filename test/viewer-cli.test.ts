import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { PAYLOAD_ELEMENT_ID, type ViewerPayload } from '../src/viewer/payload.ts';
import { cliInProcess } from './cli-in-process.ts';

// `kprobesim view LOG` and `export LOG --format html`: one self-contained file next to the log
// (or at --out), written through a temporary file, never over an existing one without --force;
// a log that cannot be read is bad input (exit 2). What the page does with the file is
// test/viewer-browser.test.ts's.

const dir = mkdtempSync(join(tmpdir(), 'kprobesim-view-'));
const log = join(dir, 'race.jsonl');
const html = join(dir, 'race.html');

/** The payload the page reads, out of an HTML file. */
function payloadOf(file: string): ViewerPayload {
  const text = readFileSync(file, 'utf8');
  const m = new RegExp(`<script id="${PAYLOAD_ELEMENT_ID}" type="application/json">(.*?)</script>`, 's').exec(text);
  return JSON.parse(m![1]!) as ViewerPayload;
}

beforeAll(async () => {
  expect((await cliInProcess(['run', 'unregister-race', '--log', log])).code).toBe(0);
});

describe('kprobesim view', () => {
  it('writes LOG with .html next to the log and prints its path', async () => {
    expect(await cliInProcess(['view', log])).toEqual({ code: 0, out: `${html}\n`, err: '' });
    const text = readFileSync(html, 'utf8');
    expect(text.startsWith('<!doctype html>')).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('is self-contained: no URL to load, fetches forbidden, the log inside, line for line', () => {
    const text = readFileSync(html, 'utf8');
    // No element that loads anything, no address anywhere, nothing imported by the style sheet.
    expect(text).not.toMatch(/<(?:script|link|img|iframe|source|embed|object|base)\b[^>]*\b(?:src|href)\s*=/i);
    expect(text).not.toMatch(/\b(?:https?|wss?|ftp):\/\/|@import|url\(/i);
    expect(text).toContain(`content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"`);
    const p = payloadOf(html);
    const lines = readFileSync(log, 'utf8').split('\n');
    expect(p.header).toEqual(JSON.parse(lines[0]!));
    expect(p.scenario.name).toBe('unregister-race');
    expect(gunzipSync(Buffer.from(p.log, 'base64')).toString('utf8')).toBe(lines.slice(1).join('\n'));
    expect([p.from, p.to, p.events, p.partial]).toEqual([1, lines.length - 2, lines.length - 2, false]);
    // Compact: the log rides gzip'ed, in a fraction of its own size even in base64.
    expect(p.log.length).toBeLessThan(readFileSync(log, 'utf8').length / 4);
  });

  it('the same log gives the same bytes', async () => {
    const again = join(dir, 'again.html');
    expect((await cliInProcess(['export', log, '--format', 'html', '--out', again])).code).toBe(0);
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(html, 'utf8'));
  });

  it('does not replace an existing file without --force', async () => {
    const before = readFileSync(html, 'utf8');
    writeFileSync(html, 'mine');
    expect(await cliInProcess(['view', log])).toEqual({ code: 2, out: '', err: `kprobesim: ${html}: exists; pass --force to replace it\n` });
    expect(readFileSync(html, 'utf8')).toBe('mine');
    expect(await cliInProcess(['view', log, '--force'])).toEqual({ code: 0, out: `${html}\n`, err: '' });
    expect(readFileSync(html, 'utf8')).toBe(before);
  });

  it('a malformed, missing or standard-input log is bad input (exit 2), and nothing is written', async () => {
    const bad = join(dir, 'bad.jsonl');
    const lines = readFileSync(log, 'utf8').split('\n');
    writeFileSync(bad, [lines[0], lines[1], '{"seq": 2, oops', ...lines.slice(3)].join('\n'));
    const r = await cliInProcess(['view', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^kprobesim: ${bad}:3:\\d+: invalid JSON`));
    expect(existsSync(join(dir, 'bad.html'))).toBe(false);
    const missing = join(dir, 'missing.jsonl');
    expect(await cliInProcess(['view', missing])).toEqual({ code: 2, out: '', err: `kprobesim: ${missing}: No such file or directory\n` });
    const notLog = join(dir, 'scenario.jsonl');
    writeFileSync(notLog, '{"name":"x"}\n');
    expect((await cliInProcess(['view', notLog])).err).toBe(`kprobesim: ${notLog}:1: not a kprobesim log (line 1 has no "format" field)\n`);
    const stdin = await cliInProcess(['view', '-'], readFileSync(log, 'utf8'));
    expect(stdin.code).toBe(2);
    expect(stdin.err).toContain('give a log file');
  });

  it('an interrupted log is shown up to its last complete event, with a note', async () => {
    const cut = join(dir, 'cut.jsonl');
    const text = readFileSync(log, 'utf8');
    writeFileSync(cut, text.slice(0, text.indexOf('\n', 3000) + 20));
    const r = await cliInProcess(['view', cut]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/cut short \(an interrupted run\); this shows it up to seq \d+/);
    const p = payloadOf(join(dir, 'cut.html'));
    expect(p.partial).toBe(true);
    expect(p.events).toBe(Number(/up to seq (\d+)/.exec(r.err)![1]));
  });
});

describe('kprobesim export --format html', () => {
  it('--from/--to choose the window to draw; the log inside still starts at seq 1', async () => {
    const out = join(dir, 'window.html');
    expect(await cliInProcess(['export', log, '--format', 'html', '--from', '500', '--to', '900', '--out', out])).toEqual({ code: 0, out: `${out}\n`, err: '' });
    const p = payloadOf(out);
    expect([p.from, p.to, p.events, p.partial]).toEqual([500, 900, 900, false]);
    expect(gunzipSync(Buffer.from(p.log, 'base64')).toString('utf8').split('\n')[0]).toBe(readFileSync(log, 'utf8').split('\n')[1]);
  });

  it('a window outside the log is bad input', async () => {
    const out = join(dir, 'nowhere.html');
    const r = await cliInProcess(['export', log, '--format', 'html', '--from', '99999', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^kprobesim: --from: the log has events up to seq \d+; there is no seq 99999\n$/);
    expect(existsSync(out)).toBe(false);
  });
});
