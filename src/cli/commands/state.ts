import { foldLog } from '../../replay/fold-log.ts';
import { EXIT_OK } from '../errors.ts';
import { noteIfPartial, out } from '../io.ts';

export async function stateCommand(path: string, at: number | undefined): Promise<number> {
  const folded = await foldLog(path, [], at);
  out(JSON.stringify(folded.state, null, 2) + '\n');
  noteIfPartial(path, folded, at);
  return EXIT_OK;
}
