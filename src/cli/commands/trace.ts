import { InputError } from '../../errors.ts';
import { foldLog } from '../../replay/fold-log.ts';
import { openLog } from '../../replay/open-log.ts';
import { rerunSession, sessionSettings, TRACING } from '../../session/recorded.ts';
import { TraceView } from '../../views/trace.ts';
import { EXIT_CHECK_FAILED, EXIT_OK } from '../errors.ts';
import { noteIfPartial, out } from '../io.ts';

export async function traceCommand(path: string): Promise<number> {
  if (await isSessionLog(path)) return sessionTrace(path);
  let view: TraceView | null = null;
  const folded = await foldLog(path, (scenario) => ((view = new TraceView(scenario)), []));
  // stdout is the kernel's file; why it has no records goes to stderr.
  out(view!.text(folded.cpus));
  const note = view!.note(path);
  if (note !== null) process.stderr.write(note);
  noteIfPartial(path, folded);
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

/**
 * A shell session's `trace` is the shell's own file (filters, options, `echo > trace` and all):
 * the session runs again from its log, and the file is read as it was at the end.
 */
async function sessionTrace(path: string): Promise<number> {
  const r = await rerunSession(path);
  if (r.kind === 'diverged') {
    process.stderr.write(`kprobesim: ${path}:${r.line}: the session does not re-run as logged (seq ${r.seq} differs); see kprobesim shell --replay\n`);
    return EXIT_CHECK_FAILED;
  }
  out(r.session.shell.run(`cat ${TRACING}/trace`).stdout);
  if (r.partial) process.stderr.write(`kprobesim: note: ${path} stops before log.end (an interrupted session); this is its trace up to there\n`);
  return EXIT_OK;
}
