// One `kprobesim shell` session: parses input lines (parser.ts), expands words (expand.ts), sets
// up redirections on the simulated tree (io.ts) and runs commands (builtins.ts: evalCommand),
// keeping the current directory, variables, the last status and the tracefs state (tracing.ts)
// between lines.
// Pure and synchronous given the backend: no clocks, no host I/O.

import type { KernelBackend } from './backend.ts';
import { childrenOf } from './children.ts';
import { BUILTINS, evalCommand, type CommandContext, type ShellState } from './builtins.ts';
import { complete } from './complete.ts';
import { APPLETS } from './utils/index.ts';
import { expandWordNoSplit, expandWords, type ExpandEnv } from './expand.ts';
import type { FileOps } from './files/index.ts';
import { openRead, openWrite } from './io.ts';
import { E, msg, STATUS } from './messages.ts';
import { parse, type Pipeline, type SimpleCommand } from './parser.ts';
import { Tracing, type TracingOptions } from './tracing.ts';
import { Vfs } from './vfs.ts';
import type { Mount } from './mount.ts';

export interface ShellOptions extends TracingOptions {
  /** Starting directory (must exist in the simulated tree). Default `/`. */
  readonly cwd?: string;
  /** `$HOME`, where a bare `cd` goes. Default `/`. */
  readonly home?: string;
  /** Host directories mounted read-only in the tree (mount.ts). */
  readonly mounts?: readonly Mount[];
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit status of the last command run (`$?`). */
  readonly status: number;
  /** `exit` was run: the session is over and further input is ignored. */
  readonly exited: boolean;
}

/** Where a file descriptor points while a command runs. */
type Target =
  | { readonly kind: 'stdout' }
  | { readonly kind: 'stderr' }
  | { readonly kind: 'file'; readonly ops: FileOps }
  | { readonly kind: 'input'; readonly data: string }
  /** The write end of a pipe: what the next command of the pipeline reads. */
  | { readonly kind: 'pipe'; readonly sink: { data: string } };

/** Where a command's standard input and output are connected before its redirections. */
interface Plumbing {
  /** What the previous command of a pipeline wrote; otherwise nothing (no terminal input). */
  readonly stdin?: string;
  readonly pipe?: { data: string };
}

class Output {
  stdout = '';
  stderr = '';
}

/**
 * Split a script into chunks that are complete commands: a chunk ends at a newline that is not
 * inside quotes, after a backslash, or after `&&`/`||` (what an interactive sh reads before it
 * stops prompting with PS2). The last chunk may be incomplete (e.g. an unterminated quote).
 */
export function splitScript(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const chunks: string[] = [];
  let buf: string | null = null;
  for (const line of lines) {
    buf = buf === null ? line : `${buf}\n${line}`;
    const r = parse(buf);
    if (!r.ok && r.kind === 'incomplete') continue;
    chunks.push(buf);
    buf = null;
  }
  if (buf !== null) chunks.push(buf);
  return chunks;
}

export class ShellSession {
  readonly tracing: Tracing;
  readonly vfs: Vfs;
  private readonly state: ShellState;
  private readonly lines: string[] = [];

  constructor(
    readonly backend: KernelBackend,
    options: ShellOptions = {},
  ) {
    this.tracing = new Tracing(backend, options);
    this.vfs = new Vfs(this.tracing, options.mounts ?? []);
    const home = options.home ?? '/';
    const start = this.vfs.resolve('/', options.cwd ?? '/');
    const cwd = start.ok && start.node.type === 'dir' ? start.path : '/';
    this.state = {
      cwd,
      vars: new Map([
        ['HOME', home],
        ['PWD', cwd],
        ['PATH', '/sbin:/usr/sbin:/bin:/usr/bin'],
        ['SHELL', '/bin/sh'],
      ]),
      vfs: this.vfs,
      tracing: this.tracing,
      backend,
      lastStatus: 0,
      exitStatus: null,
    };
  }

  get cwd(): string {
    return this.state.cwd;
  }

  get exited(): boolean {
    return this.state.exitStatus !== null;
  }

  get lastStatus(): number {
    return this.state.lastStatus;
  }

  /**
   * Every input chunk run so far, in order. Replaying them on a fresh session over a backend in
   * the same initial state reproduces the session (the integrator logs these).
   */
  get history(): readonly string[] {
    return this.lines;
  }

  /** Tab completion of the end of `line` (complete.ts): readline's `[candidates, replaced text]`. */
  complete(line: string): [string[], string] {
    const commands = [...Object.keys(BUILTINS), ...APPLETS.keys(), ...this.backend.commands.map((c) => c.name)];
    // Completion only looks: what it sees of a mount is not part of the session (a replay has no Tab).
    return this.vfs.peek(() => complete(line, { vfs: this.vfs, cwd: this.state.cwd, commands }));
  }

  /** Run one input line (or several lines forming complete commands). */
  run(line: string): RunResult {
    const out = new Output();
    if (this.state.exitStatus !== null) return this.result(out);
    this.lines.push(line);
    let r = parse(line);
    if (!r.ok && r.kind === 'incomplete' && r.reason === 'backslash') r = parse(line.slice(0, -1));
    if (!r.ok) {
      if (r.kind === 'error') out.stderr += r.message;
      else out.stderr += msg.syntax(r.reason === 'quote' ? 'unterminated quoted string' : 'unexpected end of file');
      this.state.lastStatus = STATUS.SHELL_ERROR;
      return this.result(out);
    }
    for (const ao of r.list) {
      let status = this.runPipeline(ao.first, out);
      for (const { op, pipeline } of ao.rest) {
        if (this.state.exitStatus !== null) break;
        if ((op === '&&') === (status === 0)) status = this.runPipeline(pipeline, out);
      }
      if (this.state.exitStatus !== null) break;
    }
    return this.result(out);
  }

  /** Run a whole script (standard input in script mode): complete commands one after another. */
  runScript(text: string): RunResult {
    let stdout = '';
    let stderr = '';
    for (const chunk of splitScript(text)) {
      if (this.exited) break;
      const r = this.run(chunk);
      stdout += r.stdout;
      stderr += r.stderr;
    }
    return { stdout, stderr, status: this.state.exitStatus ?? this.state.lastStatus, exited: this.exited };
  }

  private result(out: Output): RunResult {
    return { stdout: out.stdout, stderr: out.stderr, status: this.state.exitStatus ?? this.state.lastStatus, exited: this.exited };
  }

  private expandEnv(s: ShellState): ExpandEnv {
    return {
      param: (name) => {
        if (name === '?') return String(s.lastStatus);
        if (name === '0') return 'sh';
        if (name === '#') return '0';
        return s.vars.get(name);
      },
      listDir: (p) => this.vfs.listDir(p),
      exists: (p) => this.vfs.exists(p),
      cwd: s.cwd,
    };
  }

  /**
   * A pipeline's status is its last command's. Each command of a pipeline of several runs in a
   * forked child of the shell, so a builtin there (`cd`, `exit`, `NAME=value`) changes only that
   * child's copy of the shell's state, as in sh.
   */
  private runPipeline(p: Pipeline, out: Output): number {
    this.forkChildren(p);
    const [only] = p.commands;
    if (p.commands.length === 1 && only !== undefined) return this.runSimple(only, out, this.state, {});
    let status = 0;
    let stdin = '';
    p.commands.forEach((cmd, i) => {
      const pipe = i < p.commands.length - 1 ? { data: '' } : undefined;
      const child: ShellState = { ...this.state, vars: new Map(this.state.vars) };
      status = this.runSimple(cmd, out, child, { stdin, ...(pipe ? { pipe } : {}) });
      stdin = pipe?.data ?? '';
    });
    this.state.lastStatus = status;
    return status;
  }

  /** The kernel side of the pipeline's programs: the shell forks, the children work (children.ts). */
  private forkChildren(p: Pipeline): void {
    const run = this.backend.runChildren;
    if (run === undefined) return;
    const env = this.expandEnv(this.state);
    const children = childrenOf(
      p.commands.map((c) => expandWords(c.words, env)),
      this.state,
    );
    if (children.length > 0) run.call(this.backend, children);
  }

  private runSimple(cmd: SimpleCommand, out: Output, s: ShellState, plumbing: Plumbing): number {
    const status = this.runSimpleInner(cmd, out, s, plumbing);
    s.lastStatus = status;
    return status;
  }

  private runSimpleInner(cmd: SimpleCommand, out: Output, s: ShellState, plumbing: Plumbing): number {
    // What the kernel did since the last command goes into the trace buffer now, under the
    // filters and options in force until this command runs.
    this.tracing.pull();
    const env = this.expandEnv(s);
    const argv = expandWords(cmd.words, env);
    const fds = new Map<number, Target>([
      [0, { kind: 'input', data: plumbing.stdin ?? '' }],
      [1, plumbing.pipe ? { kind: 'pipe', sink: plumbing.pipe } : { kind: 'stdout' }],
      [2, { kind: 'stderr' }],
    ]);
    const write = (fd: number, data: string): number => {
      const t = fds.get(fd);
      if (!t || t.kind === 'input') return E.EBADF;
      if (t.kind === 'stdout') out.stdout += data;
      else if (t.kind === 'stderr') out.stderr += data;
      else if (t.kind === 'pipe') t.sink.data += data;
      else return t.ops.write(data);
      return 0;
    };
    for (const r of cmd.redirects) {
      const target = expandWordNoSplit(r.target, env);
      if (r.op === '>&' || r.op === '<&') {
        if (target === '-') {
          fds.delete(r.fd);
          continue;
        }
        const from = /^[0-9]+$/.test(target) ? fds.get(Number(target)) : undefined;
        if (!from) {
          write(2, `sh: ${target}: Bad file descriptor\n`);
          return STATUS.SHELL_ERROR;
        }
        fds.set(r.fd, from);
      } else if (r.op === '<') {
        const o = openRead(this.vfs, this.tracing, s.cwd, target);
        if (!o.ok) {
          write(2, msg.cantOpen(target, o.errno));
          return STATUS.SHELL_ERROR;
        }
        if ('dir' in o) {
          fds.set(r.fd, { kind: 'input', data: '' });
          continue;
        }
        const data = o.ops.read();
        fds.set(r.fd, { kind: 'input', data: data.ok ? data.data : '' });
      } else {
        const o = openWrite(this.vfs, this.tracing, s.cwd, target, r.op === '>>');
        if (!o.ok) {
          write(2, msg.cantCreate(target, o.errno));
          return STATUS.SHELL_ERROR;
        }
        fds.set(r.fd, { kind: 'file', ops: o.ops });
      }
    }
    if (argv.length === 0) {
      // Assignments only (`T=/sys/kernel/tracing`): they set shell variables.
      for (const a of cmd.assignments) s.vars.set(a.name, expandWordNoSplit(a.value, env));
      return 0;
    }
    const stdin = fds.get(0);
    const ctx: CommandContext = {
      argv,
      stdin: stdin?.kind === 'input' ? stdin.data : '',
      write,
      state: s,
    };
    try {
      return evalCommand(ctx);
    } catch (e) {
      // A bug must not end the session: report it like a crashed command.
      write(2, `sh: ${argv[0]}: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
      return STATUS.SHELL_ERROR;
    }
  }
}
