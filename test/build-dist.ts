import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { BUNDLE, writeViewerBundle } from '../scripts/bundle-viewer.ts';

// The CLI tests run bin/kprobesim.js, which runs the compiled dist/: compile it from the sources
// under test first, so that `vitest` alone never tests a stale build. Only what changed is written
// again (tsconfig.build.json is incremental). Type errors do not stop the emit: `npm test` type-
// checks everything before vitest starts, and a file being edited elsewhere in the tree must not
// fail the run of an unrelated test file. A build that produced no CLI at all does.
export default async function buildDist(): Promise<void> {
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8' });
  if (r.status !== 0 && !existsSync('dist/cli/main.js')) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
  // The HTML viewer's page, bundled for the browser (the rest of `npm run build`); as above, a
  // bundle that cannot be made now fails the run only if there is none at all.
  try {
    await writeViewerBundle();
  } catch (e) {
    if (!existsSync(BUNDLE)) throw e;
    process.stderr.write(`build-dist: the viewer's page was not bundled again: ${e instanceof Error ? e.message : String(e)}\n`);
  }
}
