import { cModuleSpec, defaultTarget, loadModuleSpec, ModuleLoadError, withCModules } from '../cexec/index.ts';
import { InputError } from '../errors.ts';
import type { ModuleSpec, Scenario } from '../scenario/types.ts';
import { validateScenario } from '../scenario/validate.ts';
import { readModuleSource } from './module-source.ts';

// `--module FILE.c` and `--module-param [MOD.]NAME=VALUE`, as `run` and `explore` take them:
// the modules are built as the run will build them (gcc's diagnostics and exit 2 when one does
// not compile), then loaded around the workload (src/cexec withCModules).

/** The scenario of `--module` alone: no probes of its own, the default workload. */
export function moduleScenario(command: string, files: readonly string[]): Scenario {
  const names = files.map((f) => f.replace(/^.*[\\/]/, '').replace(/\.c$/, ''));
  return { name: `module-${names.join('-')}`.slice(0, 64).replace(/[^A-Za-z0-9_.-]/g, '_'), description: `kprobesim ${command} --module ${files.join(' --module ')}`, cpus: 2, max_steps: 1_000_000, probes: [], tasks: [] };
}

/** The --module files with their --module-param values (MOD.NAME=VALUE for one module, NAME=VALUE for all). */
export async function readModules(files: readonly string[], params: readonly string[]): Promise<ModuleSpec[]> {
  const specs: ModuleSpec[] = [];
  for (const file of files) {
    const code = await readModuleSource(file);
    const name = cModuleSpec(file, '').name;
    const own: Record<string, string> = {};
    for (const p of params) {
      const m = /^(?:([A-Za-z_][A-Za-z0-9_]*)\.)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(p);
      if (m === null) throw new InputError('--module-param', `"${p}" is not [MOD.]NAME=VALUE`);
      if (m[1] === undefined || m[1] === name) own[m[2]!] = m[3]!;
    }
    specs.push(cModuleSpec(file, code, own));
  }
  return specs;
}

/**
 * The scenario with the --module modules loaded around its workload, or null when one does not
 * compile (gcc's diagnostics are on standard error: bad input, nothing run). Warnings are
 * printed and the build goes on.
 */
export async function withModuleFlags(scenario: Scenario, files: readonly string[], params: readonly string[]): Promise<Scenario | null> {
  const specs = await readModules(files, params);
  for (const spec of specs) {
    try {
      const m = loadModuleSpec(spec, defaultTarget(scenario));
      if (m.warnings !== '') process.stderr.write(m.warnings);
    } catch (e) {
      if (!(e instanceof ModuleLoadError)) throw e;
      process.stderr.write(e.diagnostics);
      return null;
    }
  }
  return validateScenario(withCModules(scenario, specs));
}
