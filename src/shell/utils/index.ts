// The programs of the simulated system (BusyBox applets), by name: what the shell runs in a
// forked child, unlike its builtins (builtins.ts).

import type { Applet } from './applet.ts';
import { cat } from './cat.ts';
import { dmesg } from './dmesg.ts';
import { grep } from './grep.ts';
import { head } from './head.ts';
import { insmod } from './insmod.ts';
import { ls } from './ls.ts';
import { lsmod } from './lsmod.ts';
import { rmmod } from './rmmod.ts';
import { sleep } from './sleep.ts';
import { sort } from './sort.ts';
import { tail } from './tail.ts';
import { wc } from './wc.ts';

export type { Applet } from './applet.ts';

export const APPLETS: ReadonlyMap<string, Applet> = new Map<string, Applet>([
  ['cat', cat],
  ['dmesg', dmesg],
  ['grep', grep],
  ['head', head],
  ['insmod', insmod],
  ['ls', ls],
  ['lsmod', lsmod],
  ['rmmod', rmmod],
  ['sleep', sleep],
  ['sort', sort],
  ['tail', tail],
  ['wc', wc],
]);
