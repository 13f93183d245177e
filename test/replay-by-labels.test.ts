import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryLog } from '../src/log/writer.ts';
import { replayByLabels } from '../src/replay/by-labels.ts';
import { replayLog, replayLogChecked } from '../src/replay/replay.ts';
import { scheduleMessage } from '../src/replay/schedule.ts';
import { recordRun } from '../src/run/record.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { explore } from '../src/explore/explore.ts';
import { replaySession } from '../src/session/recorded.ts';
import { cliInProcess } from './cli-in-process.ts';

// Issue 12: "Log each decision with a label next to its index, so a log replays after the model
// changed, or reports exactly where its schedule no longer applies." Replay compares each logged
// label with the label the model gives the same choice now; `replay --by-labels` takes each
// decision by its label on the model as it is now (INV-determinism still holds for the exact
// replay of a new log: identical, byte for byte).

const dir = mkdtempSync(join(tmpdir(), 'kprobesim-labels-'));

/** CPU 0 registers kp on vfs_read and reads twice (a pre-handler of three spins, then a print); CPU 1 works meanwhile. */
const SCENARIO: Scenario = validateScenario({
  name: 'labels',
  description: 'a probe whose handler spins, hit twice on CPU 0 while CPU 1 works',
  cpus: 2,
  probes: [{ name: 'kp', symbol: 'vfs_read', pre: [{ do: 'spin', steps: 3 }, { do: 'print', text: 'read by {comm}' }] }],
  tasks: [
    { comm: 'reader', pid: 100, cpu: 0, program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'call', fn: 'vfs_read', times: 2 }] },
    { comm: 'worker', pid: 101, cpu: 1, program: [{ op: 'call', fn: 'just_return_func', times: 3 }, { op: 'printk', text: 'done' }] },
  ],
});

async function record(scenario: Scenario = SCENARIO, seed = 7): Promise<string[]> {
  const log = new MemoryLog();
  await recordRun(scenario, { seed, strategy: 'random' }, log);
  return log.lines;
}

function save(name: string, lines: readonly string[]): string {
  const file = join(dir, name);
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

type Pick = { seq: number; cpu: number; switch_to: number | null; label?: string };
const picks = (lines: readonly string[]) =>
  lines.flatMap((l, i) => (l.includes('"type":"sched.pick"') ? [{ line: i + 1, ...(JSON.parse(l) as Pick) }] : []));

/** The log with its header's scenario changed by `edit` (the model a log meets after a change). */
function withScenario(lines: readonly string[], edit: (s: { probes: { pre: { do: string; steps?: number; text?: string }[] }[] }) => void): string[] {
  const header = JSON.parse(lines[0]!) as { scenario: Parameters<typeof edit>[0] };
  edit(header.scenario);
  return [JSON.stringify(header), ...lines.slice(1)];
}

describe('replay with decision labels', () => {
  it('a new log replays identically, byte for byte, on the fast path and the checked one', async () => {
    const lines = await record();
    expect(picks(lines).every((p) => p.label !== undefined)).toBe(true);
    const file = save('new.jsonl', lines);
    const end = JSON.parse(lines.at(-1)!) as { digest: string };
    const want = { kind: 'identical', events: lines.length - 1, digest: end.digest, truncatedAt: null };
    expect(await replayLog(file)).toEqual(want);
    expect(await replayLogChecked(file)).toEqual(want);
  });

  it('a log written before labels (none on its sched.pick lines) still replays identically', async () => {
    const lines = (await record()).map((l) => l.replace(/,"label":"[^"]*"\}$/, '}'));
    expect(lines.some((l) => l.includes('"label"'))).toBe(false);
    const file = save('old.jsonl', lines);
    const end = JSON.parse(lines.at(-1)!) as { digest: string };
    const want = { kind: 'identical', events: lines.length - 1, digest: end.digest, truncatedAt: null };
    expect(await replayLog(file)).toEqual(want);
    expect(await replayLogChecked(file)).toEqual(want);
    // Lenient replay needs the labels: bad input, at the first decision without one.
    await expect(replayByLabels(file)).rejects.toThrow(/:2: this sched.pick has no label/);
    const cli = await cliInProcess(['replay', file, '--by-labels']);
    expect(cli.code).toBe(2);
    expect(cli.err).toBe(`kprobesim: ${file}:2: this sched.pick has no label (the log was written before decisions were labelled): replay it without --by-labels\n`);
  });

  it('a label edited to another step is reported at its decision, seq and line, with the enabled choices now', async () => {
    const lines = await record();
    const all = picks(lines);
    // The first decision on CPU 0 that enters kp's pre-handler.
    const k = all.findIndex((p) => p.label === 'cpu0: kp pre-handler');
    expect(k).toBeGreaterThan(0);
    const pick = all[k]!;
    const edited = lines[pick.line - 1]!.replace('"label":"cpu0: kp pre-handler"', '"label":"cpu0: int3 kp"');
    const file = save('edited.jsonl', [...lines.slice(0, pick.line - 1), edited, ...lines.slice(pick.line)]);
    const r = await replayLog(file);
    expect(r).toMatchObject({ kind: 'diverged', seq: pick.seq, line: pick.line, expected: edited, actual: lines[pick.line - 1] });
    if (r.kind !== 'diverged') throw new Error('unreachable');
    expect(r.schedule).toMatchObject({ decision: k, seq: pick.seq, line: pick.line, logged: { cpu: 0, switch_to: null, label: 'cpu0: int3 kp' }, now: 'cpu0: kp pre-handler' });
    // Every enabled choice is listed with its label now; CPU 0's is the one the log had before the edit.
    expect(r.schedule!.enabled.map((c) => c.label)).toContain('cpu0: kp pre-handler');
    expect(r.schedule!.enabled.every((c) => c.label.startsWith(`cpu${c.choice.cpu}: `))).toBe(true);
    const message = scheduleMessage(r.schedule!);
    expect(message).toMatch(new RegExp(`^the schedule no longer applies at decision ${k} \\(seq ${pick.seq}, line ${pick.line}\\): the log's "cpu0: int3 kp" is now "cpu0: kp pre-handler"; enabled: "cpu0: kp pre-handler"`));
    const cli = await cliInProcess(['replay', file]);
    expect(cli.code).toBe(1);
    expect(cli.out.split('\n').slice(0, 2)).toEqual([`diverged at seq ${pick.seq} (${file}:${pick.line})`, `  ${message}`]);
    // The lenient replay stops at the same place.
    const lenient = await replayByLabels(file);
    expect(lenient).toMatchObject({ kind: 'stopped', applied: k, schedule: { decision: k, seq: pick.seq, line: pick.line, now: 'cpu0: kp pre-handler' } });
  });

  it('a logged decision that is not enabled now is reported as not possible', async () => {
    const lines = await record();
    const pick = picks(lines)[3]!;
    // No task 999: switching it in is never on the menu.
    const edited = lines[pick.line - 1]!.replace(/"switch_to":(null|\d+)/, '"switch_to":999');
    const file = save('impossible.jsonl', [...lines.slice(0, pick.line - 1), edited, ...lines.slice(pick.line)]);
    const r = await replayLog(file);
    expect(r).toMatchObject({ kind: 'diverged', seq: pick.seq, line: pick.line, schedule: { decision: 3, now: null, logged: { switch_to: 999, label: pick.label } } });
    if (r.kind !== 'diverged') throw new Error('unreachable');
    expect(scheduleMessage(r.schedule!)).toContain(`the log's ${JSON.stringify(pick.label)} is not possible now; enabled: `);
  });

  it('after a handler got two more spins, exact replay diverges at the first spin; --by-labels applies the schedule up to the handler step that is now a fourth spin', async () => {
    const lines = await record();
    const changed = withScenario(lines, (s) => {
      s.probes[0]!.pre[0]!.steps = 5;
    });
    const file = save('more-spins.jsonl', changed);
    // Exact replay: handler.spin's `left` counts down from steps - 1, now 4 where the log has 2.
    const firstSpin = lines.findIndex((l) => l.includes('"type":"handler.spin"'));
    expect(lines[firstSpin]).toContain('"left":2');
    expect(await replayLog(file)).toMatchObject({ kind: 'diverged', line: firstSpin + 1 });
    // By labels: every decision until the handler's fourth step is the same step (the model is
    // the same until then): enter, spin three times. The log's fourth step is the print; the
    // handler now spins a fourth time there instead.
    const all = picks(lines);
    const k = all.findIndex((p) => p.label === 'cpu0: kp pre-handler print');
    const cpu0 = all.slice(0, k).filter((p) => p.cpu === 0).map((p) => p.label);
    expect(cpu0.slice(-4)).toEqual(['cpu0: kp pre-handler', 'cpu0: kp pre-handler spin', 'cpu0: kp pre-handler spin', 'cpu0: kp pre-handler spin']);
    const r = await replayByLabels(file);
    expect(r).toMatchObject({
      kind: 'stopped',
      applied: k,
      schedule: { decision: k, seq: all[k]!.seq, line: all[k]!.line, logged: { cpu: 0, label: 'cpu0: kp pre-handler print' }, now: 'cpu0: kp pre-handler spin' },
    });
    if (r.kind !== 'stopped') throw new Error('unreachable');
    const cli = await cliInProcess(['replay', file, '--by-labels']);
    expect(cli.code).toBe(1);
    expect(cli.out).toBe(`${scheduleMessage(r.schedule)} (${file}:${all[k]!.line}; ${k} decisions applied before it)\n`);
  });

  it('with the two tasks\' CPUs swapped, --by-labels takes each logged step on the other CPU (same CPU first, then the same step elsewhere)', async () => {
    const lines = await record();
    const header = JSON.parse(lines[0]!) as { scenario: { tasks: { cpu: number }[] } };
    // The reader is pinned to CPU 0 and the worker to CPU 1 in the log (neither forks); now the other way round.
    header.scenario.tasks[0]!.cpu = 1;
    header.scenario.tasks[1]!.cpu = 0;
    const file = save('swapped.jsonl', [JSON.stringify(header), ...lines.slice(1)]);
    const end = JSON.parse(lines.at(-1)!) as { digest: string; reason: string };
    const n = picks(lines).length;
    // The run is the logged one mirrored: no logged step is on its own CPU any more, each is on the other.
    const r = await replayByLabels(file);
    expect(r).toMatchObject({ kind: 'applied', decisions: n, moved: n, endReason: end.reason, loggedDigest: end.digest, violations: [] });
    // The state is not the same: each CPU's slice ran the other's task.
    if (r.kind !== 'applied') throw new Error('unreachable');
    expect(r.digest).not.toBe(end.digest);
  });

  it('a failure found on the disarm-without-sync kernel, replayed --by-labels on the correct one, stops where rmmod now waits for the sync (R55)', async () => {
    const out = join(dir, 'explore');
    const report = await explore(BUILTIN_SCENARIOS.get('unregister-race')!, { strategy: 'portfolio', runs: 200, seed: 42, mutant: 'disarm-without-sync', out });
    const found = report.failures[0]!;
    expect(found.check).toBe('INV-removed-race');
    const lines = readFileSync(found.log!, 'utf8').trimEnd().split('\n');
    const header = JSON.parse(lines[0]!) as { mutant?: string };
    expect(header.mutant).toBe('disarm-without-sync');
    delete header.mutant;
    const file = save('fixed.jsonl', [JSON.stringify(header), ...lines.slice(1)]);
    // The log: __disable_kprobe wrote the original byte back with no sync, and rmmod's next step unlinked the probe.
    const all = picks(lines);
    const k = all.findIndex((p) => /^cpu0: rmmod unregister_kprobe\(slow\) __disable_kprobe$/.test(p.label!)) + 1;
    expect(all[k]!.label).toBe('cpu0: rmmod unregister_kprobe(slow) hlist_del_rcu');
    // On the correct kernel the same step starts a text-patch sync that waits for CPU 1, trapped
    // with interrupts off (R55): exact replay differs at that event, right after text.disarm.
    const exact = await replayLog(file);
    expect(exact).toMatchObject({ kind: 'diverged', seq: all[k]!.seq, line: all[k]!.line });
    if (exact.kind !== 'diverged') throw new Error('unreachable');
    expect(exact.actual).toMatch(/"type":"text\.sync\.start",.*"waiting":\[1\]/);
    // By labels, the schedule applies up to the unlink, which is not offered while rmmod waits:
    // only CPU 1 can step (its lookup, which now finds the probe).
    const r = await replayByLabels(file);
    expect(r).toMatchObject({ kind: 'stopped', applied: k, schedule: { decision: k, line: all[k]!.line, now: null, logged: { label: 'cpu0: rmmod unregister_kprobe(slow) hlist_del_rcu' } } });
    if (r.kind !== 'stopped') throw new Error('unreachable');
    expect(r.schedule.enabled.map((c) => c.label)).toEqual(['cpu1: slow hit']);
  }, 60_000);

  it('a shell session\'s log labels its decisions too; shell --replay and replay take it, and its unlabelled form', async () => {
    const file = join(dir, 'session.jsonl');
    const typed = 'echo "p:myprobe vfs_read" > /sys/kernel/tracing/kprobe_events\necho 1 > /sys/kernel/tracing/events/kprobes/myprobe/enable\nrun ls\n';
    const run = await cliInProcess(['shell', '--log', file], typed);
    expect(run.code).toBe(0);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(picks(lines).length).toBeGreaterThan(0);
    expect(picks(lines).every((p) => p.label !== undefined)).toBe(true);
    const old = save('session-old.jsonl', lines.map((l) => l.replace(/,"label":"[^"]*"\}$/, '}')));
    for (const f of [file, old]) {
      expect(await replaySession(f)).toMatchObject({ kind: 'identical', events: lines.length - 1, partial: false });
      expect(await replayLog(f)).toMatchObject({ kind: 'identical', events: lines.length - 1 });
    }
  });

  it('a change no label sees (the text a handler prints) replays --by-labels to the end with the same digest', async () => {
    const lines = await record();
    const changed = withScenario(lines, (s) => {
      s.probes[0]!.pre[1]!.text = 'vfs_read by {comm}, changed';
    });
    const file = save('new-text.jsonl', changed);
    // Exact replay: the handler's first printk line differs.
    const firstPrintk = lines.findIndex((l) => l.includes('"type":"printk"') && l.includes('"text":"read by '));
    expect(await replayLog(file)).toMatchObject({ kind: 'diverged', line: firstPrintk + 1 });
    const end = JSON.parse(lines.at(-1)!) as { digest: string; reason: string };
    const r = await replayByLabels(file);
    expect(r).toEqual({
      kind: 'applied',
      decisions: picks(lines).length,
      moved: 0,
      endReason: end.reason,
      // The folded state counts printk lines, not their text: the same digest.
      digest: end.digest,
      loggedDigest: end.digest,
      violations: [],
      expectFailures: [],
      halted: null,
    });
    const cli = await cliInProcess(['replay', file, '--by-labels']);
    expect(cli.code).toBe(0);
    expect(cli.out).toBe(`all ${picks(lines).length} decisions applied by label\nended: ${end.reason}\ndigest ${end.digest}, the same as the log's\ninvariants: all hold\n`);
  });
});
