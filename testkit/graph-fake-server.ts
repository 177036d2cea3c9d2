/**
 * The Graph API fake in a process of its own (bench/resubscribe-all.ts starts it), so its CPU does not
 * share the event loop with the code under test. Tokens derive from SEED: the parent builds the same
 * fake (not started) to know them. Prints `url <base>`; exits when stdin closes.
 */
import { GraphFake } from '#testkit/graph-faults';

const env = process.env;
const fake = new GraphFake({
  appId: env.FAKE_APP_ID ?? '',
  appSecret: env.FAKE_APP_SECRET ?? '',
  seed: env.FAKE_SEED,
  latencyMs: Number(env.FAKE_LATENCY_MS ?? 0),
});
const count = Number(env.FAKE_PAGES ?? 0);
const first = BigInt(env.FAKE_FIRST_PAGE ?? '500000000000000');
fake.addUser({ pages: fakePages(first, count) });
// A healthy app webhook for the doctor's bench (bench/doctor.ts), when it names the callback.
if (env.FAKE_APP_WEBHOOK_URL)
  fake.setAppWebhook({
    callbackUrl: env.FAKE_APP_WEBHOOK_URL,
    fields: (env.FAKE_APP_WEBHOOK_FIELDS ?? '').split(',').filter(Boolean),
    active: true,
  });
const url = await fake.start();
process.stdout.write(`url ${url}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

function fakePages(firstId: bigint, n: number) {
  return Array.from({ length: n }, (_, i) => ({ id: String(firstId + BigInt(i)), name: `Page ${i}` }));
}
