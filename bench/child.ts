/**
 * Runs one benchmark in a process of its own (bench/run.ts starts one per benchmark, each with the
 * environment it needs: log level, metrics) and writes its result as JSON to the file named second.
 * `tsx bench/child.ts <name> <out.json>`
 */
import './env.js';
import { writeFile } from 'node:fs/promises';

const [name, out] = process.argv.slice(2);
const benches: Record<string, () => Promise<unknown>> = {
  verifier: async () => (await import('./verifier.js')).verifierBench(),
  verifierQueue: async () => (await import('./verifier-queue.js')).verifierQueueBench(),
  coldStart: async () => (await import('./cold-start.js')).coldStartBench(),
  cost: async () => (await import('./cost.js')).costBench(),
  resubscribeAll: async () => (await import('./resubscribe-all.js')).resubscribeAllBench(),
  doctor: async () => (await import('./doctor.js')).doctorBench(),
  localThroughput: async () => (await import('./local-throughput.js')).localThroughputBench(),
  chaos: async () => (await import('./chaos.js')).chaosBench(),
  bodyLimit: async () => (await import('./body-limit.js')).bodyLimitBench(),
  media: async () => (await import('./media.js')).mediaBench(),
};
const run = name === undefined ? undefined : benches[name];
if (!run || !out) {
  console.error(`usage: tsx bench/child.ts <${Object.keys(benches).join('|')}> <out.json>`);
  process.exit(2);
}
const result = await run();
await writeFile(out, JSON.stringify(result));
// Clients with keep-alive sockets and timers of the fakes must not hold the process open.
process.exit(0);
