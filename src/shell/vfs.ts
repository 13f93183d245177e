// The simulated file tree. Nothing on the host is ever read or written: every path resolves in
// this tree or fails.
//
//   /
//   ├── dev/null
//   ├── proc/kallsyms           (when the backend has a symbol table)
//   ├── proc/modules, proc/sys/kernel/tainted   (when the backend has modules)
//   └── sys/kernel/
//       ├── tracing/            ┐ the same tracefs instance (both mount points reach the
//       ├── debug/tracing/      ┘ same files, design.md "Command line")
//       └── debug/kprobes/{list,blacklist,enabled}   (when the backend has them, spec §14)
//
//   tracefs: kprobe_events error_log trace trace_pipe kprobe_profile trace_options
//            available_filter_functions (when the kernel has ftrace patch sites)
//            options/<option>           (one file per trace option)
//            events/enable
//            events/<GROUP>/enable      (a group directory exists while it has events;
//            events/<GROUP>/<EVENT>/{enable,filter,format,id}   `kprobes` is the default group)
//
//   /mnt/…                      (a host directory mounted read-only, `shell --mount HOSTDIR:/mnt`;
//                                 its entries come from the mount's source, mount.ts)
//
// Paths are resolved component by component from `/` or the cwd: `.` stays, `..` goes to the
// parent (the root's parent is the root, and the parent of a mount point is the directory it is
// in: `..` never leads into the host), a missing name is ENOENT, a name under a file ENOTDIR, an
// entry of a mount that leads out of it EACCES. There are no symbolic links in the tree (a
// mount's links are resolved by its source), so logical and physical paths agree.

import type { KprobesFileName } from './backend.ts';
import { E } from './messages.ts';
import type { Mount, MountNode, MountSource } from './mount.ts';
import { TRACE_OPTIONS, type Tracing } from './tracing.ts';

/** The files of the tree (what the handlers in files/ implement). */
export type FileRef =
  | { readonly kind: 'dev-null' }
  | { readonly kind: 'kallsyms' }
  | { readonly kind: 'proc-modules' }
  | { readonly kind: 'proc-tainted' }
  | { readonly kind: 'available_filter_functions' }
  | { readonly kind: 'kprobes-file'; readonly name: KprobesFileName }
  | { readonly kind: 'kprobe_events' }
  | { readonly kind: 'error_log' }
  | { readonly kind: 'trace' }
  | { readonly kind: 'trace_pipe' }
  | { readonly kind: 'kprobe_profile' }
  | { readonly kind: 'trace_options' }
  | { readonly kind: 'option'; readonly name: string }
  | { readonly kind: 'events-enable' }
  | { readonly kind: 'group-enable'; readonly group: string }
  | { readonly kind: 'event-enable' | 'event-filter' | 'event-format' | 'event-id'; readonly group: string; readonly event: string }
  /** A regular file of a mounted host directory (`rel`: its names below the mount point). */
  | { readonly kind: 'host-file'; readonly source: MountSource; readonly rel: readonly string[]; readonly peek: boolean };

export type VNode =
  | {
      readonly type: 'dir';
      entries(): string[];
      child(name: string): VNode | undefined;
      /** Why a listed name cannot be entered (EACCES: it leads out of a mount); otherwise ENOENT. */
      lookupErrno?(name: string): number;
      /** On a read-only mount: nothing can be created in it (EROFS). */
      readonly readOnly?: boolean;
    }
  | { readonly type: 'file'; readonly ref: FileRef };

export type Resolved = { readonly ok: true; readonly node: VNode; /** canonical absolute path */ readonly path: string } | { readonly ok: false; readonly errno: number };

function dir(children: () => [string, () => VNode][]): VNode {
  return {
    type: 'dir',
    entries: () => children().map(([n]) => n),
    child: (name) => children().find(([n]) => n === name)?.[1](),
  };
}

function file(ref: FileRef): () => VNode {
  return () => ({ type: 'file', ref });
}

/** Top-level tracefs files in the order the kernel creates them (ls sorts anyway). */
const TOP_FILES: readonly FileRef['kind'][] = ['trace', 'trace_pipe', 'trace_options', 'kprobe_events', 'kprobe_profile', 'error_log'];

export class Vfs {
  /** Tab completion looks without recording what it saw (a replay does not complete). */
  private peeking = false;

  constructor(
    private readonly tracing: Tracing,
    private readonly mounts: readonly Mount[] = [],
  ) {}

  /** Runs `f` with lookups in mounts made by peek(): nothing is recorded. */
  peek<T>(f: () => T): T {
    this.peeking = true;
    try {
      return f();
    } finally {
      this.peeking = false;
    }
  }

  private look(source: MountSource, rel: readonly string[]): MountNode {
    return this.peeking && source.peek ? source.peek(rel) : source.lookup(rel);
  }

  /** A directory of a mount, its entries from the source (a node that is not a directory: none). */
  private hostDir(source: MountSource, rel: readonly string[], node: MountNode): VNode {
    const entries = 'dir' in node ? node.dir : [];
    const peek = this.peeking;
    return {
      type: 'dir',
      readOnly: true,
      entries: () => entries.map((e) => e.name),
      child: (name) => {
        const e = entries.find((x) => x.name === name);
        if (e === undefined || e.type === 'denied') return undefined;
        const path = [...rel, name];
        if (e.type === 'file') return { type: 'file', ref: { kind: 'host-file', source, rel: path, peek } };
        return this.hostDir(source, path, this.look(source, path));
      },
      lookupErrno: (name) => (entries.some((x) => x.name === name && x.type === 'denied') ? E.EACCES : E.ENOENT),
    };
  }

  /**
   * The directories that lead to the mount points below `prefix` (an absolute path, '' for the
   * root), and the mounted directories themselves: [name, node] pairs for one directory's listing.
   */
  private mountEntries(prefix: string): [string, () => VNode][] {
    const out: [string, () => VNode][] = [];
    for (const m of this.mounts) {
      if (!m.path.startsWith(`${prefix}/`)) continue;
      const name = m.path.slice(prefix.length + 1).split('/')[0]!;
      if (out.some(([n]) => n === name)) continue;
      const here = `${prefix}/${name}`;
      out.push([name, () => (here === m.path ? this.hostDir(m.source, [], this.look(m.source, [])) : dir(() => this.mountEntries(here)))]);
    }
    return out;
  }

  private tracefs(): VNode {
    const t = this.tracing;
    const eventDir = (group: string, event: string): VNode =>
      dir(() => [
        ['enable', file({ kind: 'event-enable', group, event })],
        ['filter', file({ kind: 'event-filter', group, event })],
        ['format', file({ kind: 'event-format', group, event })],
        ['id', file({ kind: 'event-id', group, event })],
      ]);
    const groupDir = (group: string): VNode =>
      dir(() => [['enable', file({ kind: 'group-enable', group })], ...t.eventsOf(group).map((e): [string, () => VNode] => [e, () => eventDir(group, e)])]);
    const events = dir(() => [['enable', file({ kind: 'events-enable' })], ...t.groups().map((g): [string, () => VNode] => [g, () => groupDir(g)])]);
    const options = dir(() => TRACE_OPTIONS.map(([name]): [string, () => VNode] => [name, file({ kind: 'option', name })]));
    const filterFunctions: [string, () => VNode][] =
      t.backend.availableFilterFunctions?.() != null ? [['available_filter_functions', file({ kind: 'available_filter_functions' })]] : [];
    return dir(() => [
      ...TOP_FILES.map((k): [string, () => VNode] => [k, file({ kind: k } as FileRef)]),
      ...filterFunctions,
      ['options', () => options],
      ['events', () => events],
    ]);
  }

  root(): VNode {
    const tracefs = (): VNode => this.tracefs();
    const b = this.tracing.backend;
    const procFiles: [string, () => VNode][] = [
      ...(b.kallsyms ? [['kallsyms', file({ kind: 'kallsyms' })] as [string, () => VNode]] : []),
      ...(b.procModules ? [['modules', file({ kind: 'proc-modules' })] as [string, () => VNode]] : []),
      ...(b.tainted ? [['sys', () => dir(() => [['kernel', () => dir(() => [['tainted', file({ kind: 'proc-tainted' })]])]])] as [string, () => VNode]] : []),
    ];
    const proc: [string, () => VNode][] = procFiles.length > 0 ? [['proc', () => dir(() => procFiles)]] : [];
    const kprobes: [string, () => VNode][] = this.tracing.backend.kprobesFile
      ? [['kprobes', () => dir(() => (['blacklist', 'enabled', 'list'] as const).map((name): [string, () => VNode] => [name, file({ kind: 'kprobes-file', name })]))]]
      : [];
    return dir(() => [
      ['dev', () => dir(() => [['null', file({ kind: 'dev-null' })]])],
      ...this.mountEntries(''),
      ...proc,
      [
        'sys',
        () =>
          dir(() => [
            [
              'kernel',
              () =>
                dir(() => [
                  ['debug', () => dir(() => [...kprobes, ['tracing', tracefs]])],
                  ['tracing', tracefs],
                ]),
            ],
          ]),
      ],
    ]);
  }

  /** Resolve `path` (absolute, or relative to `cwd`, which is absolute). */
  resolve(cwd: string, path: string): Resolved {
    if (path === '') return { ok: false, errno: E.ENOENT };
    const comps = [...(path.startsWith('/') ? [] : cwd.split('/')), ...path.split('/')];
    const stack: { name: string; node: VNode }[] = [];
    const root = this.root();
    const top = (): VNode => stack[stack.length - 1]?.node ?? root;
    for (const c of comps) {
      if (c === '' || c === '.') {
        if (top().type !== 'dir') return { ok: false, errno: E.ENOTDIR };
        continue;
      }
      const cur = top();
      if (cur.type !== 'dir') return { ok: false, errno: E.ENOTDIR };
      if (c === '..') {
        stack.pop();
        continue;
      }
      const next = cur.child(c);
      if (!next) return { ok: false, errno: cur.lookupErrno?.(c) ?? E.ENOENT };
      stack.push({ name: c, node: next });
    }
    // A trailing slash requires a directory.
    if (path.endsWith('/') && top().type !== 'dir') return { ok: false, errno: E.ENOTDIR };
    return { ok: true, node: top(), path: `/${stack.map((s) => s.name).join('/')}` };
  }

  /**
   * open(2) with O_CREAT for a path that does not resolve: ENOENT/ENOTDIR when the parent
   * directory is missing, EACCES when it exists (tracefs, sysfs and the simulated root have no
   * `create` inode operation, so new files can never be made).
   */
  createError(cwd: string, path: string, errno: number): number {
    if (errno !== E.ENOENT) return errno;
    const slash = path.replace(/\/+$/, '').lastIndexOf('/');
    const parent = slash < 0 ? '.' : slash === 0 ? '/' : path.slice(0, slash);
    const p = this.resolve(cwd, parent);
    if (!p.ok) return p.errno;
    if (p.node.type !== 'dir') return E.ENOTDIR;
    // A read-only mount refuses every creation (may_o_create → mnt_want_write: EROFS).
    return p.node.readOnly === true ? E.EROFS : E.EACCES;
  }

  /** Directory listing helpers for pathname expansion. */
  listDir(absPath: string): string[] | null {
    const r = this.resolve('/', absPath);
    return r.ok && r.node.type === 'dir' ? r.node.entries() : null;
  }

  exists(absPath: string): boolean {
    return this.resolve('/', absPath).ok;
  }
}
