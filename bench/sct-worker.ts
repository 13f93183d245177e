import { runColumn, type ColumnJob, type ColumnResult } from './sct-table.ts';

// A worker thread of bench/sct-table.ts (tinypool): one column of one row (a strategy's seeds,
// or dfs), whose result goes back by structured clone.
export default function run(job: ColumnJob): Promise<ColumnResult> {
  return runColumn(job);
}
