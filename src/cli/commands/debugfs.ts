import { symbolsOf } from '../../model/setup.ts';
import { foldLog } from '../../replay/fold-log.ts';
import type { LoggedEvent } from '../../model/events.ts';
import type { ProbeSpec, Scenario } from '../../scenario/types.ts';
import { kprobesBlacklist, kprobesEnabled, kprobesList } from '../../views/debugfs.ts';
import { EXIT_OK } from '../errors.ts';
import { noteIfPartial, out } from '../io.ts';

import type { DebugfsFile } from '../options.ts';
export type { DebugfsFile };

export async function debugfsCommand(path: string, file: DebugfsFile, at: number | undefined): Promise<number> {
  let scenario: Scenario | null = null;
  // A session log defines probes as it goes (input.probe): the list names their kinds too.
  const defined: ProbeSpec[] = [];
  const inputs = { observe: (_b: unknown, e: LoggedEvent) => void (e.type === 'input.probe' && defined.push(e.probe as unknown as ProbeSpec)) };
  const folded = await foldLog(path, (s) => ((scenario = s), [inputs]), at);
  const symbols = symbolsOf(scenario!);
  if (file === 'list') out(kprobesList(folded.state, { probes: [...scenario!.probes, ...defined] }, symbols));
  else if (file === 'blacklist') out(kprobesBlacklist(symbols));
  else out(kprobesEnabled(folded.state));
  noteIfPartial(path, folded, at);
  return EXIT_OK;
}
