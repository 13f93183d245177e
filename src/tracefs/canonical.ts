// Read-back form of `kprobe_events` (spec R136, trace_kprobe_show()):
//   p|r[MAXACTIVE]:GROUP/EVENT LOCATION[ NAME=TEXT]…
// LOCATION is `SYM`, `MOD:SYM`, `SYM+OFF` (decimal), or `0x<pointer>`; TEXT is the argument body
// as recorded (after the %pd / BTF rewrites). A `%return` location reads back in `r` form (R117).

import type { ProbeDefinition, ProbeLocation } from './types.ts';

/**
 * How the model prints a probed address for `%p` (the kernel prints a hashed value, R109/R136; the
 * model prints the raw address, zero-padded to 16 hex digits like an unhashed %p).
 */
export function formatPointer(address: bigint): string {
  return address.toString(16).padStart(16, '0');
}

/** The symbol as the kernel stores it (`MOD:SYM` or `SYM`); "unknown" for an address (R131). */
export function symbolText(location: ProbeLocation): string {
  if (location.kind === 'address') return 'unknown';
  return location.module !== null ? `${location.module}:${location.symbol}` : location.symbol;
}

/** The location as the listing (and `-:` match tokens, R133) print it. */
export function locationText(location: ProbeLocation): string {
  if (location.kind === 'address') return `0x${formatPointer(location.address)}`;
  const sym = symbolText(location);
  return location.offset !== 0 ? `${sym}+${location.offset}` : sym;
}

export interface RenderOptions {
  /**
   * The kretprobe's current maxactive. After a successful registration the kernel has replaced 0
   * by its default (R71), so `r:EV f` reads back as e.g. `r20:kprobes/EV f`. Defaults to the
   * value given in the command.
   */
  readonly maxactive?: number;
}

/** One line of `kprobe_events` (without the trailing newline). */
export function renderProbe(probe: ProbeDefinition, options: RenderOptions = {}): string {
  const isReturn = probe.kind === 'kretprobe';
  const maxactive = options.maxactive ?? probe.maxactive;
  let s = isReturn ? 'r' : 'p';
  if (isReturn && maxactive !== 0) s += String(maxactive);
  s += `:${probe.group}/${probe.event} ${locationText(probe.location)}`;
  for (const a of probe.args) s += ` ${a.name}=${a.text}`;
  return s;
}

/** The whole file: one line per probe, in creation order, each ending in '\n'. */
export function renderListing(probes: readonly { readonly probe: ProbeDefinition; readonly maxactive?: number }[]): string {
  return probes
    .map((p) => `${renderProbe(p.probe, p.maxactive !== undefined ? { maxactive: p.maxactive } : {})}\n`)
    .join('');
}
