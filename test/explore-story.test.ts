import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliInProcess } from './cli-in-process.ts';
import { tempDir } from './explore-fixtures.ts';

// Issue 12, "Shrinking and explaining": a failure found by `kprobesim explore` is told as a short
// story built from the shrunk run's visible steps (src/explore/story.ts), printed before the
// replay commands and the verdict, and kept as `story` in the JSON report; each preemption of
// the report's schedule carries its decision's label (src/scheduler/label.ts), the words of that
// decision's sched.pick in the failure's log, so the log can be searched for it. The expected lines are reasoned
// from the built-in scenarios (src/scenario/builtin): in both, task rmmod (pid 100, the first
// task) runs on cpu0 and unregisters probe `slow` on vfs_read after sleeping, while reader on
// cpu1 calls vfs_read and spins in slow's pre-handler.

const dir = tempDir('kprobesim-story-');

interface Failure {
  log: string;
  preemptions: number;
  schedule: { at: number; cpu: number; switch_to: number | null; label?: string }[];
  story: string[];
  check: string;
}

async function exploreStory(scenario: string, mutant: string) {
  const report = join(dir, `${scenario}.json`);
  const r = await cliInProcess(['explore', scenario, '--mutant', mutant, '--out', join(dir, scenario), '--report', report]);
  expect(r.code).toBe(1);
  const f = (JSON.parse(readFileSync(report, 'utf8')) as { failures: Failure[] }).failures[0]!;
  const lines = r.out.trimEnd().split('\n');
  return { f, lines, story: f.story };
}

/** Index of the first story line matching `re` at or after `from`; fails the test when none does. */
function after(story: readonly string[], re: RegExp, from = 0): number {
  const i = story.findIndex((l, j) => j >= from && re.test(l));
  expect(i, `no story line after ${from} matches ${re}:\n${story.join('\n')}`).toBeGreaterThanOrEqual(0);
  return i;
}

/** The CLI prints the story (with preemptions and bug depth) before the replay commands; the verdict stays last. */
function expectPrinted(lines: readonly string[], f: Failure): void {
  const head = lines.indexOf(`  story (${f.preemptions} preemption${f.preemptions === 1 ? '' : 's'}, bug depth ${f.preemptions}):`);
  expect(head).toBeGreaterThan(0);
  expect(lines.slice(head + 1, head + 1 + f.story.length)).toEqual(f.story.map((l) => `    ${l}`));
  expect(lines.findIndex((l) => l.startsWith('  replay: kprobesim replay '))).toBeGreaterThan(head + f.story.length);
  expect(lines.at(-1)).toMatch(/^FAILED: /);
  // One "— preemption" line per kept preemption, and each labelled in the report with the label of
  // the log's sched.pick at its decision (decision i: the log's i-th sched.pick, from 0), which
  // is the preemption's choice; the CLI prints the same label.
  expect(f.story.filter((l) => l.startsWith('— preemption ')).length).toBe(f.preemptions);
  const picks = readFileSync(f.log, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { type: string; cpu?: number; switch_to?: number | null; label?: string })
    .filter((e) => e.type === 'sched.pick');
  for (const p of f.schedule) {
    expect(picks[p.at]).toEqual({ ...picks[p.at], cpu: p.cpu, switch_to: p.switch_to, label: p.label });
    expect(lines).toContain(`  preempt at decision ${p.at}: ${p.switch_to === null ? `cpu ${p.cpu} steps` : `cpu ${p.cpu} switches to pid ${p.switch_to}`} (${p.label})`);
  }
  expect(f.schedule.every((p) => typeof p.label === 'string' && p.label.startsWith(`cpu${p.cpu}: `))).toBe(true);
  // Tasks are named by comm, their pid in parentheses (`rmmod (pid 100) wakes`), never by a bare pid.
  const barePid = /(^|[^(])pid \d+/;
  expect(f.story.filter((l) => !l.startsWith('violated: ') && barePid.test(l))).toEqual([]);
  expect(f.schedule.filter((p) => barePid.test(p.label!))).toEqual([]);
}

describe('the story of a shrunk failure', () => {
  it('unregister-race --mutant disarm-without-sync: cpu0 disarms and unlinks slow while cpu1 is at its int3, and cpu1 oopses (INV-removed-race, R55)', async () => {
    const { f, lines, story } = await exploreStory('unregister-race', 'disarm-without-sync');
    expect(f.check).toBe('INV-removed-race');
    expectPrinted(lines, f);
    // The race needs one ordering: cpu1 has trapped on the armed int3 before cpu0's unregistration
    // runs; without text_poke_sync cpu0 returns the byte and unlinks the probe under it.
    expect(f.preemptions).toBe(1);
    const trap = after(story, /^cpu1: int3 at vfs_read\+0x0$/);
    const pre = after(story, /^— preemption 1 \(decision \d+\): cpu0 runs instead of cpu1 while cpu1 is at the int3 at vfs_read\+0x0$/, trap + 1);
    // The decision's label says what the step does (rmmod's wake from its sleep); the story's line
    // after the preemption tells the event it emitted.
    expect(f.schedule[0]!.label).toBe('cpu0: rmmod wakes');
    expect(story[pre + 1]).toBe('cpu0: rmmod (pid 100) wakes');
    const unreg = after(story, /^cpu0: unregister_kprobe\(slow\)$/, pre + 1);
    const lock = after(story, /^cpu0: takes kprobe_mutex$/, unreg + 1);
    const disarm = after(story, /^cpu0: disarms vfs_read\+0x0 /, lock + 1);
    const unlink = after(story, /^cpu0: unlinks slow from vfs_read\+0x0$/, disarm + 1);
    // No text_poke_sync between the disarm and the unlink: that is the planted bug.
    expect(story.slice(disarm, unlink).some((l) => l.includes('text_poke_sync'))).toBe(false);
    const oops = after(story, /^cpu1: Oops: int3 with no kprobe behind it at vfs_read\+0x0/, unlink + 1);
    expect(story.slice(trap + 1, oops).some((l) => l.startsWith('cpu1: '))).toBe(false);
    expect(story.slice(oops + 1)).toEqual([expect.stringMatching(/^violated: INV-removed-race: cpu 1 trapped at 0x[0-9a-f]+ and found no probe \(R55\)$/)]);
  }, 60_000);

  it('unregister-shared-point --mutant no-grace-period: unregister_kprobe(slow) returns while cpu1 is in slow\'s pre-handler (INV-unregister, R67)', async () => {
    const { f, lines, story } = await exploreStory('unregister-shared-point', 'no-grace-period');
    expect(f.check).toBe('INV-unregister');
    expectPrinted(lines, f);
    // The last kept preemption wakes rmmod while reader is inside slow's pre-handler.
    const last = f.preemptions;
    expect(f.schedule.at(-1)!.label).toBe('cpu0: rmmod wakes');
    const enter = after(story, /^cpu1: enters slow's pre-handler$/);
    const pre = after(story, new RegExp(`^— preemption ${last} \\(decision \\d+\\): cpu0 runs instead of cpu1 while cpu1 is in slow's pre-handler$`), enter + 1);
    const unreg = after(story, /^cpu0: unregister_kprobe\(slow\)$/, pre + 1);
    const unlink = after(story, /^cpu0: unlinks slow from vfs_read\+0x0$/, unreg + 1);
    // keeper stays on vfs_read, so the point stays armed (R64): no disarm, and the grace period
    // that should wait for cpu1 waits for nobody (the planted bug).
    expect(story.slice(unreg, unlink).some((l) => l.includes('disarms'))).toBe(false);
    after(story, /^cpu0: synchronize_rcu waits for no CPU$/, unlink + 1);
    expect(story.slice(-2)).toEqual([
      "cpu0: unregister_kprobe(slow) returns while cpu1 is in slow's pre-handler",
      'violated: INV-unregister: unregister_kprobe(slow) returned while cpu 1 is still in it (R67)',
    ]);
  }, 60_000);
});
