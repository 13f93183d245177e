/// <reference lib="dom" />
import type { LoggedEvent } from '../../model/events.ts';
import type { Frame, KernelState, TaskState, Wait } from '../../model/state.ts';
import type { Instant, Slice, Track } from '../../timeline/model.ts';
import { fill, h, table } from './dom.ts';
import type { LogLines } from './history.ts';

// The side panel's two parts, as DOM text: what is selected (a slice, an instant or one event,
// with its events as seq and JSON), and the folded kernel state at the cursor's seq.

const stack = (f: Frame | null): string => {
  const fns: string[] = [];
  for (let x = f; x !== null && fns.length < 12; x = x.up) fns.push(x.fn);
  return fns.join(' ← ');
};

const waitText = (w: Wait | null): string => {
  if (w === null) return '';
  switch (w.on) {
    case 'mutex':
      return 'kprobe_mutex';
    case 'sync':
      return `text sync #${w.sync}`;
    case 'gp':
      return `grace period #${w.gp}`;
    case 'time':
      return `sleep until t ${w.until}`;
    case 'input':
      return 'input';
    case 'children':
      return 'children';
  }
};

const taskName = (s: KernelState, pid: number | null): string => {
  if (pid === null) return '';
  const t = s.tasks.find((x) => x.pid === pid);
  return t === undefined ? `pid ${pid}` : `${t.comm} (${pid})`;
};

/** How many task rows the tables show; the JSON below them has every one. */
const MAX_TASK_ROWS = 200;

/** The kernel state after `seq`, as tables, then the whole state as JSON (`#state-json`). */
export function renderState(into: HTMLElement, s: KernelState, seq: number): void {
  const cpus = table(
    'state-cpus',
    [
      ['cpu', 'CPU'],
      ['status', 'kprobe status'],
      ['current', 'current_kprobe'],
      ['task', 'task'],
      ['handler', 'handler'],
      ['preempt', 'preempt, irqs'],
      ['sync', 'acked sync, gp'],
    ],
    s.cpus.map((c) => ({
      cpu: `CPU ${c.id}`,
      status: c.halted ? `${c.status} (halted)` : c.status,
      current: c.current ?? '',
      task: taskName(s, s.sched.curr[c.id] ?? null),
      handler: c.handler === null ? '' : `${c.handler.probe} ${c.handler.phase} step ${c.handler.step}${c.handler.spin > 0 ? ` (spin ${c.handler.spin})` : ''}`,
      preempt: `${c.preempt_count}, ${c.irqs_off ? 'off' : 'on'}`,
      sync: `${c.acked_sync}, ${c.rcu_gp}`,
    })),
    (i) => ({ 'data-cpu': String(s.cpus[i]!.id) }),
  );
  const names = Object.keys(s.kprobes.probes);
  const probes = table(
    'state-probes',
    [
      ['probe', 'probe'],
      ['state', 'state'],
      ['addr', 'addr'],
      ['enabled', 'enabled'],
      ['hits', 'hits'],
      ['nmissed', 'nmissed'],
      ['calls', 'pre / post / ret'],
    ],
    names.map((name) => {
      const p = s.kprobes.probes[name]!;
      const st = s.stats[name];
      return {
        probe: name,
        state: p.state,
        addr: p.addr ?? '',
        enabled: p.gone ? 'gone' : p.disabled ? 'disabled' : 'yes',
        hits: st?.hits ?? 0,
        nmissed: st?.nmissed ?? 0,
        calls: st === undefined ? '' : `${st.pre_calls} / ${st.post_calls} / ${st.ret_calls}`,
      };
    }),
    (i) => ({ 'data-probe': names[i]! }),
  );
  const points = Object.entries(s.kprobes.table);
  const table_ = table(
    'state-table',
    [
      ['addr', 'probe point'],
      ['probes', 'probes (newest first)'],
      ['armed', 'armed'],
      ['opt', 'optimized'],
    ],
    points.map(([addr, p]) => ({ addr, probes: p.probes.join(', '), armed: p.armed ? 'yes' : 'no', opt: p.opt?.state ?? '' })),
  );
  const k = s.kprobes;
  const waits = h(
    'ul',
    { id: 'state-waits' },
    h('li', null, `kprobe_mutex: ${k.mutex.owner === null ? 'free' : `held by ${taskName(s, k.mutex.owner)}`}${k.mutex.waiters.length > 0 ? `, waiting: ${k.mutex.waiters.map((p) => taskName(s, p)).join(', ')}` : ''}`),
    h('li', null, `text-patch sync: ${k.sync === null ? 'none' : `#${k.sync.gen} waiting for CPU ${k.sync.waiting.join(', CPU ')}`}`),
    h('li', null, `grace periods: ${Object.keys(k.gps).length === 0 ? 'none' : Object.entries(k.gps).map(([gen, cpus]) => `#${gen} waiting for CPU ${cpus.join(', CPU ')}`).join('; ')}`),
    h('li', null, `printk lines ${s.printk_lines}, bugs ${s.bugs}, tasks exited ${s.exited}${s.halted === null ? '' : `, halted on CPU ${s.halted.cpu}: ${s.halted.message}`}`),
  );
  const pools = Object.entries(s.kretprobes);
  const poolTable = table(
    'state-pools',
    [
      ['probe', 'kretprobe'],
      ['free', 'free / maxactive'],
      ['nmissed', 'nmissed'],
      ['attached', 'attached'],
    ],
    pools.map(([probe, p]) => ({ probe, free: `${p.free} / ${p.maxactive}`, nmissed: p.nmissed, attached: p.attached ? 'yes' : 'no' })),
  );
  const shown: readonly TaskState[] = s.tasks.slice(0, MAX_TASK_ROWS);
  const tasks = table(
    'state-tasks',
    [
      ['pid', 'pid'],
      ['comm', 'comm'],
      ['cpu', 'on CPU'],
      ['wait', 'waits for'],
      ['stack', 'stack (innermost first)'],
    ],
    shown.map((t) => ({ pid: t.pid, comm: t.comm, cpu: t.cpu ?? '', wait: waitText(t.wait), stack: stack(t.frames) })),
    (i) => ({ 'data-pid': String(shown[i]!.pid) }),
  );
  fill(into, 
    h('h2', null, `State after seq ${seq}`, h('span', { class: 'dim' }, ` t = ${s.t}`)),
    h('h3', null, 'CPUs'),
    cpus,
    h('h3', null, 'Probes'),
    probes,
    points.length > 0 && h('h3', null, 'Probe points'),
    points.length > 0 && table_,
    h('h3', null, 'Locks, waits, counters'),
    waits,
    pools.length > 0 && h('h3', null, 'kretprobe pools'),
    pools.length > 0 && poolTable,
    h('h3', null, `Tasks (${s.tasks.length})`),
    tasks,
    s.tasks.length > MAX_TASK_ROWS && h('p', { class: 'dim' }, `… and ${s.tasks.length - MAX_TASK_ROWS} more (in the JSON below)`),
    h('details', null, h('summary', null, 'Whole state (JSON)'), h('pre', { id: 'state-json' }, JSON.stringify(s, null, 2))),
  );
}

/** What is selected: a slice, an instant, or one event (a search result). */
export type Selection = { readonly kind: 'slice' | 'instant' | 'event'; readonly index: number };

/** At most this many events of a slice are listed (its first and last always). */
const MAX_EVENTS = 60;
/** And at most this many of its seqs are looked at for them. */
const MAX_SCAN = 5000;

/** Whether an event inside a slice belongs to the slice's track (a CPU's own events, a task's…). */
function onTrack(track: Track | undefined, e: LoggedEvent): boolean {
  if (track === undefined) return false;
  // A CPU's own events and the kprobe manager's on it; the scheduler's picks are not its work.
  if (track.cpu !== undefined) return 'cpu' in e && e.cpu === track.cpu && e.src !== 'sched';
  if (track.pid !== undefined) return 'pid' in e && e.pid === track.pid;
  if (track.kind === 'mutex') return e.type.startsWith('mutex.');
  return e.src === 'sched';
}

const eventItem = (seq: number, json: string): HTMLLIElement => h('li', { 'data-seq': String(seq) }, h('code', { class: 'seq' }, `seq ${seq}`), ' ', h('code', null, json));

export function renderSelection(into: HTMLElement, sel: Selection | null, ctx: { slices: readonly Slice[]; instants: readonly Instant[]; tracks: ReadonlyMap<string, Track>; lines: LogLines }): void {
  if (sel === null) {
    fill(into, h('h2', null, 'Selected'), h('p', { class: 'dim' }, 'Click a slice or an instant on the lanes, a finding or a search result.'));
    return;
  }
  const { lines } = ctx;
  if (sel.kind === 'event') {
    const e = lines.event(sel.index);
    fill(into, h('h2', null, 'Selected'), h('p', { id: 'selected-summary' }, `event ${e.type} · seq ${e.seq} · t ${e.t} · ${e.src}`), h('ol', { id: 'selected-events' }, eventItem(sel.index, lines.line(sel.index))));
    return;
  }
  if (sel.kind === 'instant') {
    const x = ctx.instants[sel.index]!;
    const track = ctx.tracks.get(x.track);
    fill(into, 
      h('h2', null, 'Selected'),
      h('p', { id: 'selected-summary' }, `${x.severity} ${x.name} · ${track?.name ?? x.track} · seq ${x.seq}`),
      h('pre', { class: 'args' }, JSON.stringify(x.args, null, 1)),
      h('h3', null, 'Event'),
      h('ol', { id: 'selected-events' }, eventItem(x.seq, lines.line(x.seq))),
    );
    return;
  }
  const s = ctx.slices[sel.index]!;
  const track = ctx.tracks.get(s.track);
  const items: HTMLLIElement[] = [eventItem(s.startSeq, lines.line(s.startSeq))];
  let inner = 0;
  let skipped = 0;
  const scanTo = Math.min(s.endSeq - 1, s.startSeq + MAX_SCAN);
  for (let seq = s.startSeq + 1; seq <= scanTo; seq++) {
    const line = lines.line(seq);
    if (!onTrack(track, JSON.parse(line) as LoggedEvent)) continue;
    if (inner < MAX_EVENTS - 2) items.push(eventItem(seq, line));
    else skipped++;
    inner++;
  }
  const unscanned = s.endSeq - 1 - scanTo;
  if (skipped > 0 || unscanned > 0) items.push(h('li', { class: 'dim' }, `… ${skipped > 0 ? `${skipped} more events of ${track?.name ?? s.track}` : ''}${unscanned > 0 ? `${skipped > 0 ? ', and ' : ''}${unscanned} seqs not listed` : ''}`));
  if (s.endSeq > s.startSeq) items.push(eventItem(s.endSeq, lines.line(s.endSeq)));
  fill(into, 
    h('h2', null, 'Selected'),
    h('p', { id: 'selected-summary' }, `${s.cat} ${s.name} · ${track?.name ?? s.track} · seq ${s.startSeq}–${s.endSeq}${s.clippedStart ? ' (began earlier)' : ''}${s.clippedEnd ? ' (ends later)' : ''}`),
    Object.keys(s.args).length > 0 && h('pre', { class: 'args' }, JSON.stringify(s.args, null, 1)),
    h('h3', null, 'Events'),
    h('ol', { id: 'selected-events' }, ...items),
  );
}
