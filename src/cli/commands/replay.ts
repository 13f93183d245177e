import { replayByLabels, type ByLabelsResult } from '../../replay/by-labels.ts';
import { replayLog } from '../../replay/replay.ts';
import { scheduleMessage } from '../../replay/schedule.ts';
import { EXIT_CHECK_FAILED, EXIT_OK } from '../errors.ts';
import { out } from '../io.ts';

export interface ReplayFlags {
  /** Lenient: take each decision by its label on the model as it is now; compare no events. */
  readonly byLabels?: boolean;
}

export async function replayCommand(path: string, flags: ReplayFlags = {}): Promise<number> {
  if (flags.byLabels === true) return byLabels(path, await replayByLabels(path));
  const r = await replayLog(path);
  if (r.kind === 'diverged') {
    out(
      [
        `diverged at seq ${r.seq} (${path}:${r.line})`,
        ...(r.schedule !== undefined ? [`  ${scheduleMessage(r.schedule)}`] : []),
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

/** The lenient replay's report: where the schedule stops applying (exit 1), or how the run went with all of it. */
function byLabels(path: string, r: ByLabelsResult): number {
  if (r.kind === 'stopped') {
    out(`${scheduleMessage(r.schedule)} (${path}:${r.schedule.line}; ${r.applied} decision${r.applied === 1 ? '' : 's'} applied before it)\n`);
    return EXIT_CHECK_FAILED;
  }
  const lines = [
    `all ${r.decisions} decisions applied by label${r.moved > 0 ? ` (${r.moved} on another CPU than logged)` : ''}`,
    r.endReason === null ? 'the run goes on past the log\'s last decision' : `ended: ${r.endReason}${r.halted !== null ? ` (${r.halted})` : ''}`,
    r.loggedDigest === null
      ? `digest ${r.digest} (the log has no log.end to compare it with)`
      : r.digest === r.loggedDigest
        ? `digest ${r.digest}, the same as the log's`
        : `digest ${r.digest} differs from the log's ${r.loggedDigest}`,
    r.violations.length === 0 && r.expectFailures.length === 0 ? 'invariants: all hold' : `violations: ${r.violations.length + r.expectFailures.length}`,
    ...r.violations.map((v) => `  ${v.inv} at seq ${v.seq}: ${v.message}`),
    ...r.expectFailures.map((f) => `  expect at seq ${f.seq}: ${f.message}`),
    '',
  ];
  out(lines.join('\n'));
  return EXIT_OK;
}
