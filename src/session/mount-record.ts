// A mount's answers as a session records them: the first answer for each path is kept (later
// looks see the same, so the session sees one consistent snapshot even if the host changes) and
// logged as an `input.mount.read` event. A replay serves the answers from its log instead of the
// host (LoggedMount), and records them the same way, so its events match the log's.

import type { LoggedEvent } from '../model/events.ts';
import { Errno } from '../errno.ts';
import { InputError } from '../errors.ts';
import { mountNodeFromJson, type MountNode, type MountSource } from '../shell/mount.ts';

export class RecordedMount implements MountSource {
  private readonly seen = new Map<string, MountNode>();

  constructor(
    /** The mount point (`/mnt`). */
    readonly path: string,
    private readonly inner: MountSource,
    /** Logs what was found at a path of the session's tree. */
    private readonly note: (path: string, node: MountNode) => void,
  ) {}

  lookup(rel: readonly string[]): MountNode {
    const key = rel.join('/');
    const have = this.seen.get(key);
    if (have !== undefined) return have;
    const node = this.inner.lookup(rel);
    this.seen.set(key, node);
    this.note(key === '' ? this.path : `${this.path}/${key}`, node);
    return node;
  }

  peek(rel: readonly string[]): MountNode {
    return this.seen.get(rel.join('/')) ?? this.inner.peek?.(rel) ?? { errno: Errno.ENOENT };
  }
}

/** A mount served from a log: what the recorded session found at each path. */
export class LoggedMount implements MountSource {
  constructor(private readonly nodes: ReadonlyMap<string, MountNode>, private readonly path: string) {}

  lookup(rel: readonly string[]): MountNode {
    const key = rel.length === 0 ? this.path : `${this.path}/${rel.join('/')}`;
    // Not in the log: the recorded session never looked there, so a replay that does has
    // diverged; the event it logs for ENOENT shows where.
    return this.nodes.get(key) ?? { errno: Errno.ENOENT };
  }
}

/** The mounts of a logged session: their points, in order, and the answers the log recorded. */
export function loggedMounts(events: readonly { readonly event: LoggedEvent; readonly line: number }[], path: string): { readonly path: string; readonly source: MountSource }[] {
  const nodes = new Map<string, MountNode>();
  const points: string[] = [];
  for (const { event: e, line } of events) {
    if (e.type === 'input.mount') points.push(e.path);
    else if (e.type === 'input.mount.read') {
      const node = mountNodeFromJson(e.node);
      if (typeof node === 'string') throw new InputError(`${path}:${line}`, `input.mount.read: ${node}`);
      if (!nodes.has(e.path)) nodes.set(e.path, node);
    }
  }
  return points.map((p) => ({ path: p, source: new LoggedMount(nodes, p) }));
}
