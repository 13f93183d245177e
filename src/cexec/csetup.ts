import type { SymbolTable } from '../kernel/index.ts';
import type { ProbeSpec } from '../scenario/types.ts';
import { toHex } from '../model/hex.ts';
import { defaultTarget, isCModule, loadModule, moduleData, type CFunc, type CProbe, type DataObject, type LoadedModule } from './load.ts';
import type { Hex } from '../model/events.ts';

// What a run knows of its C modules besides the kernel image (part of the immutable Setup): each
// module laid out, every C function by name, every probe struct by name and by address, and the
// initial bytes insmod gives each module's data.

export interface CSetup {
  readonly modules: readonly LoadedModule[];
  readonly functions: ReadonlyMap<string, CFunc>;
  readonly probes: ReadonlyMap<string, CProbe>;
  readonly probeByAddr: ReadonlyMap<Hex, CProbe>;
  readonly data: ReadonlyMap<string, readonly DataObject[]>;
  /** The module each global or string belongs to is the running function's; by module name. */
  readonly byName: ReadonlyMap<string, LoadedModule>;
}

interface ScenarioLike {
  readonly modules?: readonly object[];
  readonly probes: readonly { readonly name: string }[];
  readonly kernel?: import('../kernel/index.ts').KernelVersion;
  readonly arch?: import('../kernel/index.ts').Arch;
  readonly config?: import('../kernel/index.ts').BuildConfig;
}

/** The scenario's C modules laid out (their slots follow the order of `modules`), or undefined when it has none. */
export function loadedModules(s: ScenarioLike): LoadedModule[] | undefined {
  const modules = s.modules ?? [];
  if (!modules.some(isCModule)) return undefined;
  const t = defaultTarget(s);
  // A probe global whose name another module or a scenario probe also has is qualified by its module.
  const counts = new Map<string, number>();
  for (const p of s.probes) counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
  const first = modules.map((m, i) => (isCModule(m) ? loadModule(m, i, t) : undefined));
  for (const m of first) for (const p of m?.probes ?? []) counts.set(p.global, (counts.get(p.global) ?? 0) + 1);
  const clash = new Set([...counts].filter(([, n]) => n > 1).map(([k]) => k));
  return modules.flatMap((m, i) => (isCModule(m) ? [clash.size === 0 ? first[i]! : loadModule(m, i, t, clash)] : []));
}

export function cSetupOf(s: ScenarioLike, symbols: SymbolTable): CSetup | undefined {
  const modules = loadedModules(s);
  if (modules === undefined) return undefined;
  const functions = new Map<string, CFunc>();
  const probes = new Map<string, CProbe>();
  const probeByAddr = new Map<Hex, CProbe>();
  const data = new Map<string, readonly DataObject[]>();
  for (const m of modules) {
    for (const [name, f] of m.functions) functions.set(name, f);
    for (const p of m.probes) {
      probes.set(p.name, p);
      probeByAddr.set(toHex(p.addr), p);
    }
    data.set(m.name, moduleData(m, symbols));
  }
  return { modules, functions, probes, probeByAddr, data, byName: new Map(modules.map((m) => [m.name, m])) };
}

/** The probes of the scenario's C modules as scenario probes (their handlers are the module's, read at run time). */
export function cProbeSpecs(s: ScenarioLike): ProbeSpec[] {
  return (loadedModules(s) ?? []).flatMap((m) => m.probes.map((p): ProbeSpec => ({ name: p.name, kind: p.kind, symbol: p.symbol ?? p.global })));
}
