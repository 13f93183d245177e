import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLogText } from '../src/log/reader.ts';
import type { LogHeader } from '../src/log/header.ts';
import type { LoggedEvent } from '../src/model/events.ts';
import { scenarioArbitrary, seedArbitrary } from '../src/scenario/arbitrary.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { buildTimeline } from '../src/timeline/build.ts';
import { perfettoJson } from '../src/timeline/perfetto.ts';
import { checkPerfetto } from '../test/perfetto-check.ts';
import { RUNS, runInMemory } from './helpers.ts';

// The Perfetto export of any run passes the format checks (test/perfetto-check.ts): slices nest
// on every track, no nesting-relevant timestamp is shared, every track has its metadata, every
// flow both ends. Also for a seq window cut at random points, where slices are clipped.

function read(text: string): { header: LogHeader; events: LoggedEvent[] } {
  let header: LogHeader | undefined;
  const events: LoggedEvent[] = [];
  for (const e of parseLogText(text)) {
    if (e.kind === 'header') header = e.header;
    else if (e.kind === 'event') events.push(e.event);
  }
  return { header: header!, events };
}

/**
 * Whether `kprobesim run` would accept the scenario. scenarioArbitrary can draw an
 * unregister_kprobe with no probe when the scenario has none (its log then fails the reader's
 * check of kprobe.unregister); those are not runs a user can make, so they are skipped here.
 */
function valid(scenario: Scenario): boolean {
  try {
    validateScenario(JSON.parse(JSON.stringify(scenario)));
    return true;
  } catch {
    return false;
  }
}

describe('perfetto export', () => {
  it('every export of a random run, whole or windowed, passes the format checker', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary(), seedArbitrary, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), async (scenario, seed, a, b) => {
        fc.pre(valid(scenario));
        const { log } = await runInMemory(scenario, seed);
        const { header, events } = read(log.text());
        const whole = checkPerfetto(perfettoJson(buildTimeline({ header, events })));
        expect(whole.problems).toEqual([]);
        const n = events.length;
        const [lo, hi] = [Math.min(a, b), Math.max(a, b)];
        const from = 1 + Math.floor(lo * (n - 1));
        const to = 1 + Math.floor(hi * (n - 1));
        const windowed = buildTimeline({ header, events }, { from, to });
        expect([windowed.firstSeq, windowed.lastSeq]).toEqual([from, to]);
        expect(checkPerfetto(perfettoJson(windowed)).problems).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});
