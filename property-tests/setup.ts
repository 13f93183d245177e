import fc from 'fast-check';
import { counterexampleReporter } from '../src/scenario/counterexample.ts';

// Property runs are reproducible: a fixed seed unless FC_SEED says otherwise. A failure prints
// fast-check's seed and path, then the shrunk scenario as a file and the `kprobesim run FILE
// --seed S` that reproduces it (counterexampleReporter); `FC_SEED=… npx vitest run` repeats it.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261122), reporter: counterexampleReporter });
