import { existsSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUILTIN_SCENARIOS, unknownBuiltin } from '../../scenario/builtin/index.ts';
import { scenarioFileText } from '../../scenario/format.ts';
import { InputError } from '../../errors.ts';
import { EXIT_OK } from '../errors.ts';
import { out } from '../io.ts';

/** The shipped JSON Schema (the same path from src/cli/commands and dist/cli/commands). */
const SCHEMA_FILE = fileURLToPath(new URL('../../../schema/scenario.schema.json', import.meta.url));

/**
 * What `--show` puts in "$schema": the shipped schema file relative to the current directory
 * when it is below it (a clone, or a project with kprobesim in node_modules), so a file saved
 * here completes in an editor offline; otherwise the installed file's file: URL.
 */
function schemaRef(): string {
  const rel = relative(process.cwd(), SCHEMA_FILE);
  if (!existsSync(SCHEMA_FILE) || rel.startsWith('..') || rel === SCHEMA_FILE) return pathToFileURL(SCHEMA_FILE).href;
  return rel.split(sep).join('/');
}

export function scenariosCommand(flags: { show?: string } = {}): number {
  if (flags.show !== undefined) {
    const scenario = BUILTIN_SCENARIOS.get(flags.show);
    if (scenario === undefined) throw new InputError('--show', unknownBuiltin(flags.show, ''));
    out(scenarioFileText(scenario, schemaRef()));
    return EXIT_OK;
  }
  const width = Math.max(...[...BUILTIN_SCENARIOS.keys()].map((n) => n.length));
  out([...BUILTIN_SCENARIOS.values()].map((s) => `${s.name.padEnd(width)}  ${s.description}`).join('\n') + '\n');
  return EXIT_OK;
}
