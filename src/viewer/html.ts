import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InputError } from '../errors.ts';
import { FoldError } from '../model/evolve.ts';
import { initialState } from '../model/initial.ts';
import { openLog } from '../replay/open-log.ts';
import { Folder } from '../views/folder.ts';
import { PAYLOAD_ELEMENT_ID, PAYLOAD_FORMAT, PAYLOAD_VERSION, type ViewerPayload } from './payload.ts';

// The HTML viewer of a log: one self-contained file (no network) holding the page's script,
// bundled for the browser from ./page/ with the project's own fold and timeline builder, and the
// log itself, compact (./payload.ts). Everything the page shows it computes from that log: the
// lanes (src/timeline), and the kernel state at any seq (src/model/evolve.ts, from checkpoints).

export interface SeqWindow {
  /** The first and last seq to draw (`export --from/--to`); the fold still starts at seq 1. */
  readonly from?: number;
  readonly to?: number;
}

/** What reading a log for the viewer gives: the payload, and how the log ended (for notes). */
export interface ViewerLog {
  readonly payload: ViewerPayload;
  /** The last event read (the window's `to` when it has one and the log reaches it). */
  readonly lastSeq: number;
  /** Set when the log ends with a line cut short by a crash. */
  readonly truncatedAt: number | null;
  readonly ended: boolean;
}

/**
 * Reads the log at `path` (the reader validates every line) and folds it (an event that does
 * not fit the state is refused here, as `kprobesim state` refuses it, not in the page), keeping
 * its event lines up to the window's end. Whether the window lies inside the log is the caller's
 * to check against `lastSeq`.
 */
export async function readViewerLog(path: string, window: SeqWindow = {}): Promise<ViewerLog> {
  const to = window.to ?? Number.MAX_SAFE_INTEGER;
  const log = await openLog(path);
  const folder = new Folder(initialState(log.scenario));
  const chunks: string[] = [];
  let lines = 0;
  let lastSeq = 0;
  let ended = false;
  let truncatedAt: number | null = null;
  /** The window ends before the log does. */
  let cut = false;
  try {
    outer: for await (const batch of log.batches) {
      let chunk = '';
      for (const entry of batch) {
        if (entry.kind === 'truncated') {
          truncatedAt = entry.line;
          break;
        }
        if (entry.kind !== 'event') continue;
        if (entry.event.seq > to) {
          cut = true;
          chunks.push(chunk);
          break outer;
        }
        try {
          folder.apply(entry.event);
        } catch (e) {
          if (e instanceof FoldError) throw new InputError(`${path}:${entry.line}`, `event seq ${entry.event.seq} does not fit the state: ${e.message}`);
          throw e;
        }
        chunk += entry.raw + '\n';
        lines++;
        lastSeq = entry.event.seq;
        if (entry.event.type === 'log.end') ended = true;
      }
      chunks.push(chunk);
    }
  } finally {
    await log.close();
  }
  const payload: ViewerPayload = {
    format: PAYLOAD_FORMAT,
    version: PAYLOAD_VERSION,
    file: basename(path),
    header: log.header,
    scenario: log.scenario,
    from: Math.min(window.from ?? 1, Math.max(lastSeq, 1)),
    to: Math.min(to, lastSeq),
    events: lines,
    log: gzipSync(Buffer.from(chunks.join(''), 'utf8')).toString('base64'),
    partial: !cut && (truncatedAt !== null || !ended),
  };
  return { payload, lastSeq, truncatedAt, ended };
}

/** The HTML file of a payload: the page's script and the log, in one file that loads nothing. */
export async function viewerHtml(payload: ViewerPayload): Promise<string> {
  return htmlPage(payload, await pageScript());
}

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The page. The payload is JSON inside a non-executed <script> element: "<" is written as
 * \u003c, so no text of the log (a scenario's description, a printk) can close the element.
 * The Content-Security-Policy forbids every fetch: the file works offline, and proves it.
 */
export function htmlPage(payload: ViewerPayload, script: string): string {
  const data = JSON.stringify(payload).replace(/</g, '\\u003c');
  const title = `kprobesim: ${payload.scenario.name} (${payload.file})`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    '</head>',
    '<body>',
    '<noscript>This page draws a kprobesim run with JavaScript: allow scripts for this file to see it.</noscript>',
    `<script id="${PAYLOAD_ELEMENT_ID}" type="application/json">${data}</script>`,
    `<script>${script}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

let script: Promise<string> | undefined;

/**
 * The page's script: dist/viewer/page.js, which `npm run build` bundles next to this module's
 * compiled file. Run from the sources (tsx, vitest), this module bundles the page itself, so
 * what it inlines is always the page as the sources have it.
 */
function pageScript(): Promise<string> {
  script ??= (async () => {
    if (import.meta.url.endsWith('.ts')) {
      const bundler = new URL('../../scripts/bundle-viewer.ts', import.meta.url).href;
      const m = (await import(bundler)) as { bundleViewerPage(): Promise<string> };
      return m.bundleViewerPage();
    }
    const file = new URL('./page.js', import.meta.url);
    return readFile(file, 'utf8').catch(() => {
      throw new Error(`the viewer's page script ${file.pathname} is missing: npm run build writes it`);
    });
  })();
  return script;
}
