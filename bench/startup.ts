// Start-up cost of the installed command: CPU time (user + system) of `kprobesim --help` through
// bin/kprobesim.js (the compiled dist/, as a user runs it) against `node -e 0`, each run in a
// fresh process. CPU time rather than wall time, so a busy second core matters less. bash's
// `times` builtin reports its children's CPU time after each run (to 1 ms).

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const RUNS = 21;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Children's user + system seconds from the second line of bash's `times` ("0m0.081s 0m0.012s"). */
function childCpuSeconds(command: string): number {
  const r = spawnSync('bash', ['-c', `${command} >/dev/null 2>&1; times`], { encoding: 'utf8' });
  const line = r.stdout.trim().split('\n')[1] ?? '';
  const secs = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (r.status !== 0 || secs.length !== 2) throw new Error(`could not time ${command}: ${r.stdout}${r.stderr}`);
  return secs[0]! + secs[1]!;
}

export interface Startup {
  readonly nodeSeconds: number;
  readonly helpSeconds: number;
  readonly ratio: number;
}

/** Medians of RUNS interleaved runs of each; dist/ must be built (`npm run build`). */
export function startupVsNode(repoRoot: string): Startup {
  const node = JSON.stringify(process.execPath);
  const bin = JSON.stringify(path.join(repoRoot, 'bin', 'kprobesim.js'));
  const bare: number[] = [];
  const help: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    bare.push(childCpuSeconds(`${node} -e 0`));
    help.push(childCpuSeconds(`${node} ${bin} --help`));
  }
  const nodeSeconds = median(bare);
  const helpSeconds = median(help);
  return { nodeSeconds, helpSeconds, ratio: helpSeconds / nodeSeconds };
}
