import { runBatch, type BatchTask, type RunResult } from './batch.ts';

// A worker process of `kprobesim explore --workers W` (tinypool calls the default export with a
// batch of run indices; results go back by structured clone).
export default function run(task: BatchTask): RunResult[] {
  return runBatch(task);
}
