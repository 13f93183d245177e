// `npm run bench`: throughput of the engine, the fold and replay on logs of >= 1,000,000 events.
// One line per metric, `name: value unit`; lines starting with `#` are context. Logs go to a
// fresh temp dir that is removed at the end. Wall time is performance.now().

import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as readline from 'node:readline';
import { promisify } from 'node:util';
import { foldLog } from '../src/replay/fold-log.ts';
import { LogWriter } from '../src/log/writer.ts';
import { evolve } from '../src/model/evolve.ts';
import { initialState } from '../src/model/initial.ts';
import type { KernelState } from '../src/model/state.ts';
import { recordRun } from '../src/run/record.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { HITS, LARGE_N, probeScaleRatios, ROUNDS, SMALL_N } from './probe-scale.ts';
import { raceRunsPerSecond, replayVsRun, smallRaceVsFastcheck, speedNotes } from './run-speed.ts';
import { exploreNote, exploreSpeed } from './explore-speed.ts';
import { sctMarkdown, sctTable } from './sct-table.ts';
import { benchScenario } from './scenario.ts';
import { channelCosts } from './channels.ts';
import { startupVsNode } from './startup.ts';
import { viewerFigures, viewerLines } from './viewer.ts';
import { xstateRawSendsPerSecond } from './xstate-raw.ts';

const N_RAW = 1_000_000;
/** ~2.1 events per scheduler step in the bench scenario: 500k steps give ~1.05M events. */
export const STEPS_1M = 500_000;
const STEPS_4M = 4 * STEPS_1M;
export const MIN_EVENTS = 1_000_000;
const SEED = 1;

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');

const fmtRate = (perSecond: number): string => Math.round(perSecond).toString();
const fmtRatio = (r: number): string => r.toFixed(3);
const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);

function metric(name: string, value: string, unit: string): void {
  process.stdout.write(`${name}: ${value} ${unit}\n`);
}
function note(text: string): void {
  process.stdout.write(`# ${text}\n`);
}

/** recordRun into a real LogWriter file, committed (flushed, fsynced, renamed). */
export async function generate(scenario: Scenario, file: string): Promise<{ events: number; seconds: number; endReason: string }> {
  const t0 = performance.now();
  const writer = await LogWriter.create(file, { force: false });
  const result = await recordRun(scenario, { seed: SEED, strategy: 'random' }, writer);
  await writer.commit();
  const seconds = (performance.now() - t0) / 1000;
  if (result.violations.length > 0) note(`warning: ${result.violations.length} invariant violations in the bench run`);
  return { events: result.events, seconds, endReason: result.endReason };
}

/** The value after `name` on the command line of a bench file run alone (`--log FILE`…). */
export function benchArg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

/**
 * For a bench file run alone with `[--log FILE]`: FILE when it exists (kept), else the 1M-event
 * bench log (benchScenario(STEPS_1M), seed 1), recorded to FILE or to a temp dir (`prefix`) that
 * is removed once `use` is done.
 */
export async function withBenchLog(given: string | undefined, prefix: string, use: (log: string) => Promise<void>): Promise<void> {
  const dir = given === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), prefix)) : undefined;
  try {
    let log: string;
    if (given !== undefined && fs.existsSync(given)) {
      log = given;
    } else {
      log = given ?? path.join(dir!, 'bench-1m.jsonl');
      const gen = await generate(benchScenario(STEPS_1M), log);
      if (gen.events < MIN_EVENTS) throw new Error(`the log has only ${gen.events} events; raise STEPS_1M`);
      note(`generated ${log}: ${gen.events} events in ${gen.seconds.toFixed(1)} s`);
    }
    await use(log);
  } finally {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** What `kprobesim state` does: foldLog streams the log in batches, validates every line, evolves. */
export async function foldFile(file: string): Promise<{ events: number; seconds: number; state: KernelState }> {
  const t0 = performance.now();
  const folded = await foldLog(file);
  if (folded.truncatedAt !== null) throw new Error(`bench log is truncated at line ${folded.truncatedAt}`);
  const seconds = (performance.now() - t0) / 1000;
  return { events: folded.lastSeq, seconds, state: folded.state };
}

/**
 * The floor under foldFile: read the file and JSON.parse every line, nothing else. Same line
 * splitting as readLog (fs.createReadStream, utf8, 64 KiB chunks, indexOf('\n'), pieces of a line
 * spanning chunks joined once, "\r" chomped), but inline in one loop: no async generator per
 * line, no validation, no fold.
 */
export async function parseOnly(file: string): Promise<{ lines: number; seconds: number; sink: number }> {
  const t0 = performance.now();
  const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  let pending: string[] = [];
  let lines = 0;
  let sink = 0; // keeps the parsed values observable so the parse cannot be optimized away
  const parse = (line: string): void => {
    const raw = line.endsWith('\r') ? line.slice(0, -1) : line;
    const v = JSON.parse(raw) as { seq?: number };
    sink += v.seq ?? 0;
    lines++;
  };
  for await (const chunk of stream as AsyncIterable<string>) {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      const piece = chunk.slice(start, nl);
      parse(pending.length === 0 ? piece : pending.join('') + piece);
      pending = [];
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(chunk.slice(start));
  }
  if (pending.length > 0) parse(pending.join(''));
  const seconds = (performance.now() - t0) / 1000;
  return { lines, seconds, sink };
}

/** The same loop over node:readline (64 KiB chunks too), for comparison only: a `#` line. */
async function parseReadline(file: string): Promise<{ lines: number; seconds: number; sink: number }> {
  const t0 = performance.now();
  const rl = readline.createInterface({
    input: fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 64 * 1024 }),
    crlfDelay: Infinity,
  });
  let lines = 0;
  let sink = 0;
  for await (const line of rl) {
    const v = JSON.parse(line) as { seq?: number };
    sink += v.seq ?? 0;
    lines++;
  }
  return { lines, seconds: (performance.now() - t0) / 1000, sink };
}

interface ChildReport {
  kind: 'identical' | 'diverged';
  events: number | null;
  diverged: { seq: number; actual: string } | null;
  seconds: number;
  maxRssKiB: number;
  rssNow: number;
}

/** Replays a log in a fresh `node --import tsx` process; its peak RSS is getrusage's maxrss. */
async function replayInChild(file: string): Promise<ChildReport> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', path.join(benchDir, 'replay-child.ts'), file],
    { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 },
  );
  const last = stdout.trim().split('\n').pop() ?? '';
  const report = JSON.parse(last) as ChildReport;
  if (report.kind !== 'identical') {
    throw new Error(`replay of ${file} diverged at seq ${report.diverged?.seq}: ${report.diverged?.actual}`);
  }
  return report;
}

async function main(): Promise<void> {
  const tStart = performance.now();
  note('command: npm run bench');
  note(`node: ${process.version} (${process.platform}/${process.arch})`);
  note(`cpu: ${os.cpus()[0]?.model ?? 'unknown'} x${os.cpus().length}`);

  // 0. Start-up of the installed command (the compiled dist/, built now from these sources).
  const build = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: repoRoot, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed: ${build.stdout}${build.stderr}`);
  const startup = startupVsNode(repoRoot);
  metric('startup_help_cpu_ms', (startup.helpSeconds * 1000).toFixed(0), 'ms');
  metric('startup_node_cpu_ms', (startup.nodeSeconds * 1000).toFixed(0), 'ms');
  metric('startup_vs_node_ratio', fmtRatio(startup.ratio), 'x');
  note('startup: CPU time (user+sys), median of 21 fresh processes each: `node bin/kprobesim.js --help` vs `node -e 0`');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kprobesim-bench-'));
  try {
    const log1 = path.join(dir, 'bench-1m.jsonl');
    const log4 = path.join(dir, 'bench-4m.jsonl');

    // 1. Raw XState: a short warm-up actor first so both sides run JIT-compiled XState.
    xstateRawSendsPerSecond(20_000);
    const raw = xstateRawSendsPerSecond(N_RAW);
    metric('xstate_raw_sends_per_s', fmtRate(raw), 'events/s');

    // 2. The engine, recording to a real log file.
    const scenario1 = benchScenario(STEPS_1M);
    const gen1 = await generate(scenario1, log1);
    if (gen1.events < MIN_EVENTS) throw new Error(`the 1M log has only ${gen1.events} events; raise STEPS_1M`);
    const engine = gen1.events / gen1.seconds;
    metric('engine_events_per_s', fmtRate(engine), 'events/s');
    // 3.
    metric('engine_vs_raw_ratio', fmtRatio(engine / raw), 'x');
    // The channels between actors, per message, over a direct XState send (bench/channels.ts).
    const channels = channelCosts();
    metric('grant_channel_overhead_ns', channels.grantNs.toFixed(0), 'ns');
    metric('call_channel_overhead_ns', channels.callNs.toFixed(0), 'ns');
    note(`channels: per message over a direct send to the same machine (${channels.directNs.toFixed(0)} ns); medians of 5 rounds of 200,000 (bench/channels.ts)`);
    note(
      `log_1m: ${gen1.events} events, ${mib(fs.statSync(log1).size)} MiB, max_steps ${STEPS_1M}, ` +
        `end ${gen1.endReason}, recorded in ${gen1.seconds.toFixed(1)} s`,
    );

    // 4. The fold over the file.
    const fold = await foldFile(log1);
    if (fold.events !== gen1.events) throw new Error(`fold saw ${fold.events} events, the run wrote ${gen1.events}`);
    const foldRate = fold.events / fold.seconds;
    metric('fold_events_per_s', fmtRate(foldRate), 'events/s');

    // 5. Read + JSON.parse only, same splitter as readLog.
    const parse = await parseOnly(log1);
    if (parse.lines !== gen1.events + 1) throw new Error(`parse saw ${parse.lines} lines, expected ${gen1.events + 1}`);
    const parseRate = parse.lines / parse.seconds;
    metric('parse_only_lines_per_s', fmtRate(parseRate), 'lines/s');
    note('parse_only splitter: readLogBatches\' own (createReadStream utf8 256 KiB chunks + indexOf("\\n")), inlined, no per-line generator');
    const rl = await parseReadline(log1);
    note(`parse_only via node:readline instead: ${fmtRate(rl.lines / rl.seconds)} lines/s (not used in the ratio)`);
    // 6.
    metric('fold_vs_parse_ratio', fmtRatio(foldRate / parseRate), 'x');

    // 7. Replay peak RSS in child processes, on the 1M log and on a 4x larger log of the same scenario.
    const gen4 = await generate(benchScenario(STEPS_4M), log4);
    note(
      `log_4m: ${gen4.events} events, ${mib(fs.statSync(log4).size)} MiB, max_steps ${STEPS_4M}, ` +
        `end ${gen4.endReason}, recorded in ${gen4.seconds.toFixed(1)} s (${fmtRate(gen4.events / gen4.seconds)} events/s)`,
    );
    const r1 = await replayInChild(log1);
    const r4 = await replayInChild(log4);
    const rss1 = r1.maxRssKiB / 1024;
    const rss4 = r4.maxRssKiB / 1024;
    metric('log_events_1m', String(gen1.events), 'events');
    metric('log_events_4m', String(gen4.events), 'events');
    metric('replay_rss_mb_1m', rss1.toFixed(1), 'MB');
    metric('replay_rss_mb_4m', rss4.toFixed(1), 'MB');
    metric('replay_rss_ratio_4m_vs_1m', fmtRatio(rss4 / rss1), 'x');
    note(
      `replay (child, MB = MiB from getrusage maxrss): 1m ${r1.events} events in ${r1.seconds.toFixed(1)} s ` +
        `(${fmtRate(r1.events! / r1.seconds)} events/s); 4m ${r4.events} events in ${r4.seconds.toFixed(1)} s ` +
        `(${fmtRate(r4.events! / r4.seconds)} events/s)`,
    );

    // The HTML viewer of the 1M log: the file's size, and the page's load in headless Chromium (bench/viewer.ts).
    for (const line of viewerLines(await viewerFigures(log1))) process.stdout.write(`${line}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // 8. Runs with thousands of probes (bench/probe-scale.ts).
  const scale = probeScaleRatios();
  metric('hit_cost_ratio_4096_vs_10', fmtRatio(scale.hitRatio), 'x');
  metric('register_cost_ratio_4096_vs_10', fmtRatio(scale.registerRatio), 'x');
  note(
    `probe_scale: in-process runs (fold and monitors, no log), 1 CPU: one task registers N probes (one on vfs_read, the others on other instructions, ` +
      `aggregated once the image runs out of them), then calls vfs_read ${HITS} times; wall time per hit of that probe and per registration, N = ${LARGE_N} over N = ${SMALL_N}: ` +
      `${scale.large.usPerHit.toFixed(0)} / ${scale.small.usPerHit.toFixed(0)} us per hit, ${scale.large.usPerRegistration.toFixed(0)} / ${scale.small.usPerRegistration.toFixed(0)} us per registration (medians of ${ROUNDS} rounds; ${scale.seconds.toFixed(1)} s)`,
  );
  // 9. Replay against recording, and many short runs in one process (bench/run-speed.ts).
  const replayRun = await replayVsRun();
  metric('replay_vs_run_ratio', fmtRatio(replayRun.ratio), 'x');
  const race = await raceRunsPerSecond();
  metric('race_runs_per_s', race.runsPerSecond.toFixed(1), 'runs/s');
  const small = await smallRaceVsFastcheck();
  metric('small_race_vs_fastcheck_ratio', fmtRatio(small.ratio), 'x');
  for (const n of speedNotes(replayRun, race, small)) note(n);
  // 10. Exploration (issue 12; bench/explore-speed.ts).
  const ex = await exploreSpeed();
  metric('explore_runs_per_s', ex.runsPerSecond.toFixed(1), 'runs/s');
  metric('explore_speedup_2_workers', fmtRatio(ex.speedup2Workers), 'x');
  note(exploreNote(ex));
  // 11. Runs to the first failure per strategy, SCTBench's table (issue 12; bench/sct-table.ts).
  const sct = await sctTable();
  for (const line of sctMarkdown(sct).split('\n')) note(line);
  metric('pct_finds_every_mutant', sct.pctFindsEveryMutant ? 'yes' : 'NO', `(pct or portfolio, within ${sct.budget} runs)`);
  metric('sct_false_positives', String(sct.falsePositives.length), 'failures');
  if (sct.falsePositives.length > 0) note(`BUG: failures on code that must have none: ${sct.falsePositives.join('; ')}`);
  note(`sct table: ${sct.seconds.toFixed(1)} s on 2 worker threads (the counts are seeded: the same on every machine)`);
  metric('bench_total_s', ((performance.now() - tStart) / 1000).toFixed(1), 's');
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
