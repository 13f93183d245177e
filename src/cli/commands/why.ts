import { InputError } from '../../errors.ts';
import { symbolsOf } from '../../model/setup.ts';
import { foldLog } from '../../replay/fold-log.ts';
import { WhyAllView, WhyView } from '../../views/why.ts';
import { EXIT_OK } from '../errors.ts';
import { noteIfPartial, out } from '../io.ts';
import { own } from '../../model/own.ts';

/** `why LOG --probe NAME`: that probe's story in full; without --probe, every probe briefly. */
export async function whyCommand(path: string, probe: string | undefined): Promise<number> {
  if (probe === undefined) return whyAll(path);
  let view: WhyView | null = null;
  const folded = await foldLog(path, (scenario) => [(view = new WhyView(probe, symbolsOf(scenario)))]);
  if (own(folded.state.stats, probe) === undefined) {
    const known = Object.keys(folded.state.stats);
    throw new InputError('--probe', `no probe named "${probe}" in this log (known: ${known.join(', ') || 'none'})`);
  }
  out(view!.text(folded.state));
  noteIfPartial(path, folded);
  return EXIT_OK;
}

async function whyAll(path: string): Promise<number> {
  let view: WhyAllView | null = null;
  const folded = await foldLog(path, (scenario) => [(view = new WhyAllView(scenario.probes.map((p) => p.name), symbolsOf(scenario)))]);
  out(view!.text(folded.state, path));
  noteIfPartial(path, folded);
  return EXIT_OK;
}
