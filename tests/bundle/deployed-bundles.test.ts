/**
 * The deployed artifact, not only the handlers: the stack is synthesized once, and each function's
 * real bundle (asset.<hash>/index.mjs, as Lambda would load it) runs in its own Node.js process with
 * the environment the template gives it, against loopback fakes of every AWS service it calls
 * (testkit/aws-fakes) and the Graph API sandbox. Every AWS call a bundle makes is checked against its
 * role's policy in the template (testkit/iam.ts).
 *
 * Set PAGEWIRE_BUNDLE_OUTDIR to an existing synth output to skip the synth (~20 s) while iterating.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Deployment, deploy, synthesize, VERIFY_TOKEN } from '#testkit/aws-fakes/deployment';
import { httpEvent } from '#testkit/http-events';
import { authorize } from '#testkit/iam';
import { metaJson } from '#testkit/webhooks';

let d: Deployment;
let removeSynth = () => {};

beforeAll(async () => {
  let outdir = process.env.PAGEWIRE_BUNDLE_OUTDIR;
  if (!outdir) {
    const synth = await synthesize();
    outdir = synth.outdir;
    removeSynth = synth.remove;
  }
  d = await deploy(outdir);
}, 120_000);

afterAll(async () => {
  await d?.stop();
  removeSynth();
});

const sign = (body: string, secret: string) =>
  `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;

/** Every call the function made, as `service:Operation` (in order), after checking none was denied. */
function allowedCalls(prefix: string): string[] {
  const fn = d.fn(prefix);
  expect(d.denied(fn)).toEqual([]);
  return d.gateway.calls
    .filter((c) => c.principal.endsWith(fn.logicalId.toUpperCase()))
    .map((c) => `${c.service}:${c.operation}`);
}

describe('the verifier bundle', () => {
  it('answers /health and the handshake, and queues a signed POST', async () => {
    const fn = d.fn('IngestVerifier');
    const verifier = await d.run(fn);
    const health = await verifier.invoke(httpEvent('GET', '/health'));
    expect(health.result).toMatchObject({ statusCode: 200, body: '{"status":"ok"}' });

    const query = { 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '8412' };
    const handshake = await verifier.invoke(httpEvent('GET', '/webhooks/facebook', { query }));
    expect(handshake.result).toMatchObject({ statusCode: 200, body: '8412' });

    const [page] = d.graph.pages;
    const body = metaJson({
      object: 'page',
      entry: [
        {
          id: page.id,
          time: 1764633600000,
          messaging: [
            {
              sender: { id: d.graph.psids[page.id] },
              recipient: { id: page.id },
              timestamp: 1764633600000,
              message: { mid: 'm_bundle-test-1', text: 'Hola, ¿está abierto?' },
            },
          ],
        },
      ],
    });
    const post = await verifier.invoke(
      httpEvent('POST', '/webhooks/facebook', {
        body,
        headers: { 'x-hub-signature-256': sign(body, d.graph.appSecret), 'content-type': 'application/json' },
      }),
    );
    expect(post.result).toMatchObject({ statusCode: 200 });
    const queued = d.sqs.messages(eventsQueueName());
    expect(queued).toHaveLength(1);
    expect(queued[0].body).toContain('m_bundle-test-1');

    const unsigned = await verifier.invoke(httpEvent('POST', '/webhooks/facebook', { body }));
    expect(unsigned.result).toMatchObject({ statusCode: 401 });
    expect(d.sqs.messages(eventsQueueName())).toHaveLength(1);

    expect(allowedCalls('IngestVerifier')).toEqual(['secretsmanager:GetSecretValue', 'sqs:SendMessageBatch']);
    expect(verifier.output).not.toContain(d.graph.appSecret);
    await verifier.stop();
  });

  it('carries neither the KMS client nor the Redis client', () => {
    const code = readFileSync(join(d.fn('IngestVerifier').bundleDir, 'index.mjs'), 'utf8');
    // WP2 takes client-dynamodb out of the verifier (plan §0.2): add 'DynamoDB_20120810' here then.
    for (const marker of ['TrentService', 'ioredis']) expect(code).not.toContain(marker);
  });
});

function eventsQueueName(): string {
  const url = d.fn('IngestVerifier').environment.EVENTS_QUEUE_URL;
  return url.split('/').at(-1) as string;
}

describe('the IAM check', () => {
  it('flags a call the role does not allow', () => {
    const verifier = d.fn('IngestVerifier');
    const table = d.fn('ProcessingProcessor').environment.TABLE_NAME;
    const verdict = authorize(verifier.statements, {
      action: 'dynamodb:GetItem',
      resource: `arn:aws:dynamodb:us-east-1:000000000000:table/${table}`,
    });
    expect(verdict).toEqual({ allowed: false, why: 'no Allow statement matches' });
  });
});
