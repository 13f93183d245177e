// Regenerates docs/rules.md and docs/fidelity.md: `npx tsx scripts/fidelity.ts`. The rule texts
// are in scripts/rules-text.ts; the tests that name each rule are found here (scripts/docs.ts).
// test/fidelity-doc.test.ts fails when a committed file is not what this writes.
import { writeFileSync } from 'node:fs';
import { fidelityMarkdown, rulesMarkdown } from './docs.ts';

writeFileSync('docs/rules.md', rulesMarkdown());
const fidelity = fidelityMarkdown();
writeFileSync('docs/fidelity.md', fidelity);
console.log(`docs/rules.md written; docs/fidelity.md: ${/Checked: (.*)\./.exec(fidelity)![1]} rules tested`);
