// TypeScript handlers for library users (issue 3 item 9, design.md "Handlers"): a callback step
// returns declarative steps from a read-only context; what it returned is logged, so the log
// folds and replays without the code.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Simulation, type HandlerCallback, type HandlerContext, type HandlerStep, type LoggedEvent } from '../src/index.ts';
import { InputError } from '../src/errors.ts';
import { makeHeader } from '../src/run/record.ts';
import { replayLog } from '../src/replay/replay.ts';
import { foldLog } from '../src/replay/fold-log.ts';
import { digestState } from '../src/model/digest.ts';
import { validateScenario } from '../src/scenario/validate.ts';
import { randomStrategy } from '../src/scheduler/strategies.ts';
import { ofType } from './helpers.ts';

const scenario = validateScenario({
  name: 'callbacks',
  cpus: 2,
  max_steps: 20_000,
  probes: [
    { name: 'kp', symbol: 'vfs_read', pre: [{ do: 'callback', name: 'decide' }] },
    { name: 'rp', kind: 'kretprobe', symbol: 'do_sys_openat2', handler: [{ do: 'callback', name: 'onReturn' }] },
  ],
  tasks: [
    { comm: 'cat', cpu: 0, program: [{ op: 'register_kprobe', probe: 'kp' }, { op: 'register_kprobe', probe: 'rp' }, { op: 'call', fn: 'ksys_read', times: 3 }, { op: 'call', fn: 'do_sys_open' }] },
  ],
});

function run(callbacks: Record<string, HandlerCallback>) {
  const sim = new Simulation(scenario, { seed: 5, strategy: randomStrategy(5), callbacks });
  const events: LoggedEvent[] = [];
  sim.events$.subscribe((e) => events.push(e));
  sim.run();
  return { sim, events };
}

describe('TypeScript handler callbacks', () => {
  it('return the steps to run; they see a read-only context, and what they return is logged', () => {
    const seen: HandlerContext[] = [];
    const { events, sim } = run({
      // Every other hit prints; the others do nothing.
      decide: (ctx) => {
        seen.push({ ...ctx });
        const steps: HandlerStep[] = ctx.hits % 2 === 1 ? [{ do: 'print', text: `odd hit ${ctx.hits} on cpu ${ctx.cpu}` }] : [];
        // A snapshot: writing to it changes nothing in the kernel.
        (ctx as { hits: number }).hits = 100;
        return steps;
      },
      onReturn: (ctx) => [{ do: 'print', text: `returned ${ctx.retval}` }, { do: 'set_retval', value: -2 }],
    });
    expect(sim.endReason).toBe('done');
    expect(seen.map((c) => [c.probe, c.phase, c.comm, c.hits])).toEqual([
      ['kp', 'pre', 'cat', 1],
      ['kp', 'pre', 'cat', 2],
      ['kp', 'pre', 'cat', 3],
    ]);
    expect(ofType(events, 'printk').map((e) => e.text)).toEqual(['odd hit 1 on cpu 0', 'odd hit 3 on cpu 0', 'returned 3']);
    expect(ofType(events, 'handler.callback').map((e) => [e.name, e.steps.length])).toEqual([
      ['decide', 1],
      ['decide', 0],
      ['decide', 1],
      ['onReturn', 2],
    ]);
    // The returned set_retval took effect: the caller got -2 (R76 with a changed value).
    expect(ofType(events, 'kretprobe.return').map((e) => e.ret)).toEqual([-2]);
  });

  it('the log replays and folds without the code (INV-determinism)', async () => {
    const { events, sim } = run({ decide: (ctx) => (ctx.hits === 2 ? [{ do: 'spin', steps: 3 }] : []), onReturn: () => [] });
    const file = join(mkdtempSync(join(tmpdir(), 'kprobesim-cb-')), 'cb.jsonl');
    writeFileSync(file, [JSON.stringify(makeHeader(scenario, { seed: 5, strategy: 'random' })), ...events.map((e) => JSON.stringify(e))].join('\n') + '\n');
    expect(await replayLog(file)).toMatchObject({ kind: 'identical', events: events.length });
    expect(digestState((await foldLog(file)).state)).toBe(digestState(sim.world));
  });

  it('bad returned steps are named by callback and field; a missing callback is refused up front', () => {
    expect(() => run({ decide: () => [{ do: 'set_retval', value: 1 }], onReturn: () => [] })).toThrow(
      /^callbacks\.decide: returned pre\[0\]\.do: "set_retval" is only for a kretprobe return handler/,
    );
    expect(() => run({ decide: () => [{ do: 'callback', name: 'decide' }], onReturn: () => [] })).toThrow('callbacks.decide: may not return another callback step');
    let err: unknown;
    try {
      new Simulation(scenario, { seed: 1, strategy: randomStrategy(1), callbacks: { decide: () => [] } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/^callbacks: the scenario calls TypeScript handler "onReturn"; run it through the library/);
  });
});
