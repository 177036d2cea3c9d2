/**
 * Runs the deployed verifier handler in a loop, for `node --cpu-prof` (bench/verifier.ts starts it):
 * `node --import tsx --cpu-prof bench/verifier-profile.ts [events]`.
 */
import './env.js';
import { MemoryBlobStore } from '#adapters/local/blob-store';
import { signBody } from '#ingest/signature';
import { createVerifier } from '#ingest/verify-webhook';
import { lambdaContext } from '#local/lambda-context';
import { hotPathLambda } from '#runtime/lambda';
import { httpEvent } from '#testkit/http-events';
import { benchBody } from './verifier.js';

const SECRET = 'bench-app-secret';
const events = Number(process.argv[2] ?? 1);
const raw = Buffer.from(benchBody(events));
const sink: unknown[] = [];
const verifier = hotPathLambda(
  createVerifier({
    queue: { send: async (m) => void sink.push(...m) },
    credentials: { get: async () => ({ appId: '1', appSecret: SECRET, verifyToken: 'v' }) },
    blobs: new MemoryBlobStore(),
  }),
);
const event = httpEvent('POST', '/webhooks/facebook', {
  body: raw,
  headers: { 'x-hub-signature-256': signBody(raw, SECRET) },
});
const context = lambdaContext('bench-verifier');
const deadline = Date.now() + 3_000;
while (Date.now() < deadline) {
  for (let i = 0; i < 1000; i++) {
    sink.length = 0;
    await verifier(event, context);
  }
}
