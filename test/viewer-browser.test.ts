import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelState } from '../src/model/state.ts';
import { foldLog } from '../src/replay/fold-log.ts';
import type { Flow, Slice, Timeline } from '../src/timeline/model.ts';

// The HTML viewer in headless Chromium (Debian's chromium, driven by playwright-core through
// executablePath: no browser download). The unregister-race log goes through `kprobesim view`
// (the installed CLI, with the bundle npm run build makes); the page is loaded from its file URL.
// Everything checked on screen is checked against the project's fold run here in Node.
// Where Chromium cannot be started the tests are skipped, each saying why.

const BIN = resolve('bin/kprobesim.js');
const SCREENSHOT = resolve('docs/viewer.png');
const CHROMIUMS = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((p): p is string => p !== undefined && p !== '');
/** As the machine's notes say: no background networking (this machine has none), no sandbox as root. */
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function launch(): Promise<{ browser: Browser } | { why: string }> {
  const executablePath = CHROMIUMS.find((p) => existsSync(p));
  if (executablePath === undefined) {
    return { why: `no Chromium at ${CHROMIUMS.join(', ')}: install Debian's chromium (apt-get install -y chromium, as .ci/run does) or set CHROMIUM to a Chromium binary` };
  }
  try {
    return { browser: await chromium.launch({ executablePath, args: ARGS, timeout: 30_000 }) };
  } catch (e) {
    return { why: `Chromium at ${executablePath} could not be started: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}` };
  }
}

const launched = await launch();
const browser = 'browser' in launched ? launched.browser : undefined;
const why = 'why' in launched ? launched.why : '';
if (browser === undefined) process.stderr.write(`viewer-browser.test.ts: SKIPPED: ${why}\n`);

function cli(...args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  expect(r.status, `kprobesim ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout;
}

interface Loaded {
  readonly page: Page;
  /** console.error messages and uncaught exceptions of the page. */
  readonly errors: string[];
  /** Requests for anything but the file itself. */
  readonly requests: string[];
}

async function open(file: string): Promise<Loaded> {
  const page = await browser!.newPage({ viewport: { width: 1500, height: 900 }, deviceScaleFactor: 1 });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (r.url() !== pathToFileURL(file).href) requests.push(r.url());
  });
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => window.kprobesim?.ready === true || window.kprobesim?.error != null, null, { timeout: 30_000 });
  expect(await page.evaluate(() => window.kprobesim!.error)).toBeNull();
  return { page, errors, requests };
}

/** What the page's data model says of the lanes, and where its canvas is on the screen. */
interface Geometry {
  readonly timeline: Timeline;
  readonly lanes: { id: string; y: number }[];
  readonly view: { start: number; end: number; width: number; scrollY: number };
  readonly layout: { AXIS_H: number; ROW_H: number };
  readonly canvas: { left: number; top: number };
}

async function geometry(page: Page): Promise<Geometry> {
  return page.evaluate(() => {
    const k = window.kprobesim!;
    const r = k.canvas!.getBoundingClientRect();
    const v = k.view!;
    return {
      timeline: k.timeline!,
      lanes: k.lanes!.map((l) => ({ id: l.id, y: l.y })),
      view: { start: v.start, end: v.end, width: v.width, scrollY: v.scrollY },
      layout: k.layout!,
      canvas: { left: r.left, top: r.top },
    };
  });
}

/** Where on the screen the middle of a slice is drawn, from the data model alone. */
function screenPoint(g: Geometry, s: Slice): { x: number; y: number } {
  const lane = g.lanes.find((l) => l.id === s.track)!;
  const seqs = g.view.end - g.view.start;
  const mid = (Math.max(s.startSeq, g.view.start) + Math.min(s.endSeq + 1, g.view.end)) / 2;
  return {
    x: g.canvas.left + ((mid - g.view.start) * g.view.width) / seqs,
    y: g.canvas.top + g.layout.AXIS_H + lane.y - g.view.scrollY + s.depth * g.layout.ROW_H + g.layout.ROW_H / 2,
  };
}

const stateJson = (s: KernelState): string => JSON.stringify(s, null, 2);

describe('the HTML viewer in headless Chromium', () => {
  let dir: string;
  let log: string;
  let html: string;
  let loaded: Loaded;
  let lines: string[];

  beforeAll(async () => {
    if (browser === undefined) return;
    dir = mkdtempSync(join(tmpdir(), 'kprobesim-viewer-'));
    log = join(dir, 'unregister-race.jsonl');
    cli('run', 'unregister-race', '--log', log);
    html = cli('view', log).trim();
    expect(html).toBe(join(dir, 'unregister-race.html'));
    lines = readFileSync(log, 'utf8').split('\n');
    loaded = await open(html);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('loads from its file URL with no console error and no request, lanes labelled as DOM text', async ({ skip }) => {
    if (browser === undefined) skip(why);
    const { page } = loaded;
    const labels = await page.locator('#labels [data-lane]').allTextContents();
    expect(labels.slice(0, 2)).toEqual(['CPU 0', 'CPU 1']);
    const model = await page.evaluate(() => ({ events: window.kprobesim!.events, cpus: window.kprobesim!.timeline!.cpus, slices: window.kprobesim!.timeline!.slices.length }));
    expect(model.events).toBe(lines.length - 2); // the header, and the empty string after the last "\n"
    expect(model.cpus).toBe(2);
    expect(model.slices).toBeGreaterThan(10);
    expect(await page.locator('#legend').textContent()).toContain('handler');
    expect(loaded.errors).toEqual([]);
    expect(loaded.requests).toEqual([]);
  });

  it('a click on a slice shows its events and the folded state at its seq', async ({ skip }) => {
    if (browser === undefined) skip(why);
    const { page } = loaded;
    const g = await geometry(page);
    const index = g.timeline.slices.findIndex((s) => s.track === 'cpu/1' && s.cat === 'handler');
    const slice = g.timeline.slices[index]!;
    const p = screenPoint(g, slice);
    await page.mouse.click(p.x, p.y);
    expect(await page.evaluate(() => window.kprobesim!.selected)).toEqual({ kind: 'slice', index });
    expect(await page.locator('#selected-summary').textContent()).toContain(slice.name);
    // Its events: the first is the one that opens it, as the log has it.
    const first = page.locator('#selected-events li[data-seq]').first();
    expect(await first.getAttribute('data-seq')).toBe(String(slice.startSeq));
    expect(await first.locator('code').nth(1).textContent()).toBe(lines[slice.startSeq]);
    const last = page.locator('#selected-events li[data-seq]').last();
    expect(await last.getAttribute('data-seq')).toBe(String(slice.endSeq));
    // The state panel: the fold of the log up to that seq, computed in the page.
    const folded = (await foldLog(log, [], slice.startSeq)).state;
    expect(await page.locator('#state-json').textContent()).toBe(stateJson(folded));
    expect(await page.locator('#state-cpus tr[data-cpu="1"] td[data-field="status"]').textContent()).toBe(folded.cpus[1]!.status);
    expect(await page.locator('#state-cpus tr[data-cpu="1"] td[data-field="handler"]').textContent()).toContain('slow pre');
    expect(await page.locator('#slider').inputValue()).toBe(String(slice.startSeq));
  });

  it('the time slider moves through seqs, and the state panel follows the fold', async ({ skip }) => {
    if (browser === undefined) skip(why);
    const { page } = loaded;
    const slider = page.locator('#slider');
    let previous = await page.locator('#state-json').textContent();
    for (const seq of [700, 0, 1000]) {
      await slider.fill(String(seq));
      await page.evaluate(() => new Promise(requestAnimationFrame));
      const shown = await page.locator('#state-json').textContent();
      expect(shown).toBe(stateJson((await foldLog(log, [], seq)).state));
      expect(shown).not.toBe(previous);
      expect(await page.locator('#cursor-text').textContent()).toContain(`after seq ${seq}`);
      previous = shown;
    }
    // One step with the keyboard.
    await slider.focus();
    await page.keyboard.press('ArrowRight');
    await page.evaluate(() => new Promise(requestAnimationFrame));
    expect(await page.evaluate(() => window.kprobesim!.cursor)).toBe(1001);
    expect(await page.locator('#state-json').textContent()).toBe(stateJson((await foldLog(log, [], 1001)).state));
  });

  it("shows CPU 1 in the handler while CPU 0's unregister waits for it, with the flow between them (screenshot: docs/viewer.png)", async ({ skip }) => {
    if (browser === undefined) skip(why);
    const { page } = loaded;
    const g = await geometry(page);
    const { slices, flows } = g.timeline;
    const handler = slices.find((s) => s.track === 'cpu/1' && s.cat === 'handler' && s.name.includes('pre'))!;
    // CPU 0 runs rmmod, whose unregister_kprobe waits in the text-patch sync for CPU 1.
    const rmmod = g.timeline.tracks.find((t) => t.kind === 'task' && t.name.startsWith('rmmod'))!;
    const api = slices.find((s) => s.cat === 'api' && s.track === rmmod.id && s.name.startsWith('unregister_kprobe'))!;
    const wait = slices.find((s) => (s.cat === 'sync' || s.cat === 'gp') && s.track === rmmod.id && s.startSeq >= api.startSeq && s.endSeq <= api.endSeq)!;
    expect(wait).toBeDefined();
    expect(wait.startSeq).toBeGreaterThan(handler.startSeq);
    expect(wait.startSeq).toBeLessThan(handler.endSeq);
    // The arrow leaves CPU 0 (which runs rmmod) where the wait begins, and lands in the handler.
    const flow = flows.find((f: Flow) => f.cat === 'wait' && f.from.track === 'cpu/0' && f.from.seq === wait.startSeq && f.to.track === 'cpu/1');
    expect(flow, JSON.stringify(flows)).toBeDefined();
    expect(flow!.to.seq).toBeGreaterThanOrEqual(handler.startSeq);
    expect(flow!.to.seq).toBeLessThanOrEqual(handler.endSeq);
    // The wait ends after CPU 1 acknowledges, which it does once its handler is over.
    const release = flows.find((f: Flow) => f.cat === 'release' && f.from.track === 'cpu/1' && f.to.track === 'cpu/0');
    expect(release).toBeDefined();
    expect(release!.from.seq).toBeGreaterThan(handler.endSeq);

    // Select the wait: the panel shows the state as it begins.
    await page.evaluate(() => window.kprobesim!.setView!(500, 1000));
    await page.evaluate(() => window.kprobesim!.redraw!());
    const p = screenPoint(await geometry(page), wait);
    await page.mouse.click(p.x, p.y);
    const selected = await page.evaluate(() => window.kprobesim!.selected);
    expect(selected?.kind).toBe('slice');
    expect(slices[selected!.index]).toEqual(wait);
    const folded = (await foldLog(log, [], wait.startSeq)).state;
    expect(folded.sched.curr[0]).toBe(rmmod.pid);
    expect(folded.kprobes.calls[rmmod.pid!]?.fn).toBe('unregister_kprobe');
    expect(folded.cpus[1]!.handler?.probe).toBe('slow');
    expect(await page.locator('#state-json').textContent()).toBe(stateJson(folded));
    expect(await page.locator('#state-cpus tr[data-cpu="1"] td[data-field="status"]').textContent()).toBe('KPROBE_HIT_ACTIVE');
    expect(await page.locator('#state-waits').textContent()).toContain('waiting for CPU 1');
    await page.mouse.move(5, 5); // no tooltip in the picture
    await page.screenshot({ path: SCREENSHOT });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });

  it('the search box finds a probe, a task and an event type', async ({ skip }) => {
    if (browser === undefined) skip(why);
    const { page } = loaded;
    const seqsWith = (pred: (e: { type: string; pid?: number; probe?: string; probes?: string[] }) => boolean): number[] =>
      lines.slice(1, -1).flatMap((l, i) => (pred(JSON.parse(l) as never) ? [i + 1] : []));
    const cases: [query: string, matched: string, want: number[]][] = [
      ['kprobe.hit', 'type kprobe.hit', seqsWith((e) => e.type === 'kprobe.hit')],
      ['slow', 'probe slow', seqsWith((e) => e.probe === 'slow' || (e.probes ?? []).includes('slow'))],
      ['reader', 'task reader (101)', seqsWith((e) => e.pid === 101)],
    ];
    for (const [query, matched, want] of cases) {
      await page.locator('#search').fill(query);
      await page.locator('#search').press('Enter');
      expect(await page.locator('#search-summary').textContent()).toContain(matched);
      expect(await page.evaluate((q) => window.kprobesim!.search!(q).seqs, query)).toEqual(want);
      expect(await page.locator('#search-results li').count()).toBe(Math.min(want.length, 200));
    }
  });

  it('zooms and pans with the wheel, a drag and the keyboard', async ({ skip }) => {
    if (browser === undefined) skip(why);
    const { page } = loaded;
    const view = () => page.evaluate(() => ({ start: window.kprobesim!.view!.start, end: window.kprobesim!.view!.end }));
    await page.evaluate(() => window.kprobesim!.setView!(1, 1324));
    const g = await geometry(page);
    const mid = { x: g.canvas.left + g.view.width / 2, y: g.canvas.top + 120 };
    await page.mouse.move(mid.x, mid.y);
    await page.mouse.wheel(0, -400);
    const zoomed = await view();
    expect(zoomed.end - zoomed.start).toBeLessThan(1323 / 1.5);
    await page.mouse.move(mid.x, mid.y);
    await page.mouse.down();
    await page.mouse.move(mid.x - 200, mid.y, { steps: 5 });
    await page.mouse.up();
    const dragged = await view();
    expect(dragged.start).toBeGreaterThan(zoomed.start);
    expect(dragged.end - dragged.start).toBeCloseTo(zoomed.end - zoomed.start, 6);
    await page.keyboard.press('a');
    expect((await view()).start).toBeLessThan(dragged.start);
    await page.keyboard.press('w');
    const keyZoom = await view();
    expect(keyZoom.end - keyZoom.start).toBeLessThan(dragged.end - dragged.start);
    expect(loaded.errors).toEqual([]);
  });

  it('export --from/--to draws that window and still folds from seq 1', async ({ skip }) => {
    if (browser === undefined) skip(why);
    const out = join(dir, 'window.html');
    expect(cli('export', log, '--format', 'html', '--from', '500', '--to', '1000', '--out', out).trim()).toBe(out);
    const w = await open(out);
    const m = await w.page.evaluate(() => ({ first: window.kprobesim!.timeline!.firstSeq, last: window.kprobesim!.timeline!.lastSeq, min: (document.getElementById('slider') as HTMLInputElement).min, max: (document.getElementById('slider') as HTMLInputElement).max }));
    expect(m).toEqual({ first: 500, last: 1000, min: '499', max: '1000' });
    expect(await w.page.locator('#state-json').textContent()).toBe(stateJson((await foldLog(log, [], 1000)).state));
    expect(w.errors).toEqual([]);
    expect(w.requests).toEqual([]);
    await w.page.close();
  });
});
