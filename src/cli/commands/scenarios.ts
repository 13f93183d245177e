import { BUILTIN_SCENARIOS } from '../../scenario/builtin/index.ts';
import { EXIT_OK } from '../errors.ts';
import { out } from '../io.ts';

export function scenariosCommand(): number {
  const width = Math.max(...[...BUILTIN_SCENARIOS.keys()].map((n) => n.length));
  out([...BUILTIN_SCENARIOS.values()].map((s) => `${s.name.padEnd(width)}  ${s.description}`).join('\n') + '\n');
  return EXIT_OK;
}
