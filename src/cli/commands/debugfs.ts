import { symbolsOf } from '../../model/setup.ts';
import { foldLog } from '../../replay/fold-log.ts';
import type { Scenario } from '../../scenario/types.ts';
import { kprobesBlacklist, kprobesEnabled, kprobesList } from '../../views/debugfs.ts';
import { EXIT_OK } from '../errors.ts';
import { noteIfPartial, out } from '../io.ts';

export const DEBUGFS_FILES = ['list', 'blacklist', 'enabled'] as const;
export type DebugfsFile = (typeof DEBUGFS_FILES)[number];

export async function debugfsCommand(path: string, file: DebugfsFile, at: number | undefined): Promise<number> {
  let scenario: Scenario | null = null;
  const folded = await foldLog(path, (s) => ((scenario = s), []), at);
  const symbols = symbolsOf(scenario!);
  if (file === 'list') out(kprobesList(folded.state, scenario!, symbols));
  else if (file === 'blacklist') out(kprobesBlacklist(symbols));
  else out(kprobesEnabled(folded.state));
  noteIfPartial(path, folded, at);
  return EXIT_OK;
}
