import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { InputError } from '../../errors.ts';
import { ARCHES, type KernelVersion } from '../../kernel/index.ts';
import { LogWriter } from '../../log/writer.ts';
import { makeHeader } from '../../run/record.ts';
import { sessionScenario } from '../../session/kernel-session.ts';
import { SimBackend } from '../../session/sim-backend.ts';
import { parse, ShellSession } from '../../shell/index.ts';

// `kprobesim shell`: a tracefs session on a simulated kernel. On a terminal it prompts and keeps
// a history (readline); otherwise it reads standard input as a script, one complete command at a
// time, and prints each command's output before reading the next. With --log the session's
// event log (every input a line of it) is written as it goes and committed when the input ends.

export interface ShellFlags {
  cpus: number;
  seed: number;
  kernel?: KernelVersion;
  arch: string;
  log?: string;
  force: boolean;
}

const TRACING = '/sys/kernel/tracing';

export async function shellCommand(flags: ShellFlags): Promise<number> {
  const arch = ARCHES.find((a) => a === flags.arch);
  if (arch === undefined) throw new InputError('--arch', `"${flags.arch}" is not an architecture of the simulator (expected ${ARCHES.join(' or ')})`);
  const scenario = sessionScenario(flags.cpus, flags.kernel, arch);
  const writer = flags.log === undefined ? null : await LogWriter.create(flags.log, { force: flags.force });
  let mustDrain = false;
  const write = (line: string): void => {
    if (writer !== null && !writer.writeLine(line)) mustDrain = true;
  };
  write(JSON.stringify(makeHeader(scenario, { seed: flags.seed, strategy: 'random' })));
  const backend = new SimBackend({
    cpus: flags.cpus,
    seed: flags.seed,
    arch,
    ...(flags.kernel ? { kernel: flags.kernel } : {}),
    onEvent: (e) => write(JSON.stringify(e)),
  });
  const shell = new ShellSession(backend, { cwd: TRACING, home: TRACING });

  /** After each command the log so far reaches the disk: a crash keeps it readable. */
  const flush = async (): Promise<void> => {
    mustDrain = false;
    await writer?.drain();
  };
  let status = 0;
  const runChunk = (chunk: string): void => {
    const r = shell.run(chunk);
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    status = r.status;
  };

  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const rl = createInterface({ input: process.stdin, ...(interactive ? { output: process.stdout, terminal: true, historySize: 1000 } : { terminal: false }) });
  const ps1 = () => `[root@kprobesim ${shell.cwd === '/' ? '/' : basename(shell.cwd)}]# `;
  let pending: string | null = null;
  if (interactive) {
    process.stdout.write(`kprobesim shell: a simulated ${scenario.kernel} ${arch} kernel with ${flags.cpus} CPU${flags.cpus === 1 ? '' : 's'} (seed ${flags.seed}). Type "help" for the commands, "exit" to leave.\n`);
    rl.setPrompt(ps1());
    rl.prompt();
    // Ctrl-C drops the line being typed, as sh does; it never ends the session.
    rl.on('SIGINT', () => {
      pending = null;
      process.stdout.write('^C\n');
      rl.setPrompt(ps1());
      rl.prompt();
    });
  }
  try {
    for await (const line of rl) {
      // Quotes, a trailing backslash and `&&`/`||` continue onto the next line (PS2).
      pending = pending === null ? line : `${pending}\n${line}`;
      const r = parse(pending);
      if (!r.ok && r.kind === 'incomplete') {
        if (interactive) {
          rl.setPrompt('> ');
          rl.prompt();
        }
        continue;
      }
      runChunk(pending);
      pending = null;
      await flush();
      if (shell.exited) break;
      if (interactive) {
        rl.setPrompt(ps1());
        rl.prompt();
      }
    }
    // An unterminated quote at the end of the input is sh's syntax error.
    if (pending !== null && !shell.exited) runChunk(pending);
  } finally {
    rl.close();
  }
  backend.session.finish();
  if (writer !== null) {
    await writer.commit();
    if (interactive) process.stderr.write(`kprobesim: the session's log is ${flags.log}\n`);
  }
  // Like sh: the status of the last command, or the one `exit N` gave.
  return status;
}
