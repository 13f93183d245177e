// Child process of `npm run bench`: replays one log with replayLog and reports its peak RSS.
// Run as `node --import tsx bench/replay-child.ts <log>`; prints one JSON line on stdout.
// Peak RSS is process.resourceUsage().maxRSS (getrusage ru_maxrss, in KiB): the true high-water
// mark of the whole process, not a sample.

import { replayLog } from '../src/replay/replay.ts';

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: replay-child.ts <log.jsonl>');
  const t0 = performance.now();
  const result = await replayLog(file);
  const seconds = (performance.now() - t0) / 1000;
  const out = {
    kind: result.kind,
    events: result.kind === 'identical' ? result.events : null,
    diverged: result.kind === 'diverged' ? { seq: result.seq, actual: result.actual.slice(0, 200) } : null,
    seconds,
    maxRssKiB: process.resourceUsage().maxRSS,
    rssNow: process.memoryUsage().rss,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
