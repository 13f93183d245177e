import fc from 'fast-check';

// Property runs are reproducible: a fixed seed unless FC_SEED says otherwise. A failure prints
// the seed, the shrunk scenario and the run seed, so `FC_SEED=… npx vitest run` repeats it.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261122) });
