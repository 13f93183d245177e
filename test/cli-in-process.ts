import { main } from '../src/cli/program.ts';

// Runs the kprobesim command line in this process (src/cli/program.ts's main), capturing what
// it writes. Faster than spawning, and an exception that escapes main fails the test with its
// own stack instead of an exit status.

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

type Write = typeof process.stdout.write;

/** Runs `kprobesim ...args`; `stdin` replaces standard input for the run when given. */
export async function cliInProcess(args: readonly string[], stdin?: string): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { out: process.stdout.write, err: process.stderr.write };
  const capture = (into: string[]): Write =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as Write;
  const savedStdin = Object.getOwnPropertyDescriptor(process, 'stdin');
  if (stdin !== undefined) {
    const { Readable } = await import('node:stream');
    Object.defineProperty(process, 'stdin', { configurable: true, value: Object.assign(Readable.from([Buffer.from(stdin)]), { isTTY: false, fd: -1 }) });
  }
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  try {
    const code = await main(['node', 'kprobesim', ...args]);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    if (stdin !== undefined && savedStdin !== undefined) Object.defineProperty(process, 'stdin', savedStdin);
  }
}
