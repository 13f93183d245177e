import { InputError } from '../../errors.ts';
import { foldLog } from '../../replay/fold-log.ts';
import { openLog } from '../../replay/open-log.ts';
import { RecordedSession, replaySession, sessionSettings, TRACING } from '../../session/recorded.ts';
import { loggedMounts } from '../../session/mount-record.ts';
import type { LoggedEvent } from '../../model/events.ts';
import { openRead } from '../../shell/io.ts';
import { TraceView } from '../../views/trace.ts';
import { EXIT_CHECK_FAILED, EXIT_OK } from '../errors.ts';
import { noteIfPartial, out } from '../io.ts';

/** `trace LOG [--at SEQ]`: the kernel's `trace` file after the event SEQ (default: the end). */
export async function traceCommand(path: string, at?: number): Promise<number> {
  if (await isSessionLog(path)) return at === undefined ? sessionTrace(path) : sessionTraceAt(path, at);
  let view: TraceView | null = null;
  const folded = await foldLog(path, (scenario) => ((view = new TraceView(scenario)), []), at);
  // stdout is the kernel's file; why it has no records goes to stderr.
  out(view!.text(folded.cpus));
  const note = view!.note(path);
  if (note !== null) process.stderr.write(note);
  noteIfPartial(path, folded, at);
  return EXIT_OK;
}

async function isSessionLog(path: string): Promise<boolean> {
  const log = await openLog(path);
  try {
    sessionSettings(path, log.header, log.scenario);
    return true;
  } catch (e) {
    if (e instanceof InputError) return false;
    throw e;
  } finally {
    await log.batches.return(undefined);
  }
}

/** The session's trace file as the kernel serves it now: read directly, no `cat` task forked. */
function traceFile(session: RecordedSession): string {
  session.shell.tracing.pull();
  const o = openRead(session.shell.vfs, session.shell.tracing, TRACING, 'trace');
  if (!o.ok || 'dir' in o) throw new Error('internal: the session has no trace file');
  const r = o.ops.read();
  return r.ok ? r.data : '';
}

/**
 * A shell session's `trace` is the shell's own file (filters, options, `echo > trace` and all):
 * the session runs again from its log, and the file is read as it was at the end.
 */
async function sessionTrace(path: string): Promise<number> {
  const r = await replaySession(path);
  if (r.kind === 'diverged') {
    process.stderr.write(`kprobesim: ${path}:${r.line}: the session does not re-run as logged (seq ${r.seq} differs); see kprobesim shell --replay\n`);
    return EXIT_CHECK_FAILED;
  }
  out(traceFile(r.session));
  if (r.partial) process.stderr.write(`kprobesim: note: ${path} stops before log.end (an interrupted session); this is its trace up to there\n`);
  return EXIT_OK;
}

/**
 * The file as it was after event `at`: the lines typed up to then run again, and records of
 * events past `at` (the rest of the command running then) are not written.
 */
async function sessionTraceAt(path: string, at: number): Promise<number> {
  const log = await openLog(path);
  const settings = sessionSettings(path, log.header, log.scenario);
  const lines: string[] = [];
  const events: { event: LoggedEvent; line: number }[] = [];
  let last = 0;
  for await (const batch of log.batches) {
    for (const e of batch) {
      if (e.kind !== 'event') continue;
      last = e.event.seq;
      if (e.event.type === 'input.line' && e.event.seq <= at) lines.push(e.event.text);
      if (e.event.type === 'input.mount' || e.event.type === 'input.mount.read') events.push(e);
    }
  }
  if (at > last) throw new InputError('--at', `the log has events up to seq ${last}; there is no seq ${at}`);
  // What the session read of its mounts comes from the log, as in shell --replay.
  const session = new RecordedSession(settings, { traceUpTo: at, mounts: loggedMounts(events, path) });
  for (const line of lines) session.run(line);
  out(traceFile(session));
  return EXIT_OK;
}
