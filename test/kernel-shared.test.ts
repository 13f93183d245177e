// Kernel images, symbol tables and the code tables built from them are made once per process and
// shared by every run of the same build (issue 10 §4: thousands of short runs). They are frozen
// all the way down, so sharing cannot carry anything from one run into the next.

import { describe, expect, it } from 'vitest';
import { Simulation } from '../src/actors/simulation.ts';
import { kernelImage, symbolsFor, symbolsWithModules, type KernelImage } from '../src/kernel/index.ts';
import { MemoryLog } from '../src/log/writer.ts';
import { recordRun } from '../src/run/record.ts';
import { BUILTIN_SCENARIOS } from '../src/scenario/builtin/index.ts';
import type { Scenario } from '../src/scenario/types.ts';
import { randomStrategy } from '../src/scheduler/strategies.ts';

const scenario = (name: string): Scenario => BUILTIN_SCENARIOS.get(name)!;
const sim = (s: Scenario, seed: number): Simulation => new Simulation(s, { seed, strategy: randomStrategy(seed) });

/** Every object reachable from `value` that is not frozen, as paths (empty: frozen all the way down). */
function unfrozen(value: unknown, path = '', seen = new Set<object>()): string[] {
  if (typeof value !== 'object' || value === null || seen.has(value)) return [];
  seen.add(value);
  const here = Object.isFrozen(value) ? [] : [path || '(root)'];
  return [...here, ...Object.entries(value).flatMap(([k, v]) => unfrozen(v, `${path}.${k}`, seen))];
}

async function logOf(s: Scenario, seed: number): Promise<{ text: string; digest: string }> {
  const log = new MemoryLog();
  const r = await recordRun(s, { seed, strategy: 'random' }, log);
  return { text: log.text(), digest: r.digest };
}

describe('kernel images are built once per process and shared', () => {
  it('two Simulations of the same build share the image, the symbol table and the code table', () => {
    const a = sim(scenario('unregister-race'), 1);
    const b = sim(scenario('default'), 2);
    expect(b.setup.symbols).toBe(a.setup.symbols);
    expect(b.setup.symbols.image).toBe(a.setup.symbols.image);
    expect(b.setup.code).toBe(a.setup.code);
    expect(a.setup.symbols).toBe(symbolsFor('6.17', 'x86_64'));
    expect(a.setup.symbols.image).toBe(kernelImage('6.17', 'x86_64'));
    // What a run may change is its own: programs, probes, resolutions, handler steps.
    expect(b.setup.programs).not.toBe(a.setup.programs);
    expect(b.setup.probes).not.toBe(a.setup.probes);
    expect(b.setup.resolutions).not.toBe(a.setup.resolutions);
    expect(b.setup.steps).not.toBe(a.setup.steps);
  });

  it('a scenario with modules gets one table per build and module text', () => {
    const s = scenario('module-init');
    const a = sim(s, 1);
    const b = sim(structuredClone(s), 2);
    expect(b.setup.symbols).toBe(a.setup.symbols);
    expect(b.setup.code).toBe(a.setup.code);
    expect(a.setup.symbols).not.toBe(symbolsFor('6.17', 'x86_64'));
    const mod = s.modules![0]!;
    const renamed = symbolsWithModules('6.17', [{ ...mod, name: `${mod.name}2` }]);
    expect(renamed).not.toBe(a.setup.symbols);
    expect(renamed.lookup(`${mod.name}2:${mod.functions[0]!.name}`)).toBeDefined();
    expect(symbolsWithModules('6.17', [mod], 'arm64')).not.toBe(a.setup.symbols);
  });

  it('images, module tables and code tables are frozen all the way down', () => {
    const images: KernelImage[] = [
      kernelImage('6.17', 'x86_64'),
      kernelImage('4.14', 'x86_64'),
      kernelImage('6.17', 'arm64'),
      kernelImage('6.17', 'x86_64', { ftrace: true, ibt: true }),
      sim(scenario('module-init'), 1).setup.symbols.image,
    ];
    for (const image of images) expect(unfrozen(image)).toEqual([]);
    const code = sim(scenario('default'), 1).setup.code;
    for (const c of code.values()) expect(unfrozen(c)).toEqual([]);
    const any = code.values().next().value!;
    expect(() => (code as Map<string, typeof any>).set('evil', any)).toThrow(/read-only/);
    expect(() => (code as Map<string, typeof any>).delete('vfs_read')).toThrow(/read-only/);
    expect(() => (code as Map<string, typeof any>).clear()).toThrow(/read-only/);
    const fn = sim(scenario('default'), 1).setup.symbols.lookup('vfs_read')!;
    expect(() => {
      (fn as { addr: bigint }).addr = 0n;
    }).toThrow(TypeError);
  });

  it('sharing leaks nothing between runs: A, then B (other scenarios, modules), then A again gives the same bytes', async () => {
    const a = scenario('unregister-race');
    const first = await logOf(a, 5);
    await logOf(scenario('module-init'), 9);
    await logOf(scenario('default'), 5);
    await logOf(scenario('printk-recursion'), 11);
    const again = await logOf(a, 5);
    expect(again.digest).toBe(first.digest);
    expect(again.text).toBe(first.text);
    // And a module scenario after runs of the bare build.
    const m1 = await logOf(scenario('module-init'), 3);
    await logOf(scenario('unregister-race'), 3);
    expect((await logOf(scenario('module-init'), 3)).text).toBe(m1.text);
  });
});
