import { z } from 'zod';
import { SCENARIO_SCHEMA_ID } from './format.ts';
import { scenarioSchema } from './schema.ts';

// The JSON Schema of scenario files, derived from the zod schema that validates them (never
// written twice). scripts/schema.ts writes it to schema/scenario.schema.json, which the package
// ships; a test checks the committed file is what this function gives.

/** The scenario JSON Schema (draft-07, which editors support most widely), with its `$id`. */
export function scenarioJsonSchema(): Record<string, unknown> {
  // What a file may contain: fields with defaults are optional there (io: 'input').
  const generated = z.toJSONSchema(scenarioSchema, { target: 'draft-07', io: 'input', unrepresentable: 'throw', cycles: 'ref' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return { $schema, $id: SCENARIO_SCHEMA_ID, ...rest };
}

/** The file's text: two-space JSON and a final newline. */
export function scenarioJsonSchemaText(): string {
  return JSON.stringify(scenarioJsonSchema(), null, 2) + '\n';
}
