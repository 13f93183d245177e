import Tinypool from 'tinypool';
import type { BatchTask, RunResult } from './batch.ts';

// The worker threads of `--workers W` (tinypool). Run from the TypeScript sources (tests, tsx),
// the workers load them through tsx too; the installed package runs its compiled worker.js.

/**
 * The worker's module. From the sources, a small module that registers tsx's loader in the
 * worker thread first (Node 20 applies no `--import` to workers) and then loads worker.ts.
 */
function workerModule(): string {
  if (!import.meta.url.endsWith('.ts')) return new URL('./worker.js', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const worker = new URL('./worker.ts', import.meta.url).href;
  const source = `const { register } = await import(${JSON.stringify(tsx)}); register(); const m = await import(${JSON.stringify(worker)}); export default m.default;`;
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

export class BatchPool {
  private readonly pool: Tinypool;

  constructor(workers: number) {
    this.pool = new Tinypool({ filename: workerModule(), minThreads: workers, maxThreads: workers });
  }

  run(task: BatchTask): Promise<RunResult[]> {
    return this.pool.run(task) as Promise<RunResult[]>;
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}
