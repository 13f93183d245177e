// Compiles the grammar of the "expect" expression language (src/expect/grammar.peggy) into
// src/expect/parser.ts with peggy (`npm run grammar`). The generated parser is committed and
// shipped; peggy is a development dependency only. test/expect-parser.test.ts fails when the
// committed file is not what this writes.
import { writeFileSync } from 'node:fs';
import { expectParserSource } from './expect-grammar.ts';

const out = new URL('../src/expect/parser.ts', import.meta.url);
writeFileSync(out, await expectParserSource());
process.stdout.write(`wrote ${out.pathname}\n`);
