// Bundles the HTML viewer's page (src/viewer/page/, with the project's own fold and timeline)
// for the browser into dist/viewer/page.js, which src/viewer/html.ts inlines into every HTML
// file it writes. `npm run build` runs this after tsc; test/build-dist.ts calls it before the
// tests, and src/viewer/html.ts calls bundleViewerPage() itself when it runs from the sources.
import { build, type Plugin } from 'esbuild';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../src/viewer/page/main.ts', import.meta.url));
export const BUNDLE = fileURLToPath(new URL('../dist/viewer/page.js', import.meta.url));

/**
 * The page folds the scenario its HTML file carries, validated by the reader when the file was
 * written, so it never calls the scenario validator (src/timeline's builder would only for a
 * scenario it is not given). Left out, with zod under it: three quarters of the bundle.
 */
const withoutScenarioValidator: Plugin = {
  name: 'without-scenario-validator',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]scenario[\\/]validate\.ts$/ }, () => ({
      loader: 'ts',
      contents: "export function validateScenario(): never { throw new Error('the viewer page has no scenario validator: give the validated scenario'); }",
    }));
  },
};

/** The page's script: one self-contained IIFE, safe to inline in a <script> element. */
export async function bundleViewerPage(): Promise<string> {
  const r = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
    plugins: [withoutScenarioValidator],
  });
  const text = r.outputFiles[0]!.text;
  // esbuild escapes these inside strings; anything left would end the inline script early.
  if (/<\/script|<!--/i.test(text)) throw new Error('the viewer bundle contains "</script" or "<!--": it cannot be inlined');
  return text;
}

export async function writeViewerBundle(): Promise<string> {
  const text = await bundleViewerPage();
  await mkdir(dirname(BUNDLE), { recursive: true });
  await writeFile(BUNDLE, text);
  return BUNDLE;
}

// Silent, as tsc is: `npm pack --json` runs the build and its standard output must stay JSON.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await writeViewerBundle();
}
