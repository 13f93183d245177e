import { Argument, Command, CommanderError, Option } from 'commander';
import type { DebugfsFile } from './commands/debugfs.ts';
import type { ExploreFlags } from './commands/explore.ts';
import { EXPLORE_STRATEGIES } from '../explore/report.ts';
import { PROGRESS_MODES } from './progress-line.ts';
import { DEFAULT_RUNS, EXPLORE_DIR, parseBound, parseDepth, parseRuns, parseShard, parseWorkers } from './explore-options.ts';
import type { ExportFlags } from './commands/export.ts';
import type { RunFlags } from './commands/run.ts';
import type { ShellFlags } from './commands/shell.ts';
import type { KunitFlags } from './commands/kunit.ts';
import type { ReplayFlags } from './commands/replay.ts';
import { KERNEL_VERSIONS } from '../kernel/releases.ts';
import { EXIT_BAD_INPUT, userMessage } from './errors.ts';
import { DEBUGFS_FILES, DEFAULT_SEED, mutantOption, parseArch, parseCpus, parseSeed, parseSeq, RUN_BUILD_OPTIONS, RUNS_DIR } from './options.ts';

// `kprobesim <command>`: exit 0 success, 1 a check failed (divergence, violated invariant),
// 2 bad input or usage (design.md, "Command line").
//
// Each command's module is imported when that command runs, not before: `kprobesim --help`
// and a usage error load commander and the option parsers only, not the kernel model
// (start-up time is measured by the bench as startup_vs_node_ratio).

/** A fresh commander program whose actions report their exit status through `done`. */
function buildProgram(done: (code: number) => void): Command {
const program = new Command('kprobesim')
  .description('A deterministic simulator of Linux kprobes on a multi-CPU kernel, with replayable event logs.')
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput({ outputError: (s, write) => write(`kprobesim: ${s.replace(/^error: /, '')}`) });

program
  .command('run')
  .description(`run a built-in scenario by name or a scenario file (default: the "default" scenario); writes its event log to ${RUNS_DIR}/ unless --log says where`)
  .argument('[scenario]', 'built-in scenario name or JSON file')
  .option('--seed <S>', 'seed of every choice the run makes', parseSeed, DEFAULT_SEED)
  .option('--cpus <N>', "number of CPUs (overrides the scenario's)", parseCpus)
  .option('--log <FILE>', 'write the event log (JSON Lines) to FILE')
  .option('--no-log', 'write no event log')
  .option('--force', 'replace an existing --log FILE', false)
  .addOption(new Option('--strategy <name>', 'schedule').choices(['random', 'round-robin']).default('random'))
  .addOption(new Option('--kernel <version>', "kernel release to follow (overrides the scenario's; default 6.17)").choices([...KERNEL_VERSIONS]))
  .option('--arch <arch>', "architecture: x86_64 or arm64 (overrides the scenario's)", parseArch)
  .option('--config <LIST>', `kernel build options added to the scenario's (x86_64), comma-separated: ${RUN_BUILD_OPTIONS.join(', ')}`)
  .addOption(mutantOption())
  .option('--dmesg', 'print the whole kernel log after the summary', false)
  .option('--trace', 'print the ftrace trace view after the summary', false)
  .option('--module <FILE.c>', 'a kernel module in C: insmod before the workload (the scenario\'s tasks, or shells opening files), rmmod after; repeatable', (v: string, prev: string[] = []) => [...prev, v])
  .option('--module-param <[MOD.]NAME=VALUE>', 'an insmod parameter of the --module modules (MOD. names one); repeatable', (v: string, prev: string[] = []) => [...prev, v])
  .action(async (scenario: string | undefined, flags: RunFlags) => done(await (await import('./commands/run.ts')).runCommand(scenario, flags)));

program
  .command('replay')
  .description('re-execute a log from its header with the logged decisions; report "identical" or the first diverging seq')
  .argument('<log>', 'an event log written by kprobesim run')
  .option('--by-labels', "lenient: take each logged decision by its label (what its step did) on the model as it is now, compare no events; report where the schedule stops applying, or the run's checks and digest")
  .action(async (log: string, flags: ReplayFlags) => done(await (await import('./commands/replay.ts')).replayCommand(log, flags)));

program
  .command('state')
  .description('fold a log (up to --at SEQ) and print the kernel state as JSON')
  .argument('<log>', 'an event log')
  .option('--at <SEQ>', 'stop after the event with this seq (0: the initial state)', parseSeq)
  .action(async (log: string, flags: { at?: number }) => done(await (await import('./commands/state.ts')).stateCommand(log, flags.at)));

program
  .command('trace')
  .description('print the ftrace `trace` file of a logged run (up to --at SEQ)')
  .argument('<log>', 'an event log')
  .option('--at <SEQ>', 'the file as it was after the event with this seq', parseSeq)
  .action(async (log: string, flags: { at?: number }) => done(await (await import('./commands/trace.ts')).traceCommand(log, flags.at)));

program
  .command('why')
  .description("explain a probe's numbers: each nmissed increment, each failed registration, and what each unregister waited for; without --probe, every probe briefly")
  .argument('<log>', 'an event log')
  .option('--probe <NAME>', 'the probe to explain in full')
  .action(async (log: string, flags: { probe?: string }) => done(await (await import('./commands/why.ts')).whyCommand(log, flags.probe)));

program
  .command('view')
  .description('write the self-contained HTML viewer of a log next to it (LOG with .html): per-CPU lanes, the kernel state at any seq; prints its path')
  .argument('<log>', 'an event log')
  .option('--force', 'replace an existing HTML file', false)
  .action(async (log: string, flags: { force: boolean }) => done(await (await import('./commands/view.ts')).viewCommand(log, flags)));

program
  .command('debugfs')
  .description('print a /sys/kernel/debug/kprobes file (list, blacklist, enabled) as the logged kernel shows it')
  .argument('<log>', 'an event log')
  .addArgument(new Argument('<file>', 'which file').choices([...DEBUGFS_FILES]))
  .option('--at <SEQ>', 'as it was after the event with this seq', parseSeq)
  .action(async (log: string, file: DebugfsFile, flags: { at?: number }) => done(await (await import('./commands/debugfs.ts')).debugfsCommand(log, file, flags.at)));

program
  .command('export')
  .description('write a picture of a logged run: a Perfetto / chrome://tracing timeline (perfetto) or a self-contained HTML viewer (html), next to the log unless --out says where')
  .argument('<log>', 'an event log')
  .addOption(new Option('--format <format>', 'what to write').choices(['perfetto', 'html']).makeOptionMandatory())
  .option('--out <FILE>', 'write to FILE (default: the log\'s name with .perfetto.json or .html for .jsonl)')
  .option('--force', 'replace an existing output file', false)
  .option('--from <SEQ>', 'show the run from the event with this seq', parseSeq)
  .option('--to <SEQ>', 'show the run up to the event with this seq', parseSeq)
  .action(async (log: string, flags: ExportFlags) => done(await (await import('./commands/export.ts')).exportCommand(log, flags)));

program
  .command('kunit')
  .description('build a kernel module in C, load it into a simulated kernel and run the KUnit suites it declares; prints KTAP as the kernel does, exit 1 when a case fails')
  .argument('<file>', "the module's C source (FILE.c)")
  .option('--arch <arch>', 'architecture: x86_64 or arm64', parseArch, 'x86_64')
  .addOption(new Option('--kernel <version>', 'kernel release to follow (default 6.17; KUnit needs 5.10 or later)').choices([...KERNEL_VERSIONS]))
  .option('--cpus <N>', 'number of CPUs', parseCpus, 2)
  .option('--seed <S>', 'seed of every choice the kernel makes', parseSeed, DEFAULT_SEED)
  .action(async (file: string, flags: KunitFlags) => done(await (await import('./commands/kunit.ts')).kunitCommand(file, flags)));

program
  .command('shell')
  .description('a tracefs session on a simulated kernel: kprobe_events, trace, kprobe_profile… (commands from a terminal or standard input)')
  .option('--cpus <N>', 'number of CPUs', parseCpus, 2)
  .option('--seed <S>', 'seed of every choice the kernel makes', parseSeed, DEFAULT_SEED)
  .addOption(new Option('--kernel <version>', 'kernel release to follow (default 6.17)').choices([...KERNEL_VERSIONS]))
  .option('--arch <arch>', 'architecture (register names in fetch arguments)', 'x86_64')
  .option('--config <LIST>', 'kernel build options (x86_64), comma-separated: ftrace (fentry sites, ftrace-based probes), ibt (ENDBR64 entries), optprobes (jump optimization), nopreempt (no CONFIG_PREEMPTION)')
  .option('--log <FILE>', "write the session's event log (JSON Lines) to FILE")
  .option('--force', 'replace an existing --log FILE', false)
  .option('--replay <LOG>', 'run a logged session again: print what it printed, check its events')
  .option('--echo', 'reading a script: print each command as typed ("+ CMD", as sh -x does) before its output, on standard output', false)
  .option('--mount <HOSTDIR:PATH>', 'mount a host directory read-only at PATH of the session (such as ./mods:/mnt; repeatable); nothing else of the host is readable, and what the session reads goes into its log', (v: string, prev: string[] = []) => [...prev, v])
  .action(async (flags: ShellFlags) => done(await (await import('./commands/shell.ts')).shellCommand(flags)));

const exploreCmd = program
  .command('explore')
  .description('search the interleavings of a scenario for a failure (an INV-* violation, a kernel BUG/oops/WARN, a deadlock, a liveness failure, a module\'s data race, use-after-free or WARN_ON), shrink it to its essential preemptions and write its log; exit 1 when one is found')
  .argument('[scenario]', 'built-in scenario name or JSON file (default: "default")')
  .addOption(new Option('--strategy <name>', 'how runs choose their schedules').choices([...EXPLORE_STRATEGIES]).default('portfolio'))
  .option('--runs <N>', 'runs to make (dfs: at most)', parseRuns, DEFAULT_RUNS)
  .option('--seed <S>', 'seed of the exploration (each run\'s schedule seed derives from it and the run\'s index)', parseSeed, DEFAULT_SEED)
  .option('--depth <D>', 'pct: the bug depth d (default 3); dfs: branch only at the first D decisions', parseDepth)
  .option('--preemption-bound <B>', 'dfs: at most B preemptions per schedule (default 2)', parseBound)
  .option('--workers <W>', 'worker processes (the report does not depend on W)', parseWorkers, 1)
  .option('--shard <I/N>', 'run only the runs whose index is I mod N (explore merge combines the shards)', parseShard)
  .option('--out <DIR>', 'where failure logs are written', EXPLORE_DIR)
  .option('--report <FILE>', 'write the report as JSON to FILE')
  .option('--keep-going', 'go on after a failure (without it: stop at the first)', false)
  .addOption(new Option('--progress <mode>', 'progress on standard error (runs, runs/s, distinct states, failures, ETA): auto, a line redrawn when stderr is a terminal and nothing otherwise; plain, a line every 10 s and at the end (for CI logs); off').choices([...PROGRESS_MODES]).default('auto'))
  .addOption(mutantOption())
  .option('--cpus <N>', "number of CPUs (overrides the scenario's)", parseCpus)
  .addOption(new Option('--kernel <version>', "kernel release to follow (overrides the scenario's; default 6.17)").choices([...KERNEL_VERSIONS]))
  .option('--arch <arch>', "architecture: x86_64 or arm64 (overrides the scenario's)", parseArch)
  .option('--config <LIST>', `kernel build options added to the scenario's (x86_64), comma-separated: ${RUN_BUILD_OPTIONS.join(', ')}`)
  .option('--module <FILE.c>', 'a kernel module in C, loaded around the workload as on run (its WARN_ON, KASAN and KCSAN reports are failures too); repeatable', (v: string, prev: string[] = []) => [...prev, v])
  .option('--module-param <[MOD.]NAME=VALUE>', 'an insmod parameter of the --module modules (MOD. names one); repeatable', (v: string, prev: string[] = []) => [...prev, v])
  .action(async (scenario: string | undefined, flags: ExploreFlags) => done(await (await import('./commands/explore.ts')).exploreCommand(scenario, flags)));

exploreCmd
  .command('merge')
  .description('combine the reports of explore --shard I/N runs into the report of the whole exploration (JSON on standard output)')
  .argument('<report...>', 'report files (explore --report)')
  .action(async (reports: string[]) => done(await (await import('./commands/explore.ts')).exploreMergeCommand(reports)));

program
  .command('mutants')
  .description('list the planted-bug kernels for --mutant: name, the rule each breaks, the invariant that catches it')
  .action(async () => done((await import('./commands/mutants.ts')).mutantsCommand()));

program
  .command('scenarios')
  .description('list the built-in scenarios, or print one as a scenario file to edit and run (--show NAME)')
  .option('--show <NAME>', 'print the built-in scenario NAME as a JSON scenario file')
  .action(async (flags: { show?: string }) => done((await import('./commands/scenarios.ts')).scenariosCommand(flags)));

return program;
}

/**
 * Runs `kprobesim` with `argv` (as process.argv: node, script, then the arguments) and returns
 * its exit status. Everything a user can get wrong ends as a message and status 2; anything else
 * is an internal error (70), which is a bug.
 */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, successfully.
      return e.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    }
    const msg = userMessage(e);
    if (msg !== null) {
      process.stderr.write(`kprobesim: ${msg}\n`);
      return EXIT_BAD_INPUT;
    }
    process.stderr.write(`kprobesim: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 70;
  }
}
