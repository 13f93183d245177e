import { mutantLines } from '../../kprobes/mutants.ts';
import { EXIT_OK } from '../errors.ts';
import { out } from '../io.ts';

/** `kprobesim mutants`: the planted-bug kernels, one line each. */
export function mutantsCommand(): number {
  out(mutantLines().join('\n') + '\n');
  return EXIT_OK;
}
