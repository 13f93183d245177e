import type { LogHeader } from '../log/header.ts';
import type { Scenario } from '../scenario/types.ts';

// What the HTML file carries besides the page's script: the log, compact, and what the page
// needs to read it. Written by ./html.ts (Node), read by ./page/ (the browser). Plain JSON in a
// <script type="application/json"> element; the events are the log's own lines, gzip'ed and in
// base64, which the page inflates with the browser's DecompressionStream (no library, no network).

export const PAYLOAD_ELEMENT_ID = 'kprobesim-log';
export const PAYLOAD_FORMAT = 'kprobesim-viewer';
export const PAYLOAD_VERSION = 1;

export interface ViewerPayload {
  readonly format: typeof PAYLOAD_FORMAT;
  readonly version: typeof PAYLOAD_VERSION;
  /** The log file's name as given on the command line, for the page's title. */
  readonly file: string;
  /** Line 1 of the log. */
  readonly header: LogHeader;
  /** The header's scenario as validated by the reader (the page folds from its initial state). */
  readonly scenario: Scenario;
  /** The seq window to draw ([from, to] of `export --from/--to`, else the whole log). */
  readonly from: number;
  readonly to: number;
  /** How many event lines `log` holds: seqs 1 … events (the fold needs the whole prefix). */
  readonly events: number;
  /** The event lines (not the header), each ending in "\n", gzip'ed, in base64. */
  readonly log: string;
  /** The log stops before log.end (an interrupted run) or its last line was cut short, inside the window. */
  readonly partial: boolean;
}
