/// <reference lib="dom" />
import type { LoggedEvent } from '../../model/events.ts';
import { initialState } from '../../model/initial.ts';
import type { KernelState } from '../../model/state.ts';
import { TimelineBuilder } from '../../timeline/index.ts';
import type { Timeline, Track } from '../../timeline/model.ts';
import { PAYLOAD_ELEMENT_ID, type ViewerPayload } from '../payload.ts';
import { fill, h } from './dom.ts';
import { History, inflate, LogLines } from './history.ts';
import { AXIS_H, CATEGORY_COLORS, INSTANT_H, LaneSet, Renderer, ROW_H, SEVERITY_COLORS, Viewport } from './lanes.ts';
import { renderSelection, renderState, type Selection } from './panel.ts';
import { search, type Known, type SearchResult } from './search.ts';
import { STYLE } from './style.ts';

// The viewer page: reads the log the HTML file carries, folds it once (keeping checkpoints for
// time travel) while the timeline builder of src/timeline makes the lanes, then draws. Its data
// model is on `window.kprobesim` for tests and for the curious (see the Viewer interface).

/** Events folded between two yields to the browser while loading (the page never freezes). */
const LOAD_CHUNK = 8192;

export interface Viewer {
  /** False until the log is folded and the lanes are drawn. */
  readonly ready: boolean;
  /** What stopped the page, if anything did. */
  readonly error: string | null;
  readonly payload: Omit<ViewerPayload, 'log'>;
  readonly timeline: Timeline;
  /** The lanes (tracks, then counters) with their lane-space y and height; see `layout`. */
  readonly lanes: LaneSet['lanes'];
  readonly layout: { readonly AXIS_H: number; readonly ROW_H: number; readonly INSTANT_H: number };
  /** Which seqs the canvas spans ([start, end), fractional) and how far the lanes are scrolled. */
  readonly view: Viewport;
  readonly canvas: HTMLCanvasElement;
  /** The number of events in the page's log (seqs 1 … events). */
  readonly events: number;
  event(seq: number): LoggedEvent;
  /** The folded kernel state after `seq` (0: the initial state). */
  stateAt(seq: number): KernelState;
  /** The seq whose state the panel shows. */
  readonly cursor: number;
  setCursor(seq: number): void;
  readonly selected: Selection | null;
  select(sel: Selection | null): void;
  /** Shows seqs [start, end) across the canvas. */
  setView(start: number, end: number): void;
  /** Where a slice or instant is drawn, in client (page) coordinates. */
  clientRect(sel: { kind: 'slice' | 'instant'; index: number }): DOMRect | null;
  search(query: string): SearchResult;
  /** Indexes in timeline.instants of the bugs and violations. */
  readonly findings: readonly number[];
  /** Draws now (it is otherwise done on the next animation frame). */
  redraw(): void;
}

declare global {
  interface Window {
    kprobesim?: Partial<Viewer> & { ready: boolean; error: string | null };
  }
}

function yieldToBrowser(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(null);
  });
}

async function start(): Promise<void> {
  const status: { ready: boolean; error: string | null } = { ready: false, error: null };
  window.kprobesim = status;
  document.head.append(h('style', null, STYLE));
  const progress = h('progress', { max: '1', value: '0' });
  const loadingText = h('div', null, 'Reading the log…');
  const loading = h('div', { id: 'loading', role: 'status' }, loadingText, progress);
  document.body.append(loading);
  try {
    const el = document.getElementById(PAYLOAD_ELEMENT_ID);
    if (el === null) throw new Error(`no #${PAYLOAD_ELEMENT_ID} element: this is not a kprobesim viewer file`);
    const payload = JSON.parse(el.textContent ?? '') as ViewerPayload;
    const lines = new LogLines(await inflate(payload.log, yieldToBrowser));
    const { log: _log, ...meta } = payload;
    el.remove();
    loadingText.textContent = `Folding ${lines.count} events…`;
    const initial = initialState(payload.scenario);
    const history = new History(lines, initial);
    const builder = new TimelineBuilder(payload.header, payload.scenario, { from: payload.from, to: payload.to });
    // Every task of the run, for the search box (a task that exited is no longer in the state).
    const tasks = new Map<number, string>(initial.tasks.map((t) => [t.pid, t.comm]));
    for (let seq = 1; seq <= lines.count; seq++) {
      const e = lines.event(seq);
      // The builder folds the log (its tracks follow the state): the checkpoints are its states.
      builder.push(e);
      history.record(seq, builder.state);
      if (e.type === 'task.fork') tasks.set(e.child, e.comm);
      else if (e.type === 'task.exec') tasks.set(e.pid, e.comm);
      if (seq % LOAD_CHUNK === 0) {
        progress.value = seq / lines.count;
        await yieldToBrowser();
      }
    }
    loadingText.textContent = 'Laying out the lanes…';
    await yieldToBrowser();
    const timeline = builder.finish();
    await yieldToBrowser();
    // A probe stays in the state's probe table once defined (a session's too), registered or not.
    const app = new App(meta, timeline, lines, history, { probes: Object.keys(builder.state.kprobes.probes), tasks });
    await yieldToBrowser();
    // Descriptors, not values: `cursor` and `selected` are getters.
    Object.defineProperties(status, Object.getOwnPropertyDescriptors(app.api()));
    loading.remove();
    app.redraw();
    status.ready = true;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    status.error = message;
    fill(loading, h('div', { id: 'fatal' }, `This page could not show the log: ${message}`));
    throw e;
  }
}

class App {
  private readonly view = new Viewport();
  private readonly set: LaneSet;
  private readonly renderer: Renderer;
  private readonly canvas = h('canvas', { id: 'lanes-canvas', tabindex: '0', 'aria-label': 'swimlanes: drag to pan, wheel to zoom' });
  private readonly labels = h('div', { id: 'labels', 'aria-label': 'lanes' });
  private readonly tooltip = h('div', { id: 'tooltip' });
  private readonly slider = h('input', { id: 'slider', type: 'range', 'aria-label': 'time travel: the seq whose state is shown' });
  private readonly seqInput = h('input', { id: 'seq-input', type: 'number', 'aria-label': 'seq' });
  private readonly cursorText = h('span', { id: 'cursor-text' });
  private readonly selectedBox = h('section', { id: 'selected', 'aria-live': 'polite' });
  private readonly stateBox = h('section', { id: 'state', 'aria-label': 'kernel state at the cursor' });
  private readonly findingsBox = h('section', { id: 'findings' });
  private readonly searchBox = h('section', { id: 'search-results' });
  private readonly searchInput = h('input', { id: 'search', type: 'search', placeholder: 'search: probe, task or event type', 'aria-label': 'search' });
  private readonly tracks: ReadonlyMap<string, Track>;
  private readonly findings: readonly number[];
  private cursor: number;
  private selected: Selection | null = null;
  private hits: Float64Array = new Float64Array(0);
  private frame = 0;
  private stateFrame = 0;
  private labelsKey = '';

  constructor(
    private readonly payload: Omit<ViewerPayload, 'log'>,
    private readonly timeline: Timeline,
    private readonly lines: LogLines,
    private readonly history: History,
    private readonly known: Known,
  ) {
    this.set = new LaneSet(timeline);
    this.renderer = new Renderer(this.set, this.view);
    this.tracks = new Map(timeline.tracks.map((t) => [t.id, t]));
    this.findings = Array.from(this.set.majorIds);
    this.cursor = payload.to;
    this.view.start = payload.from;
    this.view.end = payload.to + 1;
    this.build();
    this.renderSelection();
    this.renderState();
  }

  api(): Viewer {
    const app = this;
    return {
      ready: true,
      error: null,
      payload: this.payload,
      timeline: this.timeline,
      lanes: this.set.lanes,
      layout: { AXIS_H, ROW_H, INSTANT_H },
      view: this.view,
      canvas: this.canvas,
      events: this.lines.count,
      event: (seq) => this.lines.event(seq),
      stateAt: (seq) => this.history.stateAt(seq),
      get cursor() {
        return app.cursor;
      },
      setCursor: (seq) => this.setCursor(seq),
      get selected() {
        return app.selected;
      },
      select: (sel) => this.select(sel),
      setView: (a, b) => this.setView(a, b),
      clientRect: (sel) => {
        const r = this.renderer.rectOf(sel);
        if (r === null) return null;
        const c = this.canvas.getBoundingClientRect();
        return new DOMRect(c.left + r.x, c.top + r.y, r.width, r.height);
      },
      search: (q) => this.runSearch(q),
      findings: this.findings,
      redraw: () => this.redraw(),
    };
  }

  private build(): void {
    const p = this.payload;
    const legend = h(
      'div',
      { id: 'legend', 'aria-label': 'legend' },
      ...Object.entries(CATEGORY_COLORS).map(([cat, color]) => h('span', null, h('i', { style: `background:${color}` }), cat)),
      ...Object.entries(SEVERITY_COLORS).map(([sev, color]) => h('span', null, h('i', { class: 'diamond', style: `background:${color}` }), sev)),
      h('span', null, h('i', { class: 'line', style: 'background:#d35400' }), 'waits for'),
      h('span', null, h('i', { class: 'line', style: 'background:#2e8b57' }), 'released by'),
      h('span', null, h('i', { class: 'line', style: 'background:#1f6feb' }), 'cursor'),
    );
    const header = h(
      'header',
      null,
      h('h1', null, `kprobesim: ${p.scenario.name} `, h('span', { class: 'dim' }, `${p.file} · seed ${p.header.seed} · ${p.header.cpus} CPUs · seqs ${p.from}–${p.to}${p.partial ? ' · interrupted run' : ''}`)),
      this.searchInput,
      legend,
    );
    const canvasBox = h('div', { id: 'canvas-box' }, this.canvas, this.tooltip);
    const lanes = h('div', { id: 'lanes' }, this.labels, canvasBox);
    this.slider.min = String(Math.max(0, p.from - 1));
    this.slider.max = String(p.to);
    this.slider.value = String(this.cursor);
    this.seqInput.min = this.slider.min;
    this.seqInput.max = this.slider.max;
    const timebar = h(
      'div',
      { id: 'timebar' },
      h('label', { for: 'slider' }, 'seq'),
      this.slider,
      this.seqInput,
      this.cursorText,
      h('span', { class: 'dim' }, h('kbd', null, 'wheel'), ' zoom · ', h('kbd', null, 'drag'), ' pan · ', h('kbd', null, 'W'), h('kbd', null, 'S'), h('kbd', null, 'A'), h('kbd', null, 'D'), ' · ', h('kbd', null, ','), h('kbd', null, '.'), ' step'),
    );
    const panel = h('aside', { id: 'panel' }, this.selectedBox, this.findingsBox, this.searchBox, this.stateBox);
    document.body.append(h('div', { id: 'app' }, header, lanes, timebar, panel));
    this.renderFindings();
    this.wire(canvasBox);
  }

  private wire(box: HTMLElement): void {
    new ResizeObserver(() => this.resize(box)).observe(box);
    this.resize(box);
    const c = this.canvas;
    let drag: { x: number; y: number; start: number; end: number; scrollY: number; moved: boolean } | null = null;
    c.addEventListener('mousedown', (ev) => {
      drag = { x: ev.clientX, y: ev.clientY, start: this.view.start, end: this.view.end, scrollY: this.view.scrollY, moved: false };
      c.classList.add('dragging');
      c.focus();
    });
    window.addEventListener('mousemove', (ev) => {
      if (drag === null) return this.hover(ev);
      const dx = ev.clientX - drag.x;
      const dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (!drag.moved) return;
      const perPx = (drag.end - drag.start) / this.view.width;
      this.setView(drag.start - dx * perPx, drag.end - dx * perPx, drag.scrollY - dy);
    });
    window.addEventListener('mouseup', (ev) => {
      if (drag === null) return;
      const click = !drag.moved;
      drag = null;
      c.classList.remove('dragging');
      if (click && ev.target === c) {
        const r = c.getBoundingClientRect();
        const hit = this.renderer.pick(ev.clientX - r.left, ev.clientY - r.top);
        if (hit !== null) this.select(hit);
      }
    });
    c.addEventListener(
      'wheel',
      (ev) => {
        ev.preventDefault();
        const unit = ev.deltaMode === 1 ? 16 : ev.deltaMode === 2 ? this.view.height : 1;
        const dx = ev.deltaX * unit;
        const dy = ev.deltaY * unit;
        if (ev.shiftKey) return this.setView(this.view.start, this.view.end, this.view.scrollY + (dy || dx));
        if (Math.abs(dx) > Math.abs(dy)) return this.pan(dx);
        this.zoom(Math.exp(dy * 0.002), ev.clientX - c.getBoundingClientRect().left);
      },
      { passive: false },
    );
    c.addEventListener('mouseleave', () => (this.tooltip.style.display = 'none'));
    document.addEventListener('keydown', (ev) => this.key(ev));
    this.slider.addEventListener('input', () => this.setCursor(Number(this.slider.value), false));
    this.seqInput.addEventListener('change', () => this.setCursor(Number(this.seqInput.value)));
    this.searchInput.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') this.runSearch(this.searchInput.value);
      if (ev.key === 'Escape') this.searchInput.blur();
    });
  }

  private key(ev: KeyboardEvent): void {
    const t = ev.target as HTMLElement | null;
    if (t !== null && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA') && t !== this.slider) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const w = this.view.width;
    const actions: Record<string, () => void> = {
      w: () => this.zoom(0.8, w / 2),
      '+': () => this.zoom(0.8, w / 2),
      '=': () => this.zoom(0.8, w / 2),
      s: () => this.zoom(1.25, w / 2),
      '-': () => this.zoom(1.25, w / 2),
      a: () => this.pan(-w / 8),
      ArrowLeft: () => this.pan(-w / 8),
      d: () => this.pan(w / 8),
      ArrowRight: () => this.pan(w / 8),
      ArrowUp: () => this.setView(this.view.start, this.view.end, this.view.scrollY - 40),
      ArrowDown: () => this.setView(this.view.start, this.view.end, this.view.scrollY + 40),
      Home: () => this.setView(this.payload.from, this.payload.to + 1),
      '0': () => this.setView(this.payload.from, this.payload.to + 1),
      ',': () => this.setCursor(this.cursor - 1),
      '.': () => this.setCursor(this.cursor + 1),
      n: () => this.stepFinding(1),
      p: () => this.stepFinding(-1),
      '/': () => this.searchInput.focus(),
      Escape: () => this.select(null),
    };
    const act = actions[ev.key.length === 1 ? ev.key.toLowerCase() : ev.key] ?? actions[ev.key];
    if (act === undefined || (t === this.slider && ev.key.startsWith('Arrow'))) return;
    ev.preventDefault();
    act();
  }

  private resize(box: HTMLElement): void {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, box.clientWidth);
    const hgt = Math.max(1, box.clientHeight);
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(hgt * dpr);
    this.view.width = w;
    this.view.height = hgt;
    this.redraw();
  }

  private zoom(factor: number, atX: number): void {
    const v = this.view;
    const at = v.seqAt(atX);
    this.setView(at - (at - v.start) * factor, at + (v.end - at) * factor);
  }

  private pan(dxPixels: number): void {
    const perPx = (this.view.end - this.view.start) / this.view.width;
    this.setView(this.view.start + dxPixels * perPx, this.view.end + dxPixels * perPx);
  }

  setView(start: number, end: number, scrollY = this.view.scrollY): void {
    const lo = this.payload.from;
    const hi = this.payload.to + 1;
    const full = hi - lo;
    let span = Math.min(Math.max(end - start, Math.min(8, full)), full * 1.1);
    if (!Number.isFinite(span) || span <= 0) span = full;
    let a = Number.isFinite(start) ? start : lo;
    a = Math.min(Math.max(a, lo - full * 0.05), hi + full * 0.05 - span);
    this.view.start = a;
    this.view.end = a + span;
    this.view.scrollY = Math.max(0, Math.min(scrollY, this.set.height - (this.view.height - AXIS_H) + 20));
    this.invalidate();
  }

  private invalidate(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.redraw();
    });
  }

  redraw(): void {
    if (this.frame !== 0) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    const ctx = this.canvas.getContext('2d');
    if (ctx === null) return;
    const dpr = this.canvas.width / Math.max(1, this.view.width);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.renderer.draw(ctx, { cursor: this.cursor, selected: this.selected?.kind === 'event' ? null : (this.selected as { kind: 'slice' | 'instant'; index: number } | null), hits: this.hits });
    this.renderLabels();
  }

  /** The DOM labels of the lanes in sight ("CPU 0", …), placed beside their lanes. */
  private renderLabels(): void {
    const v = this.view;
    const key = `${v.scrollY}:${v.height}`;
    if (key === this.labelsKey) return;
    this.labelsKey = key;
    const divs: HTMLElement[] = [h('div', { style: `top:0;height:${AXIS_H}px;border:none`, class: 'dim' }, 'seq →')];
    for (const lane of this.set.lanes) {
      const top = v.yOf(lane.y);
      if (top + lane.height < AXIS_H || top > v.height) continue;
      const cls = lane.kind === 'counter' ? 'counter' : (lane.track?.kind ?? '');
      divs.push(h('div', { class: cls, 'data-lane': lane.id, style: `top:${top}px;height:${lane.height}px`, title: lane.label }, lane.label));
    }
    this.labels.replaceChildren(...divs);
  }

  private hover(ev: MouseEvent): void {
    if (ev.target !== this.canvas) return;
    const r = this.canvas.getBoundingClientRect();
    const x = ev.clientX - r.left;
    const y = ev.clientY - r.top;
    const hit = this.renderer.pick(x, y);
    const seq = Math.floor(this.view.seqAt(x));
    let text = `seq ${seq}${seq >= this.timeline.firstSeq && seq <= this.timeline.lastSeq ? ` · t ${this.timeline.times[seq - this.timeline.firstSeq]}` : ''}`;
    if (hit?.kind === 'slice') {
      const s = this.timeline.slices[hit.index]!;
      text = `${s.name} (${s.cat})\nseq ${s.startSeq}–${s.endSeq}`;
    } else if (hit?.kind === 'instant') {
      const i = this.timeline.instants[hit.index]!;
      text = `${i.severity}: ${i.name}\nseq ${i.seq}`;
    }
    this.tooltip.textContent = text;
    this.tooltip.style.display = 'block';
    this.tooltip.style.left = `${Math.min(x + 12, this.view.width - 160)}px`;
    this.tooltip.style.top = `${y + 14}px`;
  }

  setCursor(seq: number, moveSlider = true): void {
    if (!Number.isFinite(seq)) return;
    const lo = Math.max(0, this.payload.from - 1);
    const s = Math.max(lo, Math.min(this.payload.to, Math.round(seq)));
    this.cursor = s;
    if (moveSlider) this.slider.value = String(s);
    this.seqInput.value = String(s);
    // Keep the cursor in sight.
    const v = this.view;
    if (s + 0.5 < v.start || s + 0.5 > v.end) {
      const span = v.end - v.start;
      this.setView(s + 0.5 - span / 2, s + 0.5 + span / 2);
    }
    this.invalidate();
    if (this.stateFrame === 0) {
      this.stateFrame = requestAnimationFrame(() => {
        this.stateFrame = 0;
        this.renderState();
      });
    }
  }

  private renderState(): void {
    if (this.stateFrame !== 0) {
      cancelAnimationFrame(this.stateFrame);
      this.stateFrame = 0;
    }
    const state = this.history.stateAt(this.cursor);
    this.cursorText.textContent = `state after seq ${this.cursor} (t ${state.t})`;
    this.seqInput.value = String(this.cursor);
    renderState(this.stateBox, state, this.cursor);
  }

  /** Selects an item and moves the cursor to its seq (a slice's first): the panel shows both now. */
  select(sel: Selection | null): void {
    this.selected = sel;
    this.renderSelection();
    if (sel !== null) {
      const seq = sel.kind === 'slice' ? this.timeline.slices[sel.index]!.startSeq : sel.kind === 'instant' ? this.timeline.instants[sel.index]!.seq : sel.index;
      this.setCursor(seq);
      this.renderState();
    }
    this.redraw();
  }

  private renderSelection(): void {
    renderSelection(this.selectedBox, this.selected, { slices: this.timeline.slices, instants: this.timeline.instants, tracks: this.tracks, lines: this.lines });
  }

  private renderFindings(): void {
    const inst = this.timeline.instants;
    const counts = new Map<string, number>();
    for (const x of inst) counts.set(x.severity, (counts.get(x.severity) ?? 0) + 1);
    const summary = [...counts].filter(([sev]) => sev !== 'info').map(([sev, n]) => `${n} ${sev}`).join(', ');
    const shown = this.findings.slice(0, 200);
    fill(this.findingsBox, 
      h('h2', null, 'Failures and violations'),
      this.findings.length === 0 ? h('p', { class: 'dim' }, `None in this run${summary === '' ? '' : ` (instants: ${summary})`}.`) : h('p', { class: 'dim' }, `${summary}. `, h('kbd', null, 'N'), ' / ', h('kbd', null, 'P'), ' step through them.'),
      shown.length > 0 &&
        h(
          'ol',
          null,
          ...shown.map((i) => {
            const x = inst[i]!;
            const b = h('button', { class: 'link' }, `seq ${x.seq} · ${x.severity} · ${x.name} · ${this.tracks.get(x.track)?.name ?? x.track}`);
            b.addEventListener('click', () => this.select({ kind: 'instant', index: i }));
            return h('li', { class: x.severity }, b);
          }),
        ),
    );
  }

  private stepFinding(dir: 1 | -1): void {
    const inst = this.timeline.instants;
    const seqs = this.findings.map((i) => inst[i]!.seq);
    const i = dir === 1 ? seqs.findIndex((s) => s > this.cursor) : seqs.findLastIndex((s) => s < this.cursor);
    if (i !== -1) this.select({ kind: 'instant', index: this.findings[i]! });
  }

  runSearch(query: string): SearchResult {
    const r = search(query, this.lines, this.known);
    this.hits = Float64Array.from(r.seqs);
    const items = r.seqs.slice(0, 200).map((seq) => {
      const e = this.lines.event(seq);
      const b = h('button', { class: 'link' }, `seq ${seq} · ${e.type} · ${e.src}`);
      b.addEventListener('click', () => this.select({ kind: 'event', index: seq }));
      return h('li', null, b);
    });
    fill(this.searchBox, 
      ...(query.trim() === ''
        ? []
        : [
            h('h2', null, `Search “${query.trim()}”`),
            h('p', { class: 'dim', id: 'search-summary' }, r.matched.length === 0 ? 'Nothing matches: try a probe name, a task (comm or pid) or an event type such as kprobe.miss.' : `${r.seqs.length}${r.capped ? '+' : ''} events: ${r.matched.slice(0, 8).join(', ')}${r.matched.length > 8 ? ', …' : ''}`),
            h('ol', null, ...items),
          ]),
    );
    this.redraw();
    return r;
  }
}

start().catch((e: unknown) => {
  console.error(e);
});
