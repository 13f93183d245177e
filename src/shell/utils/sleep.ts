// BusyBox sleep: `sleep N[smhd]...` (fractions allowed, the arguments add up). The child sleeps in
// the simulated kernel for that long, in full: one second is 1,000,000 ticks of the model's clock
// (a tick is a microsecond), and the shell waits for it, so trace timestamps move on by N.
// Idle time costs nothing to simulate, but one sleep is capped at an hour all the same, so that
// a typo (`sleep 1e9`) cannot fill a session log with timer events.

import type { ChildStep } from '../backend.ts';
import type { CommandContext } from '../builtins.ts';
import { STATUS } from '../messages.ts';
import type { Applet } from './applet.ts';

export const MAX_SLEEP_SECONDS = 3600;
const UNITS: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

/** The total in microseconds, or the message sleep prints. */
export function sleepMicroseconds(argv: readonly string[]): number | string {
  const args = argv.slice(1);
  if (args.length === 0) return 'Usage: sleep N[smhd]...\n';
  let seconds = 0;
  for (const a of args) {
    const m = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([smhd]?)$/.exec(a);
    if (!m) return `sleep: invalid number '${a}'\n`;
    seconds += Number(m[1]) * UNITS[m[2]!]!;
  }
  if (seconds > MAX_SLEEP_SECONDS) return `sleep: ${args.join(' ')}: longer than the simulation's limit of ${MAX_SLEEP_SECONDS} seconds\n`;
  return Math.round(seconds * 1_000_000);
}

export const sleep: Applet = {
  usage: 'sleep N[smhd]...',
  summary: 'let N seconds pass in the simulated kernel while the shell waits (at most an hour)',
  inputs: () => [],
  extraWork(argv): readonly ChildStep[] {
    const us = sleepMicroseconds(argv);
    return typeof us === 'number' && us > 0 ? [{ kind: 'sleep', us }] : [];
  },
  run(ctx: CommandContext) {
    const us = sleepMicroseconds(ctx.argv);
    if (typeof us === 'string') {
      ctx.write(2, us);
      return STATUS.FAILURE;
    }
    return 0;
  },
};
