import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scenario } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';

// Scenarios for the explore tests, small enough for hundreds of runs in a test.

/**
 * CPU 0 registers a probe on vfs_read, sleeps 30 ticks and unregisters it while CPU 1 keeps
 * calling vfs_read (4 hits, a 20-step pre-handler each). On the correct kernel no schedule
 * fails. With the `disarm-without-sync` mutant, unregister_kprobe restores the byte and
 * unlinks the probe with no text-patch sync between: the one losing schedule has CPU 1 take
 * the int3 trap and CPU 0 then run its disarm and unlink before CPU 1's next step (the probe
 * lookup), which finds no probe (INV-removed-race, R55). The window is one decision wide and
 * opens only at a trap that falls while CPU 0 is at its disarm: a walk that flips a fair coin
 * at every decision rarely lines the two up, while PCT needs one priority change point at the
 * decision after a trap, and dfs one preemption there.
 */
export const smallRace: Scenario = validateScenario({
  name: 'small-unregister-race',
  description: 'CPU 0 unregisters a probe that CPU 1 keeps hitting',
  cpus: 2,
  max_steps: 5000,
  probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 20 }] }],
  tasks: [
    { comm: 'rmmod', cpu: 0, program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'sleep', ticks: 30 }, { op: 'unregister_kprobe', probe: 'kp' }] },
    { comm: 'reader', cpu: 1, program: [{ op: 'sleep', ticks: 5 }, { op: 'call', fn: 'vfs_read', times: 4 }] },
  ],
});

/** A fresh temporary directory. */
export function tempDir(prefix = 'kprobesim-explore-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `s` as a scenario file in `dir`; returns its path. */
export function scenarioFile(dir: string, s: Scenario = smallRace): string {
  const file = join(dir, `${s.name}.json`);
  writeFileSync(file, JSON.stringify(s, null, 2));
  return file;
}
