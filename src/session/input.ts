import { InputError } from '../errors.ts';
import type { JsonObject } from '../model/events.ts';
import type { InputEvent } from '../actors/simulation.ts';
import { withModule, type Setup } from '../model/setup.ts';
import type { ModuleSpec, ProbeSpec, Scenario, TaskOp } from '../scenario/types.ts';
import { validateScenario } from '../scenario/validate.ts';

// A session's input is checked with the scenario rules before it reaches the model: a probe
// definition as if it were the next entry of `scenario.probes`, operations as if they were a
// task's program. The same checks run when a replay reads them back from a log, so a hand-edited
// `input.*` line gets a field path instead of a crash mid-run.

function known(setup: Setup): Scenario {
  return { ...setup.scenario, probes: [...setup.probes.values()], tasks: [] };
}

/** The probe of an `input.probe` event, validated; throws InputError naming the field. */
export function checkProbeInput(setup: Setup, raw: JsonObject): ProbeSpec {
  const base = known(setup);
  const s = validateScenario({ ...base, probes: [...base.probes, raw] }, setup.symbols);
  return s.probes[s.probes.length - 1]!;
}

/** The operations of an `input.ops` event, validated against the probes defined so far. */
export function checkOpsInput(setup: Setup, raw: readonly JsonObject[]): TaskOp[] {
  const base = known(setup);
  const s = validateScenario({ ...base, tasks: [{ comm: 'input', program: raw }] }, setup.symbols);
  return [...s.tasks[0]!.program];
}

/**
 * The module of an `input.module` event (a session's insmod of a module in C), validated as the
 * next entry of `scenario.modules` (it replaces one of the same name, which is not loaded); and
 * the names of the probe structs it brings. Throws InputError naming the field.
 */
export function checkModuleInput(setup: Setup, raw: JsonObject): { readonly module: ModuleSpec; readonly probes: readonly string[] } {
  const base = known(setup);
  const others = (base.modules ?? []).filter((m) => m.name !== raw.name);
  const s = validateScenario({ ...base, modules: [...others, raw] });
  const module = s.modules![s.modules!.length - 1]!;
  if (module.source === undefined || module.code === undefined) throw new InputError('scenario.modules', 'a session loads only modules written in C (source and code)');
  return { module, probes: withModule(setup, module).probes };
}

/** Re-label a validation error of an input (`tasks[0].program[2].probe`) for a log line. */
export function inputErrorAt(where: string, e: InputError): InputError {
  const field = e.place.replace(/^scenario\.(probes\[\d+\]|tasks\[0\]\.program)/, (_, head: string) => (head.startsWith('probes') ? 'probe' : 'ops'));
  return new InputError(where, `${field}: ${e.what}`);
}

/** A logged input event, checked; what Simulation.input() takes. */
export function checkInputEvent(setup: Setup, e: InputEvent): InputEvent {
  if (e.type === 'input.line') return { type: 'input.line', text: e.text };
  if (e.type === 'input.probe') return { type: 'input.probe', probe: checkProbeInput(setup, e.probe) as unknown as JsonObject };
  // What a session read of a mounted host directory: the shell checks a node when it uses it.
  if (e.type === 'input.mount') return { type: 'input.mount', path: e.path };
  if (e.type === 'input.mount.read') return { type: 'input.mount.read', path: e.path, node: e.node };
  if (e.type === 'input.module') {
    const { module, probes } = checkModuleInput(setup, e.module);
    if (probes.join('\n') !== e.probes.join('\n')) throw new InputError('probes', `the module's probe structs are ${JSON.stringify(probes)}, not ${JSON.stringify(e.probes)}`);
    return { type: 'input.module', module: module as unknown as JsonObject, probes };
  }
  return { type: 'input.ops', pid: e.pid, ops: checkOpsInput(setup, e.ops) as unknown as JsonObject[] };
}
