import { scenarioSchema } from './schema.ts';
import type { Scenario } from './types.ts';

// Scenarios as files a user edits: pretty JSON whose small objects and arrays stay on one line
// (as the README's example is written), with "$schema" first so editors complete the fields.

/**
 * The JSON Schema's `$id`: a name, not an address (nothing is fetched; editors find the schema
 * through a file's "$schema" path, which `scenarios --show` writes).
 */
export const SCENARIO_SCHEMA_ID = 'urn:kprobesim:scenario-schema:1';

/**
 * The schema as a project that installed kprobesim has it, from the project's top directory:
 * where a counterexample file is saved in a user's project, the "$schema" its editor can follow.
 */
export const INSTALLED_SCHEMA = './node_modules/kprobesim/schema/scenario.schema.json';

/**
 * JSON with two-space indentation, where an object or array whose one-line form fits in `width`
 * columns (counting its indentation) is written on one line.
 */
export function prettyJson(value: unknown, width = 100): string {
  const render = (v: unknown, indent: string, prefixLength: number): string => {
    const flat = JSON.stringify(v, null, 1)?.replace(/\n\s*/g, ' ').replace(/\[ /g, '[').replace(/ \]/g, ']').replace(/\{ /g, '{ ').replace(/ \}/g, ' }');
    if (flat === undefined) return 'null';
    if (v === null || typeof v !== 'object' || indent.length + prefixLength + flat.length <= width) return flat;
    const inner = indent + '  ';
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[\n${v.map((x) => inner + render(x, inner, 0)).join(',\n')}\n${indent}]`;
    }
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${render(x, inner, JSON.stringify(k).length + 2)}`).join(',\n')}\n${indent}}`;
  };
  return render(value, '', 0);
}

/**
 * A scenario as the text of a scenario file, ending in a newline: `"$schema": schemaRef` first,
 * then the top-level fields in the schema's order (name, description, the kernel build, cpus,
 * max_steps, probes, tasks); fields the scenario does not have are not added.
 */
export function scenarioFileText(scenario: Scenario, schemaRef: string = INSTALLED_SCHEMA): string {
  const fields = scenario as unknown as Record<string, unknown>;
  const ordered: Record<string, unknown> = { $schema: schemaRef };
  for (const key of Object.keys(scenarioSchema.shape)) if (key !== '$schema' && fields[key] !== undefined) ordered[key] = fields[key];
  // Anything the schema does not know (a library user's extra field) keeps its place at the end.
  for (const [key, v] of Object.entries(fields)) if (!(key in ordered) && v !== undefined) ordered[key] = v;
  return prettyJson(ordered) + '\n';
}

/**
 * A failing property's scenario and run seed as the user reproduces them: what to save, the
 * command to run, then the scenario file.
 */
export function formatCounterexample(scenario: Scenario, seed: number, file = 'counterexample.json'): string {
  return `save this as ${file}; \`kprobesim run ${file} --seed ${seed}\` reproduces it:\n${scenarioFileText(scenario)}`;
}
