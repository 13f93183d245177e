import { createInterface, type Interface } from 'node:readline';
import { InputError } from '../../errors.ts';
import { ARCHES, DEFAULT_KERNEL, type KernelVersion } from '../../kernel/index.ts';
import { LogWriter } from '../../log/writer.ts';
import { promptFor, RecordedSession, replaySession } from '../../session/recorded.ts';
import { parse } from '../../shell/index.ts';
import { EXIT_CHECK_FAILED } from '../errors.ts';
import { abandonLog, out } from '../io.ts';
import { buildConfig } from '../options.ts';
import { checkMountPoint, mountsOverlap, type Mount } from '../../shell/mount.ts';
import { HostDir } from '../../session/host-dir.ts';

// `kprobesim shell`: a tracefs session on a simulated kernel. On a terminal it prompts and keeps
// a history (readline); otherwise it reads standard input as a script, one complete command at a
// time, and prints each command's output before reading the next. With --log the session's
// event log (what was typed, and everything the kernel did) is written as it goes and committed
// when the input ends; --replay LOG runs a logged session again and shows what it printed.

export interface ShellFlags {
  cpus: number;
  seed: number;
  kernel?: KernelVersion;
  arch: string;
  log?: string;
  force: boolean;
  replay?: string;
  config?: string;
  /** Script mode: print `+ CMD` (the command as typed) before its output. */
  echo?: boolean;
  /** `HOSTDIR:PATH`: host directories mounted read-only in the session's tree. */
  mount?: readonly string[];
}

/**
 * `--mount HOSTDIR:PATH` (PATH absolute; the last `:/` separates them, so HOSTDIR may contain
 * colons): the host directory, confined (src/session/host-dir.ts), at PATH of the tree.
 */
export function parseMounts(specs: readonly string[]): Mount[] {
  const mounts: Mount[] = [];
  for (const spec of specs) {
    const m = /^(.+):(\/.*)$/.exec(spec);
    if (m === null) throw new InputError('--mount', `"${spec}" is not HOSTDIR:PATH (for example ./mods:/mnt)`);
    const point = checkMountPoint(m[2]!);
    if (!point.ok) throw new InputError('--mount', `${m[2]}: ${point.why}`);
    const other = mounts.find((x) => mountsOverlap(x.path, point.path));
    if (other !== undefined) throw new InputError('--mount', `${point.path} overlaps the mount at ${other.path}`);
    mounts.push({ path: point.path, source: new HostDir(m[1]!) });
  }
  return mounts;
}

/** The build options a session's kernel may have (the image's layout: fentry sites, ENDBR64). */
const SHELL_BUILD_OPTIONS = ['ftrace', 'ibt', 'optprobes', 'nopreempt'];

export async function shellCommand(flags: ShellFlags): Promise<number> {
  if (flags.replay !== undefined) return shellReplay(flags.replay);
  const arch = ARCHES.find((a) => a === flags.arch);
  if (arch === undefined) throw new InputError('--arch', `"${flags.arch}" is not an architecture of the simulator (expected ${ARCHES.join(' or ')})`);
  // Bad mounts are bad input before anything is written.
  const mounts = parseMounts(flags.mount ?? []);
  const writer = flags.log === undefined ? null : await LogWriter.create(flags.log, { force: flags.force });
  const write = (line: string): void => {
    // The writer buffers; every command ends with a drain, so memory stays bounded by one command.
    writer?.writeLine(line);
  };
  const settings = { cpus: flags.cpus, seed: flags.seed, kernel: flags.kernel ?? DEFAULT_KERNEL, arch, config: buildConfig(flags.config, arch, SHELL_BUILD_OPTIONS) };
  // The header comes first, but the session publishes its boot events while it is built: hold
  // them until the header is written.
  const early: string[] = [];
  let emit = (line: string): void => void early.push(line);
  // A written log labels each decision with what its step did, as run's logs do.
  const session = new RecordedSession(settings, { onEvent: (e) => emit(JSON.stringify(e)), mounts, labels: writer !== null });
  write(JSON.stringify(session.header()));
  for (const line of early) write(line);
  emit = write;
  let status = 0;
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const runChunk = (chunk: string): void => {
    if (flags.echo === true && !interactive) echoCommand(chunk);
    const r = session.run(chunk);
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    status = r.status;
  };
  const shell = session.shell;

  const rl = createInterface({
    input: process.stdin,
    // Tab completes command names and paths of the simulated tree (src/shell/complete.ts).
    ...(interactive ? { output: process.stdout, terminal: true, historySize: 1000, completer: (line: string) => shell.complete(line) } : { terminal: false }),
  });
  const ps1 = () => session.prompt();
  let pending: string | null = null;
  if (interactive) {
    process.stdout.write(
      `kprobesim shell: a simulated ${settings.kernel} ${arch} kernel with ${flags.cpus} CPU${flags.cpus === 1 ? '' : 's'} (seed ${flags.seed}). Type "help" for the commands, "exit" to leave.\n`,
    );
    rl.setPrompt(ps1());
    rl.prompt();
    // Ctrl-C drops the line being typed, as sh does; it never ends the session. readline keeps
    // what was typed in its buffer, so that buffer must be emptied too: otherwise the next Enter
    // would still run it (an abandoned `echo … > kprobe_events` would register the probe).
    rl.on('SIGINT', () => {
      pending = null;
      process.stdout.write('^C');
      discardLine(rl);
      rl.setPrompt(ps1());
      rl.prompt();
    });
  }
  try {
    for await (const line of rl) {
      // Quotes, a trailing backslash and `&&`/`||` continue onto the next line (PS2).
      pending = pending === null ? line : `${pending}\n${line}`;
      const r = parse(pending);
      if (!r.ok && r.kind === 'incomplete') {
        if (interactive) {
          rl.setPrompt('> ');
          rl.prompt();
        }
        continue;
      }
      runChunk(pending);
      pending = null;
      // After each command the log so far reaches the disk: a crash keeps it readable.
      await writer?.drain().catch((e: unknown) => abandonLog(writer, 'session', e));
      if (shell.exited) break;
      if (interactive) {
        rl.setPrompt(ps1());
        rl.prompt();
      }
    }
    // An unterminated quote at the end of the input is sh's syntax error.
    if (pending !== null && !shell.exited) runChunk(pending);
  } finally {
    rl.close();
  }
  session.finish();
  if (writer !== null) {
    await writer.commit().catch((e: unknown) => abandonLog(writer, 'session', e));
    if (interactive) process.stderr.write(`kprobesim: the session's log is ${flags.log}\n`);
  }
  // Like sh: the status of the last command, or the one `exit N` gave.
  return status;
}

/**
 * `--echo`: the command as typed, after `+ ` (sh -x's PS4) and with `> ` before each continuation
 * line, so that a transcript shows what produced each output. Unlike sh -x it shows the line as
 * typed (quotes, redirections: `> kprobe_events` is what matters here), and it goes to standard
 * output, in order with the output it explains (stderr would be written after each command's
 * output). Blank and comment-only lines are not commands and are not echoed, as with sh -x.
 */
function echoCommand(chunk: string): void {
  const r = parse(chunk);
  if (r.ok && r.list.length === 0) return;
  process.stdout.write(`+ ${chunk.replace(/\n/g, '\n> ')}\n`);
}

/**
 * Empty readline's line buffer and move to a fresh screen line, as Node's own REPL does on
 * Ctrl-C (its `clearLine()`, which the typings do not declare). Fallback with the public API: end
 * of line, a newline, then Ctrl-U (delete to the start of the line).
 */
function discardLine(rl: Interface): void {
  const clear = (rl as unknown as { clearLine?: unknown }).clearLine;
  if (typeof clear === 'function') {
    clear.call(rl);
    return;
  }
  rl.write(null, { ctrl: true, name: 'e' });
  process.stdout.write('\r\n');
  rl.write(null, { ctrl: true, name: 'u' });
}

/** `--replay LOG`: the logged session again, as a transcript; its events must be the logged ones. */
async function shellReplay(path: string): Promise<number> {
  const r = await replaySession(path);
  for (const { cwd, line, result } of r.outputs) {
    out(`${promptFor(cwd)}${line.replace(/\n/g, '\n> ')}\n${result.stdout}${result.stderr}`);
  }
  if (r.kind === 'diverged') {
    process.stderr.write(`kprobesim: the re-run session diverged at seq ${r.seq} (${path}:${r.line})\n  expected (log):  ${r.expected}\n  actual (re-run): ${r.actual}\n`);
    return EXIT_CHECK_FAILED;
  }
  process.stderr.write(`kprobesim: identical: ${r.events} events${r.partial ? ' (the log stops before log.end: an interrupted session)' : ''}\n`);
  return 0;
}
