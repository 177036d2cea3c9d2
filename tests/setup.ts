/**
 * Every test file: fast-check runs from a fixed seed, so `npm test` makes the same cases on every run
 * and a CI failure can be replayed. Set FC_SEED to explore other cases (a failure prints its seed).
 */
import fc from 'fast-check';

const seed = Number(process.env.FC_SEED ?? 20261201);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
