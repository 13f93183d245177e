// Issue 10's fold_vs_parse_ratio alone: `npx tsx bench/fold-speed.ts [--log FILE] [--rounds N]`.
// Records one bench log (bench/scenario.ts, STEPS_1M steps, seed 1) as bench/run.ts does, unless
// --log names an existing file to reuse (it is kept then; a generated log goes to a temp dir that
// is removed). Then, per round, foldFile (what `kprobesim state` does) and parseOnly (read +
// JSON.parse, same splitter) back to back: bench/run.ts's own functions, its definitions of
// fold_events_per_s, parse_only_lines_per_s and their ratio. Prints every round and the medians;
// the digest line lets two trees be compared on the same log.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { digestState } from '../src/model/digest.ts';
import { foldFile, generate, MIN_EVENTS, parseOnly, STEPS_1M } from './run.ts';
import { benchScenario } from './scenario.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const rounds = Number(arg('--rounds') ?? '3');
  const given = arg('--log');
  const dir = given === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), 'kprobesim-fold-speed-')) : undefined;
  try {
    let log: string;
    if (given !== undefined && fs.existsSync(given)) {
      log = given;
    } else {
      log = given ?? path.join(dir!, 'bench-1m.jsonl');
      const gen = await generate(benchScenario(STEPS_1M), log);
      if (gen.events < MIN_EVENTS) throw new Error(`the log has only ${gen.events} events; raise STEPS_1M`);
      process.stdout.write(`# generated ${log}: ${gen.events} events in ${gen.seconds.toFixed(1)} s\n`);
    }
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
  } finally {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
