import { symbolsOf } from '../../model/setup.ts';
import { foldLog } from '../../replay/fold-log.ts';
import { TraceView } from '../../views/trace.ts';
import { EXIT_OK } from '../errors.ts';
import { noteIfPartial, out } from '../io.ts';

export async function traceCommand(path: string): Promise<number> {
  let view: TraceView | null = null;
  const folded = await foldLog(path, (scenario) => [(view = new TraceView(symbolsOf(scenario)))]);
  out(view!.text(folded.cpus));
  noteIfPartial(path, folded);
  return EXIT_OK;
}
