import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../../errors.ts';
import { eachEvent, type LogEnd } from '../../replay/fold-log.ts';
import { openLog } from '../../replay/open-log.ts';
import { TimelineBuilder } from '../../timeline/build.ts';
import type { Timeline } from '../../timeline/model.ts';
import { perfettoJson } from '../../timeline/perfetto.ts';
import { readViewerLog, viewerHtml } from '../../viewer/html.ts';
import { EXIT_OK } from '../errors.ts';
import { exists, noteIfPartial, writeFileAtomically } from '../io.ts';

// `kprobesim export LOG --format perfetto|html [--out FILE] [--force] [--from SEQ] [--to SEQ]`:
// a picture of a logged run, written next to the log unless --out says where. The file goes
// through a temporary file and a rename, and an existing one is replaced only with --force.
//
// Each format is one entry of FORMATS: the extension that replaces the log's `.jsonl` when there
// is no --out, and a function that renders the file's text from the log (reading it however it
// needs: `timelineOfLog` gives the timeline model of the window, with the range checked).

export interface SeqRange {
  readonly from?: number;
  readonly to?: number;
}

export interface ExportFormat {
  /** Replaces the log's `.jsonl` (or is appended to its name) for the default output file. */
  readonly extension: string;
  /** The output file's text for the log at `path`, restricted to the seq window `range`. */
  render(path: string, range: SeqRange): Promise<string>;
}

/** Chrome trace-event JSON for ui.perfetto.dev and chrome://tracing (src/timeline/perfetto.ts). */
const perfetto: ExportFormat = {
  extension: '.perfetto.json',
  async render(path, range) {
    return perfettoJson(await timelineOfLog(path, range));
  },
};

/**
 * The self-contained HTML viewer with time travel (src/viewer/html.ts): the page lays the window
 * out with the same timeline builder, and folds the whole log up to the window's end itself.
 */
const html: ExportFormat = {
  extension: '.html',
  async render(path, range) {
    const read = await readViewerLog(path, range);
    checkRangeInLog(range, read.lastSeq);
    if (range.to === undefined) noteIfPartial(path, read);
    return viewerHtml(read.payload);
  },
};

/** The formats `--format` accepts. */
export const FORMATS = { perfetto, html } as const satisfies Readonly<Record<string, ExportFormat>>;

export const FORMAT_NAMES = Object.keys(FORMATS) as (keyof typeof FORMATS)[];

export interface ExportFlags {
  format: string;
  out?: string;
  force: boolean;
  from?: number;
  to?: number;
}

/** Where the export of `log` goes without --out: next to it, `.jsonl` replaced by the extension. */
export function defaultOutput(log: string, extension: string): string {
  const name = basename(log);
  const stem = name.endsWith('.jsonl') && name.length > '.jsonl'.length ? name.slice(0, -'.jsonl'.length) : name;
  return join(dirname(log), stem + extension);
}

/** Refuses a window that cannot be one before the log is read. */
export function checkRangeFlags(range: SeqRange): void {
  if (range.from !== undefined && range.from < 1) throw new InputError('--from', `seq ${range.from} is before the first event (seqs start at 1)`);
  if (range.to !== undefined && range.to < 1) throw new InputError('--to', `seq ${range.to} is before the first event (seqs start at 1)`);
  if (range.from !== undefined && range.to !== undefined && range.from > range.to) {
    throw new InputError('--from', `seq ${range.from} is after --to ${range.to} (expected --from <= --to)`);
  }
}

/** Refuses a window that reaches past the log's last event (`lastSeq`). */
export function checkRangeInLog(range: SeqRange, lastSeq: number): void {
  for (const [flag, seq] of [['--from', range.from], ['--to', range.to]] as const) {
    if (seq !== undefined && seq > lastSeq) throw new InputError(flag, `the log has events up to seq ${lastSeq}; there is no seq ${seq}`);
  }
}

/**
 * Reads the log at `path` (streaming) into the timeline model of the window `range`. A log cut
 * short by a crash is read up to its last complete event, with a note on stderr; a line that
 * does not fit the fold, or a window past the log's end, is an InputError.
 */
export async function timelineOfLog(path: string, range: SeqRange = {}): Promise<Timeline> {
  checkRangeFlags(range);
  const log = await openLog(path);
  const builder = new TimelineBuilder(log.header, log.scenario, range);
  let end: LogEnd;
  try {
    // Past the window the timeline needs nothing more, and the range is known to be fine.
    end = await eachEvent(log, path, range.to, (e) => builder.push(e));
  } finally {
    await log.close();
  }
  checkRangeInLog(range, end.lastSeq);
  if (range.to === undefined) noteIfPartial(path, end);
  return builder.finish();
}

export async function exportCommand(path: string, flags: ExportFlags): Promise<number> {
  // An own key only: `--format constructor` is an unknown format, not Object's prototype.
  if (!Object.hasOwn(FORMATS, flags.format)) {
    throw new InputError('--format', `unknown format ${JSON.stringify(flags.format)} (expected ${FORMAT_NAMES.join(' or ')})`);
  }
  const format: ExportFormat = FORMATS[flags.format as keyof typeof FORMATS];
  const range: SeqRange = { ...(flags.from !== undefined ? { from: flags.from } : {}), ...(flags.to !== undefined ? { to: flags.to } : {}) };
  checkRangeFlags(range);
  const out = flags.out ?? defaultOutput(path, format.extension);
  if (resolve(out) === resolve(path)) throw new InputError(out, 'is the log itself (expected another --out file)');
  // Refuse before the work, not after it (writeFileAtomically checks again).
  if (!flags.force && (await exists(out))) throw new InputError(out, 'exists; pass --force to replace it');
  const text = await format.render(path, range);
  await writeFileAtomically(out, text, flags.force);
  process.stdout.write(`${out}\n`);
  return EXIT_OK;
}
