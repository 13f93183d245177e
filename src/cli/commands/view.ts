import { InputError } from '../../errors.ts';
import { STDIN } from '../../log/source.ts';
import { exportCommand } from './export.ts';

/**
 * `view LOG [--force]`: the log's self-contained HTML viewer, written next to it (LOG with
 * .html): `export LOG --format html` with its default output. Prints the file's path.
 */
export async function viewCommand(log: string, flags: { force: boolean }): Promise<number> {
  if (log === STDIN) throw new InputError(log, 'view writes the HTML next to its log: give a log file (for standard input: export - --format html --out FILE)');
  return exportCommand(log, { format: 'html', force: flags.force });
}
