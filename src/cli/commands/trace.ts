import { DEFAULT_KERNEL, symbolsFor } from '../../kernel/index.ts';
import { foldLog } from '../../replay/fold-log.ts';
import { TraceView } from '../../views/trace.ts';
import { EXIT_OK } from '../errors.ts';
import { noteIfPartial, out } from '../io.ts';

export async function traceCommand(path: string): Promise<number> {
  let view: TraceView | null = null;
  const folded = await foldLog(path, (scenario) => [(view = new TraceView(symbolsFor(scenario.kernel ?? DEFAULT_KERNEL)))]);
  out(view!.text(folded.cpus));
  noteIfPartial(path, folded);
  return EXIT_OK;
}
