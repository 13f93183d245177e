// The kprobesim shell's builtins, and evalCommand (BusyBox ash's evalcommand), which runs one
// command: a builtin (imitating BusyBox ash's), a program (cat, grep, …: BusyBox's applets,
// utils/), or a kernel command (`run`, `tick`, … as the backend lists them) delegated to the
// KernelBackend. Every command returns an exit status and never throws for bad input.

import type { KernelBackend } from './backend.ts';
import { E, msg, STATUS, strerror } from './messages.ts';
import { APPLETS } from './utils/index.ts';
import type { Tracing } from './tracing.ts';
import type { Vfs } from './vfs.ts';

/** The session state a command may look at or change. */
export interface ShellState {
  cwd: string;
  readonly vars: Map<string, string>;
  readonly vfs: Vfs;
  readonly tracing: Tracing;
  readonly backend: KernelBackend;
  lastStatus: number;
  /** Set by `exit`: the session ends with this status. */
  exitStatus: number | null;
}

export interface CommandContext {
  readonly argv: readonly string[];
  /** Standard input (from `<`); empty otherwise (no terminal input in the simulation). */
  readonly stdin: string;
  /** One write(2) to fd 1 or 2 (possibly redirected to a file): 0 or an errno. */
  write(fd: number, data: string): number;
  readonly state: ShellState;
}

export interface Builtin {
  readonly usage: string;
  readonly summary: string;
  run(ctx: CommandContext): number;
}

/** Write to stderr, ignoring failures (as applets do when reporting errors). */
function err(ctx: CommandContext, text: string): void {
  ctx.write(2, text);
}

// ── echo ─────────────────────────────────────────────────────────────────────────────────────

/** BusyBox echo -e escapes: \\ \a \b \c \e \f \n \r \t \v \0NNN \xHH. `stop`: \c was seen. */
export function echoEscapes(s: string): { readonly text: string; readonly stop: boolean } {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[i + 1] as string;
    const simple: Record<string, string> = { '\\': '\\', a: '\x07', b: '\b', e: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
    if (n === 'c') return { text: out, stop: true };
    if (simple[n] !== undefined) {
      out += simple[n];
      i++;
    } else if (n === '0') {
      const m = /^[0-7]{1,3}/.exec(s.slice(i + 2));
      out += String.fromCharCode(m ? parseInt(m[0], 8) & 0xff : 0);
      i += 1 + (m ? m[0].length : 0);
    } else if (n === 'x' && /^[0-9a-fA-F]/.test(s.slice(i + 2))) {
      const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 2)) as RegExpExecArray;
      out += String.fromCharCode(parseInt(m[0], 16));
      i += 1 + m[0].length;
    } else {
      out += c;
    }
  }
  return { text: out, stop: false };
}

const echo: Builtin = {
  usage: 'echo [-neE] [ARG]...',
  summary: 'print the arguments; with `> FILE` / `>> FILE` this is how tracefs files are written',
  run(ctx) {
    const args = ctx.argv.slice(1);
    let newline = true;
    let escapes = false;
    while (args.length > 0 && /^-[neE]+$/.test(args[0] as string)) {
      for (const o of (args.shift() as string).slice(1)) {
        if (o === 'n') newline = false;
        else if (o === 'e') escapes = true;
        else escapes = false;
      }
    }
    let text = args.join(' ');
    if (escapes) {
      const r = echoEscapes(text);
      text = r.text;
      if (r.stop) newline = false;
    }
    if (newline) text += '\n';
    // BusyBox echo makes one write(2) of the whole line (none when there is nothing to write).
    if (text === '') return 0;
    const errno = ctx.write(1, text);
    if (errno !== 0) {
      err(ctx, msg.writeError(errno));
      return STATUS.FAILURE;
    }
    return 0;
  },
};

// ── cd, pwd ──────────────────────────────────────────────────────────────────────────────────

const cd: Builtin = {
  usage: 'cd [DIR | -]',
  summary: 'change the current directory (no argument: $HOME)',
  run(ctx) {
    const s = ctx.state;
    let target = ctx.argv[1];
    let print = false;
    if (target === undefined || target === '') target = s.vars.get('HOME') ?? '/';
    else if (target === '-') {
      target = s.vars.get('OLDPWD') ?? s.cwd;
      print = true;
    }
    const r = s.vfs.resolve(s.cwd, target);
    const errno = !r.ok ? r.errno : r.node.type !== 'dir' ? E.ENOTDIR : 0;
    if (!r.ok || errno !== 0) {
      err(ctx, msg.cd(target, errno));
      return STATUS.SHELL_ERROR;
    }
    s.vars.set('OLDPWD', s.cwd);
    s.cwd = r.path;
    s.vars.set('PWD', r.path);
    if (print) ctx.write(1, `${r.path}\n`);
    return 0;
  },
};

const pwd: Builtin = {
  usage: 'pwd',
  summary: 'print the current directory',
  run(ctx) {
    ctx.write(1, `${ctx.state.cwd}\n`);
    return 0;
  },
};

// ── exit, true, false, help ──────────────────────────────────────────────────────────────────

const exit: Builtin = {
  usage: 'exit [N]',
  summary: 'end the session with status N (default: the last status)',
  run(ctx) {
    const a = ctx.argv[1];
    let status = ctx.state.lastStatus;
    if (a !== undefined) {
      if (!/^[0-9]+$/.test(a)) {
        err(ctx, `sh: exit: Illegal number: ${a}\n`);
        return STATUS.SHELL_ERROR;
      }
      status = Number(BigInt(a) & 0xffn);
    }
    ctx.state.exitStatus = status;
    return status;
  },
};

const trueCmd: Builtin = { usage: 'true', summary: 'do nothing, successfully', run: () => 0 };
const falseCmd: Builtin = { usage: 'false', summary: 'do nothing, unsuccessfully', run: () => 1 };

const help: Builtin = {
  usage: 'help',
  summary: 'this list',
  run(ctx) {
    const rows: [string, string][] = [
      ...Object.values(BUILTINS).map((b): [string, string] => [b.usage, b.summary]),
      ...[...APPLETS.values()].map((b): [string, string] => [b.usage, b.summary]),
      ...ctx.state.backend.commands.map((c): [string, string] => [c.usage, c.summary]),
    ];
    const w = Math.max(...rows.map(([u]) => u.length));
    const text =
      'kprobesim shell: a tracefs session on a simulated kernel.\n' +
      'Files: /sys/kernel/tracing and /sys/kernel/debug/tracing (the same tracefs): kprobe_events,\n' +
      '  error_log, trace, trace_pipe, kprobe_profile, trace_options, options/, events/.\n' +
      'Shell: quoting, $VAR, NAME=value, ;, &&, ||, |, #, > >> < 2>&1, *?[...] as in sh.\n' +
      'Commands:\n' +
      rows.map(([u, s]) => `  ${u.padEnd(w, ' ')}  ${s}\n`).join('');
    const errno = ctx.write(1, text);
    return errno === 0 ? 0 : STATUS.FAILURE;
  },
};

/** The builtins by name (`:` is the POSIX null command). */
export const BUILTINS: Readonly<Record<string, Builtin>> = {
  cd,
  echo,
  exit,
  false: falseCmd,
  help,
  pwd,
  true: trueCmd,
  ':': { usage: ':', summary: 'do nothing, successfully', run: () => 0 },
};

/**
 * Run one command: a builtin, a program (applet), a kernel-work command of the backend (after which the kernel's new
 * trace records are pulled into the buffer), or `sh: NAME: not found` (status 127).
 */
export function evalCommand(ctx: CommandContext): number {
  const name = ctx.argv[0] as string;
  const b = Object.prototype.hasOwnProperty.call(BUILTINS, name) ? BUILTINS[name] : undefined;
  if (b) return b.run(ctx);
  const applet = APPLETS.get(name);
  if (applet) return applet.run(ctx);
  const backend = ctx.state.backend;
  if (backend.commands.some((c) => c.name === name)) {
    const r = backend.runCommand(ctx.argv);
    ctx.state.tracing.pull();
    if (r.stdout !== '') {
      const errno = ctx.write(1, r.stdout);
      if (errno !== 0) err(ctx, `${name}: write error: ${strerror(errno)}\n`);
    }
    if (r.stderr !== '') err(ctx, r.stderr);
    return r.status;
  }
  err(ctx, msg.notFound(name));
  return STATUS.NOT_FOUND;
}
