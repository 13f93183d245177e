// The interface every simulated file implements: open(2) side effects, one read of the whole
// file, one write(2). Errors are positive errno values (0 = success).

import { E } from '../messages.ts';

/** How the file is being opened. */
export interface OpenFlags {
  readonly write: boolean;
  /** O_TRUNC (shell `>`). */
  readonly truncate: boolean;
  /** O_APPEND (shell `>>`). */
  readonly append: boolean;
}

export type ReadResult = { readonly ok: true; readonly data: string } | { readonly ok: false; readonly errno: number };

export interface FileOps {
  /** May the file be opened for reading / writing at all (its mode)? Otherwise EACCES. */
  readonly readable: boolean;
  readonly writable: boolean;
  /** On a read-only mount: opening for writing is EROFS, whatever the mode. */
  readonly readOnlyFs?: boolean;
  /** Side effects of open(2) (truncation of kprobe_events, trace, error_log). 0 or errno. */
  open(flags: OpenFlags): number;
  /** The file's whole contents (a consuming read for trace_pipe). */
  read(): ReadResult;
  /** One write(2) of `data`; 0 or errno. */
  write(data: string): number;
}

export const ok = (data: string): ReadResult => ({ ok: true, data });
export const fail = (errno: number): ReadResult => ({ ok: false, errno });

/**
 * kstrtoul_from_user(…, 10, …): an unsigned decimal number (optional leading `+`), optionally
 * followed by one newline, nothing else; else EINVAL (ERANGE above 64 bits).
 */
export function kstrtoulUser(data: string): { readonly ok: true; readonly value: bigint } | { readonly ok: false; readonly errno: number } {
  const s = data.endsWith('\n') ? data.slice(0, -1) : data;
  const m = /^\+?([0-9]+)$/.exec(s);
  if (!m) return { ok: false, errno: E.EINVAL };
  const value = BigInt(m[1] as string);
  if (value > 0xffffffffffffffffn) return { ok: false, errno: E.ERANGE };
  return { ok: true, value };
}

/** The `0`/`1` files (enable, options/*): anything but 0 or 1 is EINVAL. */
export function parseBool(data: string): { readonly ok: true; readonly value: boolean } | { readonly ok: false; readonly errno: number } {
  const r = kstrtoulUser(data);
  if (!r.ok) return r;
  if (r.value !== 0n && r.value !== 1n) return { ok: false, errno: E.EINVAL };
  return { ok: true, value: r.value === 1n };
}
