// Issue 10's fold_vs_parse_ratio alone: `npx tsx bench/fold-speed.ts [--log FILE] [--rounds N]`.
// Records one bench log (bench/scenario.ts, STEPS_1M steps, seed 1) as bench/run.ts does, unless
// --log names an existing file to reuse (it is kept then; a generated log goes to a temp dir that
// is removed). Then, per round, foldFile (what `kprobesim state` does) and parseOnly (read +
// JSON.parse, same splitter) back to back: bench/run.ts's own functions, its definitions of
// fold_events_per_s, parse_only_lines_per_s and their ratio. Prints every round and the medians;
// the digest line lets two trees be compared on the same log.

import { digestState } from '../src/model/digest.ts';
import { benchArg, foldFile, parseOnly, withBenchLog } from './run.ts';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const rounds = Number(benchArg('--rounds') ?? '3');
  await withBenchLog(benchArg('--log'), 'kprobesim-fold-speed-', async (log) => {
    const folds: number[] = [];
    const parses: number[] = [];
    const ratios: number[] = [];
    for (let r = 1; r <= rounds; r++) {
      const fold = await foldFile(log);
      const parse = await parseOnly(log);
      if (parse.lines !== fold.events + 1) throw new Error(`parse saw ${parse.lines} lines, the fold ${fold.events} events`);
      const foldRate = fold.events / fold.seconds;
      const parseRate = parse.lines / parse.seconds;
      folds.push(foldRate);
      parses.push(parseRate);
      ratios.push(foldRate / parseRate);
      process.stdout.write(
        `# round ${r}: fold ${Math.round(foldRate)} events/s, parse ${Math.round(parseRate)} lines/s, ratio ${(foldRate / parseRate).toFixed(3)}` +
          (r === 1 ? `, ${fold.events} events, digest ${digestState(fold.state)}` : '') +
          '\n',
      );
    }
    process.stdout.write(`fold_events_per_s: ${Math.round(median(folds))} events/s\n`);
    process.stdout.write(`parse_only_lines_per_s: ${Math.round(median(parses))} lines/s\n`);
    process.stdout.write(`fold_vs_parse_ratio: ${median(ratios).toFixed(3)} x\n`);
    process.stdout.write(`# medians of ${rounds} rounds; ratio range ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}\n`);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
