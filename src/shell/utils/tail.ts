// BusyBox tail: the last N lines (default 10), or with `-n +N` everything from line N on.

import { linesApplet } from './lines-applet.ts';

export const tail = linesApplet('tail', 'tail [-n [+]N | -N] [FILE]...', 'print the last N lines (default 10); -n +N: from line N on', (all, args) =>
  args.fromStart ? all.slice(Math.max(args.count, 1) - 1) : args.count === 0 ? [] : all.slice(-args.count),
);
