import { compileModule, formatDiagnostics, type CheckedModule } from '../../c/index.ts';
import { InputError } from '../../errors.ts';
import { DEFAULT_KERNEL, type Arch, type KernelVersion } from '../../kernel/index.ts';
import { allPassed, formatKtap, ktapDialect, runKunit } from '../../kunit/index.ts';
import { loadForKunit } from '../../kunit/simulated.ts';
import { EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK } from '../errors.ts';
import { out } from '../io.ts';
import { readModuleSource } from '../module-source.ts';

// `kprobesim kunit FILE.c`: build the module (gcc's diagnostics on standard error; an error is
// bad input, exit 2), load it into a simulated kernel, run the KUnit suites it declares as the
// kernel does once the module is live, and print their KTAP. Exit 0 when no case failed, 1
// otherwise.

export interface KunitFlags {
  arch: Arch;
  kernel?: KernelVersion;
  cpus: number;
  seed: number;
}

export async function kunitCommand(file: string, flags: KunitFlags): Promise<number> {
  const kernel = flags.kernel ?? DEFAULT_KERNEL;
  const dialect = ktapDialect(kernel);
  if (dialect === null) throw new InputError('--kernel', `${kernel} has no KUnit (it came in v5.5); choose 5.10 or 6.17`);
  const source = await readModuleSource(file);
  const compiled = compileModule(source, file, { arch: flags.arch, kernel });
  if (!compiled.ok) {
    process.stderr.write(formatDiagnostics(compiled.diagnostics));
    return EXIT_BAD_INPUT;
  }
  // Warnings are printed as gcc prints them, and the build goes on.
  if (compiled.warnings.length > 0) process.stderr.write(formatDiagnostics(compiled.warnings));
  const module: CheckedModule = compiled.module;
  if (module.kunitSuites.length === 0) throw new InputError(file, 'declares no KUnit suite (kunit_test_suites(&suite) at file scope)');
  const loaded = loadForKunit(module, source, { arch: flags.arch, kernel, cpus: flags.cpus, seed: flags.seed });
  if (!loaded.ok) {
    // The module never went live, so KUnit ran nothing: what insmod would have said.
    process.stderr.write(`kprobesim: ${file}: ${loaded.message}\n`);
    return EXIT_CHECK_FAILED;
  }
  try {
    const result = runKunit(module, loaded.target, dialect);
    out(formatKtap(result, dialect).map((l) => `${l}\n`).join(''));
    return allPassed(result) ? EXIT_OK : EXIT_CHECK_FAILED;
  } finally {
    loaded.unload();
  }
}
