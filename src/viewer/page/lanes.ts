/// <reference lib="dom" />
import type { CounterSeries, Instant, Slice, Timeline, Track } from '../../timeline/model.ts';

// The swimlanes: one lane per track of the timeline model (CPUs first, in the model's order),
// then one per counter series. Slices of a track nest properly, so those of one depth never
// overlap: each depth is indexed as sorted arrays and a frame draws only what the window shows,
// at most one mark per pixel column, whatever the number of slices.

export const AXIS_H = 30;
export const ROW_H = 18;
/** The strip under a lane's slices where its instants (misses, bugs, violations…) are drawn. */
export const INSTANT_H = 12;
export const LANE_GAP = 6;
export const COUNTER_H = 36;

/** Slice categories of the timeline model (src/timeline/model.ts), and their colours. */
export const CATEGORY_COLORS: Readonly<Record<string, string>> = {
  task: '#b7cbe0',
  call: '#8fb9a8',
  kprobe: '#e5c07b',
  handler: '#e06c75',
  singlestep: '#c678dd',
  kretprobe: '#56b6c2',
  irq: '#d19a66',
  api: '#61afef',
  mutex: '#98c379',
  sync: '#f39c4a',
  gp: '#b48ead',
};
export const SEVERITY_COLORS: Readonly<Record<string, string>> = {
  info: '#7f8c8d',
  miss: '#e67e22',
  warn: '#d4ac0d',
  bug: '#c0392b',
  violation: '#8e44ad',
};
/** Instants that are failures: drawn across every lane and listed as findings. */
export const MAJOR_SEVERITIES: ReadonlySet<string> = new Set(['bug', 'violation']);

export function colorOf(cat: string): string {
  const known = CATEGORY_COLORS[cat];
  if (known !== undefined) return known;
  let h = 0;
  for (let i = 0; i < cat.length; i++) h = (h * 31 + cat.charCodeAt(i)) % 360;
  return `hsl(${h}, 45%, 65%)`;
}

export interface Lane {
  readonly kind: 'track' | 'counter';
  /** The track's id, or the counter series' id. */
  readonly id: string;
  /** What the lane's DOM label says: the track's or the series' name ("CPU 0", "slow hits"). */
  readonly label: string;
  /** Top of the lane, in lane coordinates (0 is just under the axis, before scrolling). */
  readonly y: number;
  readonly height: number;
  /** Slice rows (the track's deepest depth + 1); 0 for a counter lane. */
  readonly rows: number;
  readonly track?: Track;
  readonly counter?: CounterSeries;
}

/** The slices of one depth of one track, sorted by start (and so by end), as typed arrays. */
interface DepthIndex {
  readonly starts: Float64Array;
  readonly ends: Float64Array;
  /** Index of each in timeline.slices. */
  readonly ids: Int32Array;
}

interface TrackIndex {
  readonly lane: Lane;
  readonly depths: readonly DepthIndex[];
  /** The track's instants: seqs sorted, and their indexes in timeline.instants. */
  readonly instantSeqs: Float64Array;
  readonly instantIds: Int32Array;
}

/** First i in [lo, a.length) with a[i] >= x (a sorted ascending). */
export function lowerBound(a: ArrayLike<number>, x: number, lo = 0): number {
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function depthIndex(ids: number[], slices: readonly Slice[]): DepthIndex {
  const starts = new Float64Array(ids.length);
  const ends = new Float64Array(ids.length);
  ids.sort((a, b) => slices[a]!.startSeq - slices[b]!.startSeq);
  for (let i = 0; i < ids.length; i++) {
    starts[i] = slices[ids[i]!]!.startSeq;
    ends[i] = slices[ids[i]!]!.endSeq;
  }
  return { starts, ends, ids: Int32Array.from(ids) };
}

/** The lanes' layout and the indexes that draw and hit-test them. */
export class LaneSet {
  readonly lanes: readonly Lane[];
  readonly height: number;
  private readonly tracks = new Map<string, TrackIndex>();
  private readonly counters = new Map<string, { readonly seqs: Float64Array; readonly values: Float64Array; readonly max: number }>();
  /** Seqs of the bug and violation instants, sorted, with their indexes. */
  readonly majorSeqs: Float64Array;
  readonly majorIds: Int32Array;

  constructor(readonly timeline: Timeline) {
    const perTrack = new Map<string, number[][]>();
    timeline.slices.forEach((s, i) => {
      let depths = perTrack.get(s.track);
      if (depths === undefined) perTrack.set(s.track, (depths = []));
      (depths[s.depth] ??= []).push(i);
    });
    const instantsOf = new Map<string, number[]>();
    const major: number[] = [];
    timeline.instants.forEach((x, i) => {
      let list = instantsOf.get(x.track);
      if (list === undefined) instantsOf.set(x.track, (list = []));
      list.push(i);
      if (MAJOR_SEVERITIES.has(x.severity)) major.push(i);
    });
    this.majorIds = Int32Array.from(major);
    this.majorSeqs = Float64Array.from(major, (i) => timeline.instants[i]!.seq);
    const lanes: Lane[] = [];
    let y = 0;
    for (const track of [...timeline.tracks].sort((a, b) => a.order - b.order)) {
      const depths = perTrack.get(track.id) ?? [];
      const rows = Math.max(1, depths.length);
      const lane: Lane = { kind: 'track', id: track.id, label: track.name, y, height: rows * ROW_H + INSTANT_H, rows, track };
      lanes.push(lane);
      y += lane.height + LANE_GAP;
      const inst = instantsOf.get(track.id) ?? [];
      this.tracks.set(track.id, {
        lane,
        depths: Array.from({ length: depths.length }, (_, d) => depthIndex(depths[d] ?? [], timeline.slices)),
        instantIds: Int32Array.from(inst),
        instantSeqs: Float64Array.from(inst, (i) => timeline.instants[i]!.seq),
      });
    }
    for (const counter of timeline.counters) {
      const values = Float64Array.from(counter.points, (p) => p.value);
      this.counters.set(counter.id, { seqs: Float64Array.from(counter.points, (p) => p.seq), values, max: values.reduce((m, v) => Math.max(m, v), 0) });
      lanes.push({ kind: 'counter', id: counter.id, label: counter.name, y, height: COUNTER_H, rows: 0, counter });
      y += COUNTER_H + LANE_GAP;
    }
    this.lanes = lanes;
    this.height = y;
  }

  laneOf(trackId: string): Lane | undefined {
    return this.tracks.get(trackId)?.lane;
  }

  /** The slice of `trackId` at `depth` containing `seq`, as an index into timeline.slices, or -1. */
  sliceAt(trackId: string, depth: number, seq: number): number {
    const d = this.tracks.get(trackId)?.depths[depth];
    if (d === undefined) return -1;
    const i = lowerBound(d.starts, Math.floor(seq) + 1) - 1;
    return i >= 0 && d.ends[i]! >= Math.floor(seq) ? d.ids[i]! : -1;
  }

  /** The innermost slice of `trackId` containing `seq`, or -1. */
  innermostAt(trackId: string, seq: number): number {
    const t = this.tracks.get(trackId);
    if (t === undefined) return -1;
    for (let depth = t.depths.length - 1; depth >= 0; depth--) {
      const i = this.sliceAt(trackId, depth, seq);
      if (i !== -1) return i;
    }
    return -1;
  }

  /** A counter series' points as arrays, and its largest value. */
  counterOf(id: string): { readonly seqs: Float64Array; readonly values: Float64Array; readonly max: number } | undefined {
    return this.counters.get(id);
  }

  /** For drawing and hit-testing: the track's index (undefined for a counter lane). */
  indexOf(trackId: string): TrackIndex | undefined {
    return this.tracks.get(trackId);
  }
}

/** The window on the lanes: which seqs are across the canvas, and how far the lanes are scrolled. */
export class Viewport {
  /** Left and right edges of the canvas, in seqs (fractional): seq s spans [s, s + 1). */
  start = 0;
  end = 1;
  /** CSS pixels. */
  width = 1;
  height = 1;
  scrollY = 0;

  xOf(seq: number): number {
    return ((seq - this.start) * this.width) / (this.end - this.start);
  }

  seqAt(x: number): number {
    return this.start + (x * (this.end - this.start)) / this.width;
  }

  /** Screen y (canvas coordinates) of a lane-space y. */
  yOf(laneY: number): number {
    return AXIS_H + laneY - this.scrollY;
  }
}

export interface Marks {
  /** The state panel's seq: a vertical line. */
  readonly cursor: number;
  readonly selected: { readonly kind: 'slice' | 'instant'; readonly index: number } | null;
  /** Seqs the search found, sorted: ticks on the axis. */
  readonly hits: Float64Array;
}

/** Ticks every 1, 2 or 5 × 10^k seqs, at least `px` pixels apart. */
function tickStep(view: Viewport, px: number): number {
  const raw = ((view.end - view.start) * px) / view.width;
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

export class Renderer {
  constructor(
    private readonly set: LaneSet,
    private readonly view: Viewport,
  ) {}

  draw(ctx: CanvasRenderingContext2D, marks: Marks): void {
    const { view, set } = this;
    ctx.clearRect(0, 0, view.width, view.height);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, AXIS_H, view.width, view.height - AXIS_H);
    ctx.clip();
    for (const lane of set.lanes) {
      const top = view.yOf(lane.y);
      if (top > view.height || top + lane.height < AXIS_H) continue;
      ctx.fillStyle = lane.kind === 'counter' ? '#f7f7f2' : '#fbfbfb';
      ctx.fillRect(0, top, view.width, lane.height);
      if (lane.kind === 'counter') this.drawCounter(ctx, lane, top);
      else this.drawTrack(ctx, lane, top);
    }
    this.drawMajor(ctx);
    this.drawFlows(ctx, marks);
    this.drawSelection(ctx, marks);
    ctx.restore();
    this.drawAxis(ctx, marks);
    // The cursor: the state panel shows the state after this seq.
    const cx = Math.round(view.xOf(marks.cursor + 0.5)) + 0.5;
    if (cx >= 0 && cx <= view.width) {
      ctx.strokeStyle = '#1f6feb';
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(cx, 0);
      ctx.lineTo(cx, view.height);
      ctx.stroke();
    }
  }

  private drawTrack(ctx: CanvasRenderingContext2D, lane: Lane, top: number): void {
    const { view, set } = this;
    const slices = set.timeline.slices;
    const t = set.indexOf(lane.id)!;
    for (let depth = 0; depth < t.depths.length; depth++) {
      const d = t.depths[depth]!;
      const y = top + depth * ROW_H;
      if (y > view.height || y + ROW_H < AXIS_H) continue;
      // The first slice that ends at or after the window's left edge.
      let i = lowerBound(d.ends, Math.floor(view.start));
      while (i < d.starts.length && d.starts[i]! < view.end) {
        const x0 = view.xOf(d.starts[i]!);
        const x1 = view.xOf(d.ends[i]! + 1);
        const s = slices[d.ids[i]!]!;
        ctx.fillStyle = colorOf(s.cat);
        if (x1 - x0 < 2) {
          // Narrower than two pixels: one mark for this pixel column, then the next column.
          const px = Math.floor(x0);
          ctx.fillRect(px, y + 1, 1, ROW_H - 2);
          // The next slice that reaches into the next column (one that starts in this column
          // but is wider is drawn in full).
          i = Math.max(i + 1, lowerBound(d.ends, Math.floor(view.seqAt(px + 1)), i + 1));
          continue;
        }
        const left = Math.max(x0, -1);
        const right = Math.min(x1, view.width + 1);
        ctx.fillRect(left, y + 1, right - left - 1, ROW_H - 2);
        if (right - left > 24) {
          ctx.fillStyle = '#1d1d1d';
          const text = s.name;
          const room = right - left - 6;
          ctx.fillText(fit(ctx, text, room), left + 3, y + ROW_H / 2, room);
        }
        i++;
      }
    }
    // Instants, in the strip under the slices: one per pixel column, the most severe drawn last.
    const yi = top + lane.rows * ROW_H + INSTANT_H / 2;
    if (yi < AXIS_H || yi > view.height + INSTANT_H) return;
    const instants = set.timeline.instants;
    let i = lowerBound(t.instantSeqs, Math.floor(view.start));
    while (i < t.instantSeqs.length && t.instantSeqs[i]! < view.end) {
      const x = view.xOf(t.instantSeqs[i]! + 0.5);
      const inst = instants[t.instantIds[i]!]!;
      diamond(ctx, x, yi, 4, SEVERITY_COLORS[inst.severity] ?? '#555');
      i = Math.max(i + 1, lowerBound(t.instantSeqs, view.seqAt(Math.floor(x) + 2) - 0.5, i + 1));
    }
  }

  private drawCounter(ctx: CanvasRenderingContext2D, lane: Lane, top: number): void {
    const { view } = this;
    const { seqs, values, max } = this.set.counterOf(lane.id)!;
    if (seqs.length === 0) return;
    const scale = (COUNTER_H - 12) / Math.max(max, 1);
    const base = top + COUNTER_H - 2;
    // Per pixel column: up to the lowest value the column covers in full colour, and on to the
    // highest in a lighter one, so that neither a dip nor a peak hides when zoomed out.
    let j = lowerBound(seqs, Math.floor(view.start) + 1) - 1;
    for (let px = 0; px < view.width; px++) {
      const to = view.seqAt(px + 1);
      let lo = j >= 0 ? values[j]! : 0;
      let hi = lo;
      while (j + 1 < seqs.length && seqs[j + 1]! < to) {
        j++;
        lo = Math.min(lo, values[j]!);
        hi = Math.max(hi, values[j]!);
      }
      if (lo > 0) {
        ctx.fillStyle = '#6c8ebf';
        ctx.fillRect(px, base - lo * scale, 1, lo * scale);
      }
      if (hi > lo) {
        ctx.fillStyle = '#b9cbe6';
        ctx.fillRect(px, base - hi * scale, 1, (hi - lo) * scale);
      }
    }
    ctx.fillStyle = '#444';
    ctx.fillText(`max ${max}`, view.width - 60, top + 8);
  }

  /** Bugs and violations: a band across every lane, so they are seen from any scroll position. */
  private drawMajor(ctx: CanvasRenderingContext2D): void {
    const { view, set } = this;
    let i = lowerBound(set.majorSeqs, Math.floor(view.start));
    while (i < set.majorSeqs.length && set.majorSeqs[i]! < view.end) {
      const inst = set.timeline.instants[set.majorIds[i]!]!;
      const x = view.xOf(set.majorSeqs[i]! + 0.5);
      ctx.fillStyle = inst.severity === 'violation' ? 'rgba(142, 68, 173, 0.25)' : 'rgba(192, 57, 43, 0.25)';
      ctx.fillRect(Math.floor(x) - 1, AXIS_H, 3, view.height);
      i = Math.max(i + 1, lowerBound(set.majorSeqs, view.seqAt(Math.floor(x) + 3), i + 1));
    }
  }

  /** Where a flow's end sits: its seq's middle, on the innermost slice of the track there. */
  pointOf(end: { readonly track: string; readonly seq: number }): { x: number; y: number } | null {
    const lane = this.set.laneOf(end.track);
    if (lane === undefined) return null;
    const inner = this.set.innermostAt(end.track, end.seq);
    const depth = inner === -1 ? 0 : this.set.timeline.slices[inner]!.depth;
    return { x: this.view.xOf(end.seq + 0.5), y: this.view.yOf(lane.y) + depth * ROW_H + ROW_H / 2 };
  }

  private drawFlows(ctx: CanvasRenderingContext2D, marks: Marks): void {
    const { view, set } = this;
    const sel = marks.selected?.kind === 'slice' ? set.timeline.slices[marks.selected.index] : undefined;
    for (const f of set.timeline.flows) {
      const lo = Math.min(f.from.seq, f.to.seq);
      const hi = Math.max(f.from.seq, f.to.seq);
      if (hi + 1 < view.start || lo > view.end) continue;
      const a = this.pointOf(f.from);
      const b = this.pointOf(f.to);
      if (a === null || b === null) continue;
      const touches = sel !== undefined && [f.from, f.to].some((e) => e.track === sel.track && e.seq >= sel.startSeq && e.seq <= sel.endSeq);
      ctx.strokeStyle = f.cat === 'release' ? '#2e8b57' : '#d35400';
      ctx.fillStyle = ctx.strokeStyle;
      ctx.lineWidth = touches ? 2.5 : 1.25;
      arrow(ctx, a.x, a.y, b.x, b.y);
    }
  }

  private drawSelection(ctx: CanvasRenderingContext2D, marks: Marks): void {
    const sel = marks.selected;
    if (sel === null) return;
    const r = this.rectOf(sel);
    if (r === null) return;
    ctx.strokeStyle = '#111';
    ctx.lineWidth = 2;
    ctx.strokeRect(r.x - 1, r.y - 1, Math.max(r.width, 2) + 2, r.height + 2);
  }

  /** Where a slice or instant is drawn, in canvas coordinates (null when its lane is not known). */
  rectOf(item: { readonly kind: 'slice' | 'instant'; readonly index: number }): { x: number; y: number; width: number; height: number } | null {
    const { view, set } = this;
    if (item.kind === 'slice') {
      const s = set.timeline.slices[item.index]!;
      const lane = set.laneOf(s.track);
      if (lane === undefined) return null;
      const x = view.xOf(s.startSeq);
      return { x, y: view.yOf(lane.y) + s.depth * ROW_H + 1, width: view.xOf(s.endSeq + 1) - x, height: ROW_H - 2 };
    }
    const inst = set.timeline.instants[item.index]!;
    const lane = set.laneOf(inst.track);
    if (lane === undefined) return null;
    return { x: view.xOf(inst.seq + 0.5) - 4, y: view.yOf(lane.y) + lane.rows * ROW_H + INSTANT_H / 2 - 4, width: 8, height: 8 };
  }

  private drawAxis(ctx: CanvasRenderingContext2D, marks: Marks): void {
    const { view } = this;
    ctx.fillStyle = '#f0f0f0';
    ctx.fillRect(0, 0, view.width, AXIS_H);
    ctx.strokeStyle = '#ccc';
    ctx.beginPath();
    ctx.moveTo(0, AXIS_H - 0.5);
    ctx.lineTo(view.width, AXIS_H - 0.5);
    ctx.stroke();
    const step = tickStep(view, 90);
    ctx.fillStyle = '#333';
    ctx.strokeStyle = '#999';
    for (let s = Math.ceil(view.start / step) * step; s < view.end; s += step) {
      const x = Math.round(view.xOf(s)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, AXIS_H - 8);
      ctx.lineTo(x, AXIS_H);
      ctx.stroke();
      ctx.fillText(`${s}`, x + 3, AXIS_H - 12);
    }
    // Search hits: ticks along the axis' top edge.
    ctx.fillStyle = '#e8590c';
    const hits = marks.hits;
    let i = lowerBound(hits, Math.floor(view.start));
    while (i < hits.length && hits[i]! < view.end) {
      const x = Math.floor(view.xOf(hits[i]! + 0.5));
      ctx.fillRect(x - 1, 0, 3, 7);
      i = Math.max(i + 1, lowerBound(hits, view.seqAt(x + 2), i + 1));
    }
  }

  /** What is under a canvas point: an instant (checked first: they are small) or a slice. */
  pick(x: number, y: number): { kind: 'slice' | 'instant'; index: number } | null {
    const { view, set } = this;
    if (y < AXIS_H) return null;
    const ly = y - AXIS_H + view.scrollY;
    const lane = set.lanes.find((l) => ly >= l.y && ly < l.y + l.height);
    if (lane === undefined || lane.kind !== 'track') return null;
    const t = set.indexOf(lane.id)!;
    const row = Math.floor((ly - lane.y) / ROW_H);
    const seq = view.seqAt(x);
    const slack = (4 * (view.end - view.start)) / view.width;
    if (row >= lane.rows) {
      // The instant strip: the nearest instant within a few pixels.
      let best = -1;
      let bestDist = Infinity;
      for (let i = lowerBound(t.instantSeqs, seq - 0.5 - slack); i < t.instantSeqs.length && t.instantSeqs[i]! + 0.5 <= seq + slack; i++) {
        const dist = Math.abs(t.instantSeqs[i]! + 0.5 - seq);
        if (dist < bestDist) [best, bestDist] = [t.instantIds[i]!, dist];
      }
      return best === -1 ? null : { kind: 'instant', index: best };
    }
    const d = t.depths[row];
    if (d === undefined) return null;
    // The slice under the point, else the nearest one within a few pixels (narrow slices).
    const i = lowerBound(d.starts, seq + slack) - 1;
    for (let k = i; k >= 0 && d.ends[k]! + 1 >= seq - slack; k--) {
      if (d.starts[k]! <= seq && seq < d.ends[k]! + 1) return { kind: 'slice', index: d.ids[k]! };
    }
    return i >= 0 && d.ends[i]! + 1 >= seq - slack ? { kind: 'slice', index: d.ids[i]! } : null;
  }
}

function fit(ctx: CanvasRenderingContext2D, text: string, room: number): string {
  if (ctx.measureText(text).width <= room) return text;
  let n = Math.max(1, Math.floor((text.length * room) / ctx.measureText(text).width) - 1);
  while (n > 1 && ctx.measureText(text.slice(0, n) + '…').width > room) n--;
  return text.slice(0, n) + '…';
}

function diamond(ctx: CanvasRenderingContext2D, x: number, y: number, r: number, color: string): void {
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.moveTo(x, y - r);
  ctx.lineTo(x + r, y);
  ctx.lineTo(x, y + r);
  ctx.lineTo(x - r, y);
  ctx.closePath();
  ctx.fill();
}

function arrow(ctx: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number): void {
  // A curve that bows out sideways when both ends are at (nearly) the same seq.
  const bow = Math.abs(x1 - x0) < 20 ? 28 : 0;
  const cx = (x0 + x1) / 2 + bow;
  const cy = (y0 + y1) / 2;
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.quadraticCurveTo(cx, cy, x1, y1);
  ctx.stroke();
  const angle = Math.atan2(y1 - cy, x1 - cx);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - 8 * Math.cos(angle - 0.4), y1 - 8 * Math.sin(angle - 0.4));
  ctx.lineTo(x1 - 8 * Math.cos(angle + 0.4), y1 - 8 * Math.sin(angle + 0.4));
  ctx.closePath();
  ctx.fill();
}

export type { Instant, Slice, Timeline };
