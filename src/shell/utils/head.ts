// BusyBox head: the first N lines (default 10) of each file or of standard input.

import { linesApplet } from './lines-applet.ts';

export const head = linesApplet('head', 'head [-n N | -N] [FILE]...', 'print the first N lines (default 10)', (all, args) => all.slice(0, args.count));
