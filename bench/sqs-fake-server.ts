/**
 * The SQS fake (testkit/sqs-fake.ts) in a process of its own (bench/verifier-queue.ts starts it),
 * so its work does not share the event loop with the code under test. Answers each call after
 * FAKE_LATENCY_MS; creates the queue FAKE_QUEUE. Prints `url <queue URL>`; exits when stdin closes.
 */
import { SqsFake } from '#testkit/sqs-fake';

const fake = new SqsFake({ latencyMs: Number(process.env.FAKE_LATENCY_MS ?? 0) });
await fake.start();
process.stdout.write(`url ${fake.createQueue(process.env.FAKE_QUEUE ?? 'pagewire-events.fifo')}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
