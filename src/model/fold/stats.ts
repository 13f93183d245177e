import type { DomainEvent } from '../events.ts';
import { probeName } from './input.ts';
import type { KernelState, ProbeStats, Refusal } from '../state.ts';
import type { Draft } from './draft.ts';
import { fail } from './errors.ts';
import { recGet, recSet } from './record.ts';

// ── hit-path statistics (shared: every CPU updates them without a lock, like nmissed) ─────

function bump(
  stats: KernelState['stats'],
  names: readonly string[],
  f: (p: ProbeStats) => ProbeStats,
): KernelState['stats'] {
  let out = stats;
  for (const n of names) {
    const p = recGet(out, n);
    if (p === undefined) return fail(`unknown probe "${n}"`);
    out = recSet(out, n, f(p));
  }
  return out;
}

/** The refusals with one more of (errno, reason): counted where it is already listed, else appended. */
function withRefusal(list: readonly Refusal[], errno: number, reason: string): readonly Refusal[] {
  const i = list.findIndex((r) => r.errno === errno && r.reason === reason);
  if (i < 0) return [...list, { errno, reason, count: 1 }];
  return list.map((r, j) => (j === i ? { ...r, count: r.count + 1 } : r));
}

const ZERO_STATS: ProbeStats = { hits: 0, nmissed: 0, handled: 0, skipped: 0, pre_calls: 0, post_calls: 0, ret_calls: 0, fault_misses: 0 };

export function evolveStats(d: Draft, e: DomainEvent): void {
  switch (e.type) {
    case 'input.probe':
      d.stats = recSet(d.stats, probeName(e.probe), ZERO_STATS);
      return;
    case 'input.module':
      for (const name of e.probes) d.stats = recSet(d.stats, name, ZERO_STATS);
      return;
    case 'kprobe.register': {
      // R2: a registration that gets past address resolution resets nmissed (and with it the
      // counts it is accounted against, so INV-nmissed holds per registration). Earlier refusals
      // are the caller's history, not counts: they stay.
      const refused = recGet(d.stats, e.probe)?.refused;
      d.stats = recSet(d.stats, e.probe, refused === undefined ? ZERO_STATS : { ...ZERO_STATS, refused });
      return;
    }
    case 'kprobe.register.fail':
      d.stats = bump(d.stats, [e.probe], (p) => ({ ...p, refused: withRefusal(p.refused ?? [], e.errno, e.reason), refused_last: true }));
      return;
    case 'kprobe.hit':
    case 'kprobe.ftrace.hit':
    case 'kprobe.opt.hit':
      d.stats = bump(d.stats, e.probes, (p) => ({ ...p, hits: p.hits + 1 }));
      return;
    case 'kprobe.miss':
    case 'kprobe.ftrace.miss':
    case 'kprobe.opt.miss':
      // R12: a miss at an aggregated point counts on every child.
      d.stats = bump(d.stats, e.probes, (p) => ({ ...p, hits: p.hits + 1, nmissed: p.nmissed + 1 }));
      return;
    case 'kprobe.redirect':
    case 'kprobe.override':
    case 'kprobe.jump':
      // R10/R53: the children after the one that returned non-zero are legitimately skipped.
      d.stats = bump(d.stats, e.skipped, (p) => ({ ...p, skipped: p.skipped + 1 }));
      return;
    case 'kprobe.fault':
      // R58 (before v5.14): a fault in a handler first counts as a miss of the running probe(s).
      d.stats = bump(d.stats, e.probes, (p) => ({ ...p, nmissed: p.nmissed + 1, fault_misses: p.fault_misses + 1 }));
      return;
    case 'handler.enter':
      d.stats = bump(d.stats, [e.probe], (p) =>
        e.phase === 'pre'
          ? { ...p, handled: p.handled + 1, pre_calls: p.pre_calls + 1 }
          : e.phase === 'post'
            ? { ...p, post_calls: p.post_calls + 1 }
            : { ...p, ret_calls: p.ret_calls + 1 },
      );
      return;
    case 'handler.skip':
      if (e.phase !== 'pre') return;
      d.stats = bump(d.stats, [e.probe], (p) => (e.reason === 'no_handler' ? { ...p, handled: p.handled + 1 } : { ...p, skipped: p.skipped + 1 }));
      return;
    default:
      return;
  }
}
