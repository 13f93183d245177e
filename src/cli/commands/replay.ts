import { replayLog } from '../../replay/replay.ts';
import { EXIT_CHECK_FAILED, EXIT_OK } from '../errors.ts';
import { out } from '../io.ts';

export async function replayCommand(path: string): Promise<number> {
  const r = await replayLog(path);
  if (r.kind === 'diverged') {
    out(
      [
        `diverged at seq ${r.seq} (${path}:${r.line})`,
        `  expected (log):    ${r.expected}`,
        `  actual (replay):   ${r.actual}`,
        '',
      ].join('\n'),
    );
    return EXIT_CHECK_FAILED;
  }
  if (r.truncatedAt !== null) {
    out(`identical for all ${r.events} complete events; ${path}:${r.truncatedAt} is cut short (an interrupted run), so there is no final digest to check\n`);
  } else if (r.digest === null) {
    out(`identical for all ${r.events} complete events; the log stops before log.end (an interrupted run), so there is no final digest to check\n`);
  } else {
    out(`identical: ${r.events} events, final digest ${r.digest}\n`);
  }
  return EXIT_OK;
}
