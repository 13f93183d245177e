import { BUILTIN_SYMBOLS } from '../../kernel/index.ts';
import { foldLog } from '../../replay/fold-log.ts';
import { TraceView } from '../../views/trace.ts';
import { EXIT_OK } from '../errors.ts';
import { out } from '../io.ts';

export async function traceCommand(path: string): Promise<number> {
  const view = new TraceView(BUILTIN_SYMBOLS);
  const folded = await foldLog(path, [view]);
  out(view.text(folded.cpus));
  return EXIT_OK;
}
