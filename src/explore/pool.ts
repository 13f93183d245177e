import Tinypool from 'tinypool';
import type { BatchTask, RunResult } from './batch.ts';

// The workers of `--workers W` (tinypool). They are child processes, not threads: a run allocates
// fast, and V8's collector helps every heap with threads of its own, so one thread of runs already
// keeps ~1.2 cores busy (measured: 7.2 s of CPU in 5.9 s of wall time for 300 runs) and W threads
// in one process fight their collectors for the same cores. A process per worker can run its
// collector on its own thread (`--single-threaded-gc`), so W workers on W cores do W times the
// work of one core's worth. Run from the TypeScript sources (tests, tsx), the workers load them
// through tsx's loader; the installed package runs its compiled worker.js.

function workerModule(): { filename: string; execArgv: string[] } {
  const execArgv = ['--single-threaded-gc'];
  if (!import.meta.url.endsWith('.ts')) return { filename: new URL('./worker.js', import.meta.url).href, execArgv };
  return { filename: new URL('./worker.ts', import.meta.url).href, execArgv: [...execArgv, '--import', import.meta.resolve('tsx')] };
}

export class BatchPool {
  private readonly pool: Tinypool;

  constructor(workers: number) {
    const { filename, execArgv } = workerModule();
    this.pool = new Tinypool({
      filename,
      execArgv,
      runtime: 'child_process',
      // Results are plain data (structured clone keeps them as they are, bigints and all).
      serialization: 'advanced',
      env: process.env as Record<string, string>,
      minThreads: workers,
      maxThreads: workers,
    });
  }

  run(task: BatchTask): Promise<RunResult[]> {
    return this.pool.run(task) as Promise<RunResult[]>;
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}
