import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

// The CLI tests run bin/kprobesim.js, which runs the compiled dist/: compile it from the sources
// under test first, so that `vitest` alone never tests a stale build. Only what changed is written
// again (tsconfig.build.json is incremental). Type errors do not stop the emit: `npm test` type-
// checks everything before vitest starts, and a file being edited elsewhere in the tree must not
// fail the run of an unrelated test file. A build that produced no CLI at all does.
export default function buildDist(): void {
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
  if (r.status !== 0 && !existsSync('dist/cli/main.js')) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
}
