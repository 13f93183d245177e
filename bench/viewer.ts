// Issue 13's HTML viewer on a large log: `npx tsx bench/viewer.ts [--log FILE]`. Records the 1M-
// event bench log (bench/scenario.ts, STEPS_1M steps, seed 1) as bench/run.ts does, unless --log
// names an existing file to reuse; bench/run.ts calls viewerFigures on its own 1M log. Then: the
// HTML file `kprobesim export --format html` writes (its size, and the time to read, fold and
// write it), and that file in headless Chromium (Debian's chromium through playwright-core): the
// time from navigation until the page is ready (log inflated, folded with checkpoints, timeline
// built, lanes drawn), the longest the page's main thread went without a frame meanwhile, a
// redraw of the whole run and of a narrow window, a jump of the state panel to a far seq, and the
// page's JavaScript heap. Wall times are performance.now() on both sides.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { readViewerLog, viewerHtml } from '../src/viewer/html.ts';
import { benchArg, withBenchLog } from './run.ts';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface ViewerFigures {
  readonly events: number;
  readonly htmlMiB: number;
  readonly logMiB: number;
  readonly writeSeconds: number;
  readonly loadSeconds: number;
  /** The longest gap between two animation frames while the page loaded. */
  readonly longestFrameMs: number;
  readonly redrawAllMs: number;
  readonly redrawNarrowMs: number;
  /** Median time for the state at a far seq (from the nearest checkpoint), over 21 jumps. */
  readonly stateAtMs: number;
  readonly heapMiB: number;
  readonly slices: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const mib = (bytes: number): number => bytes / (1024 * 1024);

/** The viewer's figures for the log at `log`, or why they could not be measured (no Chromium). */
export async function viewerFigures(log: string): Promise<ViewerFigures | { skipped: string }> {
  if (!fs.existsSync(CHROMIUM)) return { skipped: `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM)` };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kprobesim-viewer-bench-'));
  const file = path.join(dir, 'viewer.html');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const t0 = performance.now();
    const read = await readViewerLog(log);
    fs.writeFileSync(file, await viewerHtml(read.payload));
    const writeSeconds = (performance.now() - t0) / 1000;
    const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Before the page's own script: note the longest gap between frames until it is ready. (The
    // in-page code is text: tsx's transform would name the functions with a helper the page lacks.)
    await page.addInitScript(`
      window.__longest = 0;
      let last = performance.now();
      const tick = (now) => {
        window.__longest = Math.max(window.__longest, now - last);
        last = now;
        if (window.kprobesim?.ready !== true) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    `);
    const t1 = performance.now();
    await page.goto(pathToFileURL(file).href, { timeout: 300_000 });
    await page.waitForFunction(() => window.kprobesim?.ready === true || window.kprobesim?.error != null, null, { timeout: 300_000, polling: 20 });
    const loadSeconds = (performance.now() - t1) / 1000;
    const error = await page.evaluate(() => window.kprobesim!.error);
    if (error !== null || errors.length > 0) throw new Error(`the page failed: ${error ?? errors.join('; ')}`);
    const inPage = (await page.evaluate(`(() => {
      const k = window.kprobesim;
      const time = (f) => {
        const t = performance.now();
        f();
        return performance.now() - t;
      };
      const n = k.events;
      const all = [0, 1, 2].map(() => time(() => k.redraw()));
      k.setView(n / 2, n / 2 + 2000);
      const narrow = [0, 1, 2].map(() => time(() => k.redraw()));
      // Far apart and backwards, so that no jump folds on from the one before.
      const jumps = Array.from({ length: 21 }, (_, i) => time(() => k.stateAt(Math.floor(n - 1 - (i * n) / 23))));
      return {
        all: Math.min(...all),
        narrow: Math.min(...narrow),
        jumps,
        heap: performance.memory?.usedJSHeapSize ?? 0,
        longest: window.__longest,
        events: n,
        slices: k.timeline.slices.length,
      };
    })()`)) as { all: number; narrow: number; jumps: number[]; heap: number; longest: number; events: number; slices: number };
    return {
      events: inPage.events,
      htmlMiB: mib(fs.statSync(file).size),
      logMiB: mib(fs.statSync(log).size),
      writeSeconds,
      loadSeconds,
      longestFrameMs: inPage.longest,
      redrawAllMs: inPage.all,
      redrawNarrowMs: inPage.narrow,
      stateAtMs: median(inPage.jumps),
      heapMiB: mib(inPage.heap),
      slices: inPage.slices,
    };
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures as bench lines: `name: value unit`, and one `#` line of context. */
export function viewerLines(f: ViewerFigures | { skipped: string }): string[] {
  if ('skipped' in f) return [`# viewer: not measured: ${f.skipped}`];
  return [
    `viewer_html_mib_1m: ${f.htmlMiB.toFixed(1)} MiB`,
    `viewer_load_s_1m: ${f.loadSeconds.toFixed(2)} s`,
    `viewer_longest_frame_ms_1m: ${f.longestFrameMs.toFixed(0)} ms`,
    `# viewer: ${f.events} events (log ${f.logMiB.toFixed(1)} MiB, HTML ${f.htmlMiB.toFixed(1)} MiB, written in ${f.writeSeconds.toFixed(1)} s), ${f.slices} slices; ` +
      `headless Chromium: ready ${f.loadSeconds.toFixed(2)} s after navigation, longest frame gap while loading ${f.longestFrameMs.toFixed(0)} ms, ` +
      `redraw ${f.redrawAllMs.toFixed(1)} ms (whole run) / ${f.redrawNarrowMs.toFixed(1)} ms (2000 seqs), state at a far seq ${f.stateAtMs.toFixed(1)} ms (median of 21), JS heap ${f.heapMiB.toFixed(0)} MiB`,
  ];
}

async function main(): Promise<void> {
  await withBenchLog(benchArg('--log'), 'kprobesim-viewer-', async (log) => {
    for (const line of viewerLines(await viewerFigures(log))) process.stdout.write(`${line}\n`);
  });
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
