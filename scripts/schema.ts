// Writes schema/scenario.schema.json, the JSON Schema of scenario files, from the zod schema in
// src/scenario/schema.ts (`npm run schema`). test/json-schema.test.ts fails when the committed
// file is not what this writes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { scenarioJsonSchemaText } from '../src/scenario/json-schema.ts';

const out = new URL('../schema/scenario.schema.json', import.meta.url);
mkdirSync(new URL('.', out), { recursive: true });
writeFileSync(out, scenarioJsonSchemaText());
process.stdout.write(`wrote ${out.pathname}\n`);
