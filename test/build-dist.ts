import { spawnSync } from 'node:child_process';

// The CLI tests run bin/kprobesim.js, which runs the compiled dist/: compile it from the sources
// under test first, so that `vitest` alone never tests a stale build. Only what changed is written
// again (tsconfig.build.json is incremental).
export default function buildDist(): void {
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
}
