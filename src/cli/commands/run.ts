import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_KERNEL, type Arch, type KernelVersion } from '../../kernel/index.ts';
import { symbolsOf } from '../../model/setup.ts';
import { canonicalJson } from '../../model/digest.ts';
import { LogWriter, type LineSink } from '../../log/writer.ts';
import { makeHeader, recordRun, RunInterrupted, type RunOptions } from '../../run/record.ts';
import { loadScenario } from '../../scenario/load.ts';
import type { Scenario } from '../../scenario/types.ts';
import { validateScenario } from '../../scenario/validate.ts';
import { renderSummary } from '../../views/summary.ts';
import { EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK } from '../errors.ts';
import { abandonLog, exists, out } from '../io.ts';
import { InputError, InputErrors } from '../../errors.ts';
import { buildConfig, RUN_BUILD_OPTIONS, RUNS_DIR } from '../options.ts';
import type { MutantName } from '../../kprobes/mutants.ts';
import { moduleScenario, withModuleFlags } from '../module-flags.ts';

export interface RunFlags {
  seed: number;
  cpus?: number;
  log?: string | false;
  force: boolean;
  strategy: RunOptions['strategy'];
  kernel?: KernelVersion;
  arch?: Arch;
  config?: string;
  mutant?: MutantName;
  dmesg: boolean;
  trace: boolean;
  /** Kernel modules in C to load around the workload (issue 11). */
  module?: string[];
  moduleParam?: string[];
}

/** The shell's status for a process stopped by SIGINT. */
const EXIT_INTERRUPTED = 130;

/** A sink that also hashes what passes through it, to compare with an existing file. */
function hashing(inner: LineSink) {
  const h = createHash('sha256');
  return {
    sink: {
      writeLine(line: string) {
        h.update(line).update('\n');
        return inner.writeLine(line);
      },
      drain: () => inner.drain(),
    },
    digest: () => h.digest('hex'),
  };
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/**
 * --cpus, --kernel, --arch and --config override the scenario's (--config adds build options to
 * its own); the result is validated again as a whole, and a misfit names the option.
 */
export function withOverrides(s: Scenario, flags: Pick<RunFlags, 'cpus' | 'kernel' | 'arch' | 'config'>): Scenario {
  const arch = flags.arch ?? s.arch ?? 'x86_64';
  const config = { ...s.config, ...buildConfig(flags.config, arch, RUN_BUILD_OPTIONS) };
  const changes: [string, string, Partial<Scenario>][] = [];
  if (flags.cpus !== undefined && flags.cpus !== s.cpus) changes.push(['--cpus', String(flags.cpus), { cpus: flags.cpus }]);
  if (flags.kernel !== undefined && flags.kernel !== (s.kernel ?? DEFAULT_KERNEL)) changes.push(['--kernel', flags.kernel, { kernel: flags.kernel }]);
  if (flags.arch !== undefined && flags.arch !== (s.arch ?? 'x86_64')) changes.push(['--arch', flags.arch, { arch: flags.arch }]);
  if (flags.config !== undefined) changes.push(['--config', flags.config, { config }]);
  if (changes.length === 0) return s;
  try {
    return validateScenario(Object.assign({ ...s }, ...changes.map(([, , c]) => c)));
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    // The last option given is the likely misfit; all are named when there are several.
    // Each of several validation errors keeps its own line, each naming the option.
    const [option, value] = changes.at(-1)!;
    const all = changes.length > 1 ? ` (with ${changes.map(([o, v]) => `${o} ${v}`).join(', ')})` : '';
    const misfit = (x: InputError) => new InputError(option, `${value} does not fit the scenario${all}: ${x.message}`);
    throw e instanceof InputErrors ? new InputErrors(e.errors.map(misfit)) : misfit(e);
  }
}

export async function runCommand(arg: string | undefined, flags: RunFlags): Promise<number> {
  const modules = flags.module ?? [];
  // With --module and no scenario the workload is the modules' own (src/cexec defaultWorkload).
  const loaded = modules.length > 0 && arg === undefined ? moduleScenario('run', modules) : await loadScenario(arg ?? 'default');
  let scenario = withOverrides(loaded, flags);
  if (modules.length > 0) {
    // A module that does not compile is bad input: gcc's diagnostics, nothing run.
    const withModules = await withModuleFlags(scenario, modules, flags.moduleParam ?? []);
    if (withModules === null) return EXIT_BAD_INPUT;
    scenario = withModules;
  }
  const opts: RunOptions = { seed: flags.seed, strategy: flags.strategy, ...(flags.mutant !== undefined ? { mutant: flags.mutant } : {}) };

  // Every run writes a log. Without --log it goes to kprobesim-runs/, named by what the run is:
  // the same scenario and seed always give the same name and, by determinism, the same bytes.
  let target: string | null = null;
  let isDefault = false;
  if (flags.log !== false) {
    if (typeof flags.log === 'string') target = flags.log;
    else {
      const id = createHash('sha256').update(canonicalJson(makeHeader(scenario, opts))).digest('hex').slice(0, 8);
      await mkdir(RUNS_DIR, { recursive: true });
      const mutant = opts.mutant === undefined ? '' : `-mutant-${opts.mutant}`;
      target = join(RUNS_DIR, `${scenario.name.replace(/[^A-Za-z0-9_.-]/g, '_')}-seed${opts.seed}${mutant}-${id}.jsonl`);
      isDefault = true;
    }
  }
  const previous = target !== null && isDefault && (await exists(target));
  const writer = target === null ? null : await LogWriter.create(target, { force: flags.force || previous });
  const hashed = writer === null ? null : hashing(writer);
  let logNote: string | null = null;
  let result;
  // Ctrl-C stops the run between steps: the log so far stays in <log>.partial, readable.
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once('SIGINT', onSigint);
  try {
    result = await recordRun(scenario, opts, hashed?.sink ?? null, stop.signal);
  } catch (e) {
    const partial = await writer?.abort();
    if (e instanceof RunInterrupted) {
      process.stderr.write(`kprobesim: interrupted after event seq ${e.seq}${partial ? `; the log so far is in ${partial}` : ''}\n`);
      return EXIT_INTERRUPTED;
    }
    if (partial) process.stderr.write(`kprobesim: the run stopped; its log so far is in ${partial}\n`);
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (writer !== null && target !== null) {
    if (previous) {
      const same = (await hashFile(target)) === hashed!.digest();
      const partial = await writer.abort();
      if (partial !== null) await unlink(partial);
      if (!same) {
        throw new InputError(target, 'exists and differs from this run (another kprobesim version?); pass --force to replace it or --log FILE');
      }
      logNote = `${target} (unchanged: this run is byte-identical to it)`;
    } else {
      // A full disk shows up here at the latest (writes are buffered).
      await writer.commit().catch((e: unknown) => abandonLog(writer, 'run', e));
      logNote = target;
    }
  }
  out(
    renderSummary({
      scenario,
      seed: opts.seed,
      strategy: opts.strategy,
      state: result.state,
      events: result.events,
      endReason: result.endReason,
      violations: result.violations,
      expectFailures: result.expectFailures,
      dmesg: result.dmesg,
      // Runs with C modules say what KCSAN found on their memory, none included.
      ...((scenario.modules ?? []).some((m) => m.source !== undefined) ? { kcsan: result.kcsan } : {}),
      digest: result.digest,
      symbols: symbolsOf(scenario),
      logNote,
      dmesgFollows: flags.dmesg,
      asLoaded: loaded,
      ...(opts.mutant !== undefined ? { mutant: opts.mutant } : {}),
    }),
  );
  if (flags.dmesg) out(['', '--- dmesg ---', ...result.dmesg, ''].join('\n'));
  if (flags.trace) {
    out('\n' + result.trace.text(scenario.cpus));
    const note = result.trace.note(logNote === null ? null : target);
    if (note !== null) process.stderr.write(note);
  }
  return result.violations.length > 0 || result.expectFailures.length > 0 ? EXIT_CHECK_FAILED : EXIT_OK;
}
