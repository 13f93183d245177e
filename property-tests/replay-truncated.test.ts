import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryLog } from '../src/log/writer.ts';
import { replayLog } from '../src/replay/replay.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import { cliInProcess } from '../test/cli-in-process.ts';

// INV-determinism, truncated replay: a run killed at any moment leaves a prefix of its log (the
// writer flushes whole lines, so usually a line boundary; sometimes a line cut in two). Replaying
// any such prefix re-executes every complete event in it identically and says the log stops
// before log.end: it is never reported as a divergence (issue 9 §2).

const dir = mkdtempSync(join(tmpdir(), 'kprobesim-cut-'));
const NAMES = ['aggregate', 'kretprobe-pool', 'unregister-race', 'module-init'];

/**
 * What replaying `prefix` of a log must report: its complete events, identical. A line is
 * complete when it ends in "\n", or when only its "\n" was cut (the last piece still parses: the
 * reader cannot tell it from a whole line, and need not); a last piece cut inside its JSON is
 * the truncated line. The final digest is checked only when log.end itself is there.
 */
function expectedReplay(prefix: string): { kind: 'identical'; events: number; digest: string | null; truncatedAt: number | null } {
  const lines = prefix.split('\n');
  const tail = lines.pop()!;
  let events = lines.length - 1; // the header is not an event
  let last: { type?: string; digest?: string } | null = null;
  try {
    last = tail === '' ? null : (JSON.parse(tail) as { type?: string; digest?: string });
  } catch {
    last = null;
  }
  if (last !== null) events += 1;
  const truncatedAt = tail !== '' && last === null ? events + 2 : null;
  return { kind: 'identical', events, digest: last?.type === 'log.end' ? last.digest! : null, truncatedAt };
}

async function logOf(name: string): Promise<string> {
  const log = new MemoryLog();
  await recordRun(BUILTIN_SCENARIOS.get(name)!, { seed: 42, strategy: 'random' }, log);
  return log.text();
}

/** Cuts `text` (a whole log) at random places, at line boundaries or anywhere, and replays each cut. */
async function cutsReplayAsPrefixes(text: string, label: string): Promise<void> {
  const headerEnd = text.indexOf('\n') + 1;
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: headerEnd, max: text.length - 1 }), fc.boolean(), async (at, atLineBoundary) => {
      // A cut at a line boundary keeps whole lines only; otherwise the cut is where it falls.
      const cut = atLineBoundary ? text.lastIndexOf('\n', at - 1) + 1 : at;
      const prefix = text.slice(0, cut);
      const file = join(dir, `${label}-${n++}.jsonl`);
      writeFileSync(file, prefix);
      expect(await replayLog(file)).toEqual(expectedReplay(prefix));
    }),
    { numRuns: 25 },
  );
}

describe('INV-determinism: truncated replay', () => {
  it.each(NAMES)('INV-determinism (truncated replay): %s cut at any line boundary or inside any line replays as identical up to the cut', async (name) => {
    await cutsReplayAsPrefixes(await logOf(name), name);
  });

  it('INV-determinism (truncated replay): a shell session log cut anywhere replays as identical up to the cut', async () => {
    const T = '/sys/kernel/tracing';
    const script = [`echo 'p:kp kernel_clone' >> ${T}/kprobe_events`, `echo 1 > ${T}/events/kprobes/enable`, 'run ls', 'run ls', `echo '-:kp' >> ${T}/kprobe_events`, 'run ls', ''].join('\n');
    const whole = join(dir, 'session.jsonl');
    expect((await cliInProcess(['shell', '--log', whole], script)).code).toBe(0);
    await cutsReplayAsPrefixes(readFileSync(whole, 'utf8'), 'session');
  });

  it('replay of `head -147` of an aggregate log exits 0 and says the log stops before log.end', async () => {
    const text = await logOf('aggregate');
    const file = join(dir, 'aggregate-head-147.jsonl');
    writeFileSync(file, text.split('\n').slice(0, 147).join('\n') + '\n');
    const r = await cliInProcess(['replay', file]);
    expect(r).toEqual({
      code: 0,
      out: 'identical for all 146 complete events; the log stops before log.end (an interrupted run), so there is no final digest to check\n',
      err: '',
    });
  });

  it('every cut just before log.end, and the header alone, replay as identical too', async () => {
    const text = await logOf('aggregate');
    const lines = text.split('\n').slice(0, -1);
    for (const keep of [1, 2, lines.length - 1]) {
      const file = join(dir, `aggregate-keep-${keep}.jsonl`);
      writeFileSync(file, lines.slice(0, keep).join('\n') + '\n');
      expect(await replayLog(file)).toEqual({ kind: 'identical', events: keep - 1, digest: null, truncatedAt: null });
    }
  });
});
