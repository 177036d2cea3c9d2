/**
 * The deployed artifact, not only the handlers: the stack is synthesized once, and each function's
 * real bundle (asset.<hash>/index.mjs, as Lambda would load it) runs in its own Node.js process with
 * the environment the template gives it, against loopback fakes of every AWS service it calls
 * (testkit/aws-fakes) and the Graph API sandbox. Every AWS call a bundle makes is checked against its
 * role's policy in the template (testkit/iam.ts).
 *
 * The synth is the run's plain synth (testkit/plain-synth.ts), shared with the CDK test. Set
 * PAGEWIRE_BUNDLE_OUTDIR to an existing synth output to skip it (~20 s) while iterating.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PublicEvent } from '#contracts/public-event';
import { demoPng } from '#local/graph-sandbox/cdn';
import { DEMO_INSTAGRAM } from '#local/graph-sandbox/demo';
import {
  type BundleProcess,
  type Deployment,
  deploy,
  principalOf,
  sqsEventOf,
  VERIFY_TOKEN,
} from '#testkit/aws-fakes/deployment';
import type { PutEventsEntry } from '#testkit/aws-fakes/eventbridge';
import { busArn } from '#testkit/cfn';
import { httpEvent } from '#testkit/http-events';
import { first, present } from '#testkit/pick';
import { plainSynth } from '#testkit/plain-synth';
import type { FakeSqsMessage } from '#testkit/sqs-fake';
import { tinyServer } from '#testkit/tiny-server';
import { metaJson } from '#testkit/webhooks';

let d: Deployment;

beforeAll(async () => {
  d = await deploy(await plainSynth());
}, 180_000);

afterAll(async () => {
  await d?.stop();
});

const sign = (body: string, secret: string) =>
  `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;

/** The distinct calls the function made, as `service:Operation`, after checking its role allowed each one. */
function allowedCalls(prefix: string): string[] {
  const fn = d.fn(prefix);
  expect(d.denied(fn)).toEqual([]);
  const calls = d.gateway.callsBy(principalOf(fn)).map((c) => `${c.service}:${c.operation}`);
  return [...new Set(calls)].sort();
}

const VERIFIER = 'IngestVerifier';
const PROCESSOR = 'ProcessingProcessor';
const ADMIN = 'PageOperationsAdmin';
const PAGE_COMMANDS = 'PageOperationsPageCommandsConsumer';
const OPS = 'PageOperationsOps';
const MEDIA = 'MediaWorker';
const CONNECT = 'ConnectLoginConnect';

const queueOf = (url: string) => url.split('/').at(-1) as string;
const queueArn = (url: string) => `arn:aws:sqs:us-east-1:000000000000:${queueOf(url)}`;
const bodyOf = (invocation: { result?: unknown }) =>
  JSON.parse(String((invocation.result as { body?: string }).body));

/** Bundles started once and shared by the scenarios below, which run in order (one flow). */
const started = new Map<string, BundleProcess>();
let lastClaim: FakeSqsMessage[] = [];
async function bundle(prefix: string): Promise<BundleProcess> {
  const running = started.get(prefix) ?? (await d.run(d.fn(prefix)));
  started.set(prefix, running);
  return running;
}

describe('the deployed stack, bundle by bundle', () => {
  it('admin lists no pages, then connects one: KMS Encrypt, and the command queued to page commands', async () => {
    const admin = await bundle(ADMIN);
    const empty = await admin.invoke(httpEvent('GET', '/admin/pages'));
    expect(empty.result).toMatchObject({ statusCode: 200 });
    expect(bodyOf(empty)).toEqual({ pages: [] });

    const page = first(d.graph.pages, 'sandbox page');
    const connecting = admin.invoke(
      httpEvent('POST', '/admin/pages/connect', {
        body: JSON.stringify({ userAccessToken: d.graph.userToken, pageIds: [page.id] }),
        headers: { 'content-type': 'application/json' },
      }),
    );
    // The admin function waits for the page command; the page-commands bundle runs it meanwhile.
    const adminPrincipal = principalOf(d.fn(ADMIN));
    const queued = d.gateway.waitForCall(
      (c) => c.principal === adminPrincipal && c.operation === 'SendMessageBatch',
    );
    // Should the admin answer first (it failed before queueing), the assertions below say how.
    await Promise.race([queued, connecting]);
    const commandsUrl = present(d.fn(ADMIN).environment.PAGE_COMMANDS_QUEUE_URL, 'PAGE_COMMANDS_QUEUE_URL');
    const commands = d.sqs.messages(queueOf(commandsUrl));
    expect(commands).toHaveLength(1);
    expect(first(commands, 'commands').groupId).toContain(page.id);

    const consumer = await bundle(PAGE_COMMANDS);
    const consumed = await consumer.invoke(sqsEventOf(commands, queueArn(commandsUrl)));
    expect(consumed).toEqual({ result: { batchItemFailures: [] } });

    const connected = await connecting;
    expect(connected.result).toMatchObject({ statusCode: 200 });
    // The café's linked Instagram account is connected with it, as its own entry (SPEC §11).
    expect(page.id).toBe(DEMO_INSTAGRAM.pageId);
    const instagram = { pageId: DEMO_INSTAGRAM.id, channel: 'instagram', linkedPageId: page.id };
    expect(bodyOf(connected).pages).toMatchObject([
      { pageId: page.id, status: 'active' },
      { ...instagram, status: 'active' },
    ]);
    expect(d.graph.fake.subscriptions(page.id)?.fields).toContain('messages');

    const listed = bodyOf(await admin.invoke(httpEvent('GET', '/admin/pages')));
    expect(listed.pages).toMatchObject([
      { pageId: page.id, name: page.name, status: 'active', channel: 'messenger' },
      { ...instagram, name: DEMO_INSTAGRAM.username, status: 'active' },
    ]);
    for (const output of [admin.output, consumer.output]) {
      expect(output).not.toContain(d.graph.appSecret);
      expect(output).not.toContain(d.graph.fake.pageToken(page.id));
    }
  });

  it('the verifier answers /health and the handshake, and queues a signed POST', async () => {
    const verifier = await bundle(VERIFIER);
    const health = await verifier.invoke(httpEvent('GET', '/health'));
    expect(health.result).toMatchObject({ statusCode: 200, body: '{"status":"ok"}' });

    const query = { 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '8412' };
    const handshake = await verifier.invoke(httpEvent('GET', '/webhooks/facebook', { query }));
    expect(handshake.result).toMatchObject({ statusCode: 200, body: '8412' });

    const post = await verifier.invoke(
      httpEvent('POST', '/webhooks/facebook', {
        body: WEBHOOK(),
        headers: {
          'x-hub-signature-256': sign(WEBHOOK(), d.graph.appSecret),
          'content-type': 'application/json',
        },
      }),
    );
    expect(post.result).toMatchObject({ statusCode: 200 });
    const queued = d.sqs.messages(eventsQueue());
    expect(queued).toHaveLength(1);
    expect(first(queued, 'queued').body).toContain('m_bundle-test-1');

    const unsigned = await verifier.invoke(httpEvent('POST', '/webhooks/facebook', { body: WEBHOOK() }));
    expect(unsigned.result).toMatchObject({ statusCode: 401 });
    expect(d.sqs.messages(eventsQueue())).toHaveLength(1);

    expect(allowedCalls(VERIFIER)).toEqual(['secretsmanager:GetSecretValue', 'sqs:SendMessageBatch']);
    expect(verifier.output).not.toContain(d.graph.appSecret);
  });

  it('the processor stores the queued message, with the profile fetched through the sealed page token', async () => {
    const processor = await bundle(PROCESSOR);
    const url = present(d.fn(VERIFIER).environment.EVENTS_QUEUE_URL, 'EVENTS_QUEUE_URL');
    const processed = await processor.invoke(sqsEventOf(d.sqs.messages(eventsQueue()), queueArn(url)));
    expect(processed).toEqual({ result: { batchItemFailures: [] } });

    const table = d.fn(PROCESSOR).environment.TABLE_NAME;
    const items = (await d.dynamo.send(new ScanCommand({ TableName: table }))).Items ?? [];
    expect(JSON.stringify(items)).toContain('m_bundle-test-1');
    const page = first(d.graph.pages, 'sandbox page');
    const psid = d.graph.psids[page.id];
    expect(d.graphCalls.some((c) => c.path === `/${psid}` && c.tokenPageId === page.id)).toBe(true);

    const admin = await bundle(ADMIN);
    const conversations = bodyOf(
      await admin.invoke(httpEvent('GET', `/admin/pages/${page.id}/conversations`)),
    );
    expect(conversations.conversations).toMatchObject([{ userId: psid, name: 'Ada Lovelace' }]);
    expect(processor.output).not.toContain(d.graph.fake.pageToken(page.id));

    // What it stored went out on the template's bus, as the SPEC §8 event, through an allowed call.
    const entries = publishedBy(PROCESSOR);
    expect(entries.map(publicEventOf)).toMatchObject([
      {
        type: 'message.received',
        pageId: page.id,
        userId: psid,
        seq: 1,
        data: { mid: 'm_bundle-test-1', text: 'Hola, ¿está abierto?' },
      },
      { type: 'contact.updated', pageId: page.id, userId: psid, seq: 2, data: { name: 'Ada Lovelace' } },
    ]);
    const puts = d.gateway.callsBy(principalOf(d.fn(PROCESSOR))).filter((c) => c.service === 'events');
    expect(puts.map((c) => [c.operation, c.status])).toEqual([['PutEvents', 200]]);
    // One authorization per entry, each on the bus (its ARN, which the role's grant names).
    expect(first(puts, 'PutEvents').authorizations).toMatchObject(
      entries.map(() => ({ action: 'events:PutEvents', resource: busArn(templateBus()) })),
    );
    expect(d.denied(d.fn(PROCESSOR))).toEqual([]);
  });

  it('a publish EventBridge fails fails its record, and the redelivery publishes the same event ids', async () => {
    const verifier = await bundle(VERIFIER);
    const before = d.sqs.messages(eventsQueue()).length;
    for (const [mid, text] of [
      ['m_bundle-test-published', '¿Y mañana?'],
      ['m_bundle-test-unpublished', '¿A qué hora?'],
    ] as const) {
      const body = WEBHOOK(mid, text);
      const post = await verifier.invoke(
        httpEvent('POST', '/webhooks/facebook', {
          body,
          headers: {
            'x-hub-signature-256': sign(body, d.graph.appSecret),
            'content-type': 'application/json',
          },
        }),
      );
      expect(post.result).toMatchObject({ statusCode: 200 });
    }
    const queued = d.sqs.messages(eventsQueue()).slice(before);
    expect(queued).toHaveLength(2);
    const failing = present(queued[1], 'second queued message');

    // EventBridge fails every entry of the second message (each attempt of the publisher's retries).
    const processor = await bundle(PROCESSOR);
    const url = present(d.fn(VERIFIER).environment.EVENTS_QUEUE_URL, 'EVENTS_QUEUE_URL');
    const acceptedBefore = d.events.accepted.length;
    const failedBefore = d.events.failed.length;
    d.events.failEntries('InternalFailure', (e) => String(e.Detail).includes('m_bundle-test-unpublished'));
    let firstRun: Awaited<ReturnType<BundleProcess['invoke']>>;
    try {
      firstRun = await processor.invoke(sqsEventOf(queued, queueArn(url)));
    } finally {
      d.events.heal();
    }
    // Stored but not published: that record fails, so SQS delivers it again; the first one is done.
    expect(firstRun).toEqual({ result: { batchItemFailures: [{ itemIdentifier: failing.messageId }] } });
    expect(d.events.accepted.slice(acceptedBefore).map(publicEventOf)).toMatchObject([
      { type: 'message.received', seq: 3, data: { mid: 'm_bundle-test-published' } },
    ]);
    const tried = d.events.failed.slice(failedBefore).map(publicEventOf);
    // The publisher retried it (the same event each time) before giving the record up.
    const triedEvent = first(tried, 'tried event');
    expect(tried.length).toBeGreaterThan(1);
    for (const attempt of tried) expect(attempt).toEqual(triedEvent);

    const acceptedBeforeRedelivery = d.events.accepted.length;
    const redelivered = await processor.invoke(sqsEventOf([failing], queueArn(url)));
    expect(redelivered).toEqual({ result: { batchItemFailures: [] } });
    const published = d.events.accepted.slice(acceptedBeforeRedelivery).map(publicEventOf);
    // The same event (id, seq, time, data) the failed publish tried, once; anything else sent again
    // (at least once) is an event published before, unchanged.
    expect(published.filter((e) => e.id === triedEvent.id)).toEqual([triedEvent]);
    expect(triedEvent).toMatchObject({
      type: 'message.received',
      seq: 4,
      data: { mid: 'm_bundle-test-unpublished' },
    });
    const publishedBefore = d.events.accepted.slice(0, acceptedBeforeRedelivery).map(publicEventOf);
    for (const e of published) if (e.id !== triedEvent.id) expect(publishedBefore).toContainEqual(e);
    expect(d.denied(d.fn(PROCESSOR))).toEqual([]);
  });

  it('a large event travels as a claim check: verifier S3 PutObject claims/, processor GetObject', async () => {
    const verifier = await bundle(VERIFIER);
    const before = d.sqs.messages(eventsQueue()).length;
    const body = WEBHOOK('m_bundle-test-large', 'x'.repeat(300 * 1024));
    const post = await verifier.invoke(
      httpEvent('POST', '/webhooks/facebook', {
        body,
        headers: { 'x-hub-signature-256': sign(body, d.graph.appSecret), 'content-type': 'application/json' },
      }),
    );
    expect(post.result).toMatchObject({ statusCode: 200 });
    const claim = d.sqs.messages(eventsQueue()).slice(before);
    expect(claim).toHaveLength(1);
    expect(JSON.parse(first(claim, 'claim').body).claim).toMatch(/^claims\/[0-9a-f]{64}\.json$/);
    expect([...d.s3.objects.keys()]).toEqual([
      expect.stringContaining(JSON.parse(first(claim, 'claim').body).claim),
    ]);

    const processor = await bundle(PROCESSOR);
    const url = present(d.fn(VERIFIER).environment.EVENTS_QUEUE_URL, 'EVENTS_QUEUE_URL');
    expect(await processor.invoke(sqsEventOf(claim, queueArn(url)))).toEqual({
      result: { batchItemFailures: [] },
    });
    const table = d.fn(PROCESSOR).environment.TABLE_NAME;
    const items = (await d.dynamo.send(new ScanCommand({ TableName: table }))).Items ?? [];
    expect(JSON.stringify(items)).toContain('m_bundle-test-large');
    lastClaim = claim;
  });

  it('admin reads the conversation (the large message from S3) and replies through the Graph API', async () => {
    const admin = await bundle(ADMIN);
    const page = first(d.graph.pages, 'sandbox page');
    const psid = d.graph.psids[page.id];
    const path = `/admin/pages/${page.id}/conversations/${psid}/messages`;
    const read = await admin.invoke(httpEvent('GET', path));
    expect(read.result).toMatchObject({ statusCode: 200 });
    const texts = bodyOf(read).messages.map((m: { text?: string }) => m.text?.length);
    expect(texts).toEqual(expect.arrayContaining([300 * 1024, 'Hola, ¿está abierto?'.length]));

    const reply = await admin.invoke(
      httpEvent('POST', path, {
        body: JSON.stringify({ text: 'Sí, hasta las 20 h.' }),
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(reply.result).toMatchObject({ statusCode: 201 });
    expect(d.graph.fake.sent(page.id)).toMatchObject([{ recipientId: psid, text: 'Sí, hasta las 20 h.' }]);
  });

  /*
   * Found by this test: a claim check whose blob is gone (the bucket's 14-day `claims/` expiry meets a
   * DLQ redrive within the queue's 14-day retention) must be quarantined. S3 answers a missing key with
   * 404 NoSuchKey only to a caller allowed s3:ListBucket on the bucket, else 403 AccessDenied (GetObject
   * API reference): without that grant the record was retried to the DLQ. lib/data.ts now grants it to
   * every function that reads blobs.
   */
  it('a claim check whose blob is gone is quarantined, not retried', async () => {
    const processor = await bundle(PROCESSOR);
    for (const key of d.s3.objects.keys()) d.s3.objects.delete(key);
    const url = present(d.fn(VERIFIER).environment.EVENTS_QUEUE_URL, 'EVENTS_QUEUE_URL');
    const redriven = lastClaim.map((m) => ({ ...m, messageId: `${m.messageId}-redrive` }));
    const answer = await processor.invoke(sqsEventOf(redriven, queueArn(url)));
    expect(answer).toEqual({ result: { batchItemFailures: [] } });
    const table = d.fn(PROCESSOR).environment.TABLE_NAME;
    const items = (await d.dynamo.send(new ScanCommand({ TableName: table }))).Items ?? [];
    expect(JSON.stringify(items)).toContain('claim check');
  });

  it('an image: the processor queues its copy, the media bundle streams it to S3 and publishes it, admin presigns a link', async () => {
    const png = demoPng();
    const cdn = await tinyServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(png.length) }).end(png);
    });
    try {
      const page = first(d.graph.pages, 'sandbox page');
      const psid = present(d.graph.psids[page.id], 'psid');
      const mediaUrl = present(d.fn(PROCESSOR).environment.MEDIA_QUEUE_URL, 'MEDIA_QUEUE_URL');
      const link = `${cdn.url}/v/t1/demo.png?oh=signature&oe=expiry`;
      const message = { mid: 'm_bundle-media', attachments: [{ type: 'image', payload: { url: link } }] };
      const event = { sender: { id: psid }, recipient: { id: page.id }, timestamp: SENT_AT + 1, message };
      const body = metaJson({ object: 'page', entry: [{ id: page.id, time: SENT_AT, messaging: [event] }] });
      const processor = await bundle(PROCESSOR);
      const events = present(d.fn(VERIFIER).environment.EVENTS_QUEUE_URL, 'EVENTS_QUEUE_URL');
      const verifier = await bundle(VERIFIER);
      const before = d.sqs.messages(eventsQueue()).length;
      const post = await verifier.invoke(
        httpEvent('POST', '/webhooks/facebook', {
          body,
          headers: {
            'x-hub-signature-256': sign(body, d.graph.appSecret),
            'content-type': 'application/json',
          },
        }),
      );
      expect(post.result).toMatchObject({ statusCode: 200 });
      const fresh = d.sqs.messages(eventsQueue()).slice(before);
      expect(await processor.invoke(sqsEventOf(fresh, queueArn(events)))).toEqual({
        result: { batchItemFailures: [] },
      });
      // The processor queued one job on the standard media queue: ids and Meta's URL, nothing else.
      const jobs = d.sqs.messages(queueOf(mediaUrl));
      expect(jobs.map((j) => JSON.parse(j.body))).toEqual([
        { pageId: page.id, userId: psid, mid: 'm_bundle-media', index: 0, url: link, type: 'image' },
      ]);

      // The media bundle, allowed the loopback CDN as the sandbox allows its own.
      d.fn(MEDIA).environment.MEDIA_HOSTS = new URL(cdn.url).host;
      const media = await bundle(MEDIA);
      expect(await media.invoke(sqsEventOf(jobs, queueArn(mediaUrl)))).toEqual({
        result: { batchItemFailures: [] },
      });
      const bucket = present(d.fn(MEDIA).environment.MEDIA_BUCKET, 'MEDIA_BUCKET');
      const [objectId, ...others] = [...d.s3.objects.keys()].filter((k) => k.startsWith(`${bucket}/`));
      expect(others).toEqual([]);
      expect(objectId).toMatch(new RegExp(`^${bucket}/media/[0-9a-f]{64}/0$`));
      expect(d.s3.objects.get(objectId as string)?.equals(png)).toBe(true);
      expect(d.s3.contentTypes.get(objectId as string)).toBe('image/png');
      const sha256 = createHash('sha256').update(png).digest('hex');
      expect(publishedBy(MEDIA).map(publicEventOf)).toMatchObject([
        {
          type: 'message.media_stored',
          pageId: page.id,
          userId: psid,
          data: {
            mid: 'm_bundle-media',
            index: 0,
            stored: { size: png.length, contentType: 'image/png', sha256 },
          },
        },
      ]);
      expect(media.output).not.toContain('oh=signature');

      // The admin API shows the copy's presigned link; the link reads the object with the admin's role.
      const admin = await bundle(ADMIN);
      const read = await admin.invoke(
        httpEvent('GET', `/admin/pages/${page.id}/conversations/${psid}/messages`),
      );
      const shown = bodyOf(read).messages.find((m: { mid: string }) => m.mid === 'm_bundle-media')
        .attachments[0];
      expect(shown).toMatchObject({ sourceUrl: link, stored: { sha256 } });
      const presigned = new URL(shown.url);
      expect(presigned.searchParams.get('X-Amz-Expires')).toBe('3600');
      const fetched = await fetch(presigned);
      expect(fetched.status).toBe(200);
      expect(Buffer.from(await fetched.arrayBuffer()).equals(png)).toBe(true);
      expect(d.s3.presignedReads).toEqual([objectId]);
      expect(d.denied(d.fn(MEDIA))).toEqual([]);
      expect(d.denied(d.fn(ADMIN))).toEqual([]);
    } finally {
      await cdn.close();
    }
  });

  it('ops runs the health check of every page', async () => {
    const ops = await bundle(OPS);
    const checked = await ops.invoke({ action: 'check' });
    expect(checked).toEqual({ result: { total: 1, succeeded: 1, failed: [], repaired: [] } });
    const page = first(d.graph.pages, 'sandbox page');
    const checks = d.graphCalls.filter((c) => c.path === `/${page.id}/subscribed_apps`);
    expect(checks.at(-1)).toMatchObject({ method: 'GET', tokenPageId: page.id });
  });

  it('Facebook Login: admin makes a link; the connect bundle redirects, takes the callback, connects the picked pages', async () => {
    const admin = await bundle(ADMIN);
    const created = await admin.invoke(httpEvent('POST', '/admin/connect-links'));
    expect(created.result).toMatchObject({ statusCode: 201 });
    const link = new URL(bodyOf(created).url);
    const base = present(d.fn(CONNECT).environment.PUBLIC_BASE_URL, 'PUBLIC_BASE_URL');
    expect(link.origin).toBe(base);
    const state = present(link.searchParams.get('state') ?? undefined, 'state');

    const connect = await bundle(CONNECT);
    const started = await connect.invoke(httpEvent('GET', '/connect/facebook', { query: { state } }));
    const location = (started.result as { statusCode: number; headers: Record<string, string> }).headers
      .location;
    const dialog = new URL(present(location, 'location'));
    // FB_DIALOG_URL unset: Facebook's own dialog, with the API's callback as redirect_uri.
    expect(`${dialog.origin}${dialog.pathname}`).toBe('https://www.facebook.com/v24.0/dialog/oauth');
    expect(dialog.searchParams.get('redirect_uri')).toBe(`${base}/connect/facebook/callback`);
    // The sandbox plays the dialog the browser would see; Continue redirects with a code.
    const form = new URLSearchParams(dialog.searchParams);
    form.set('action', 'continue');
    const continued = await fetch(`${d.graph.url}${dialog.pathname}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const back = new URL(present(continued.headers.get('location') ?? undefined, 'dialog redirect'));
    const code = present(back.searchParams.get('code') ?? undefined, 'code');

    const picker = await connect.invoke(
      httpEvent('GET', '/connect/facebook/callback', { query: { code, state } }),
    );
    const pickerResult = picker.result as {
      statusCode: number;
      body: string;
      headers: Record<string, string>;
    };
    expect(pickerResult.statusCode).toBe(200);
    expect(pickerResult.headers['set-cookie']).toMatch(/; Secure$/);
    const csrf = present(/name="csrf" value="([^"]+)"/.exec(pickerResult.body)?.[1], 'csrf');
    const cookie = present(pickerResult.headers['set-cookie']?.split(';')[0], 'cookie');
    const body = new URLSearchParams({ state, csrf });
    for (const p of d.graph.pages) body.append('pageId', p.id);

    const commandsUrl = present(d.fn(CONNECT).environment.PAGE_COMMANDS_QUEUE_URL, 'PAGE_COMMANDS_QUEUE_URL');
    const before = d.sqs.messages(queueOf(commandsUrl)).length;
    // API Gateway v2 hands cookies to the function in `cookies`, not in a header.
    const submitting = connect.invoke({
      ...httpEvent('POST', '/connect/facebook/callback', {
        body: body.toString(),
        base64: true,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      cookies: [cookie],
    });
    const connectPrincipal = principalOf(d.fn(CONNECT));
    // One command per page: wait for the last of them (each call is matched once, in order).
    let sends = 0;
    await Promise.race([
      d.gateway.waitForCall(
        (c) =>
          c.principal === connectPrincipal &&
          c.operation === 'SendMessageBatch' &&
          ++sends === d.graph.pages.length,
      ),
      submitting,
    ]);
    const commands = d.sqs.messages(queueOf(commandsUrl)).slice(before);
    expect(commands).toHaveLength(d.graph.pages.length);
    const consumer = await bundle(PAGE_COMMANDS);
    expect(await consumer.invoke(sqsEventOf(commands, queueArn(commandsUrl)))).toEqual({
      result: { batchItemFailures: [] },
    });
    const submitted = (await submitting).result as { statusCode: number; body: string };
    expect(submitted.statusCode, submitted.body).toBe(200);
    for (const p of d.graph.pages) expect(submitted.body).toContain(`<td>${p.id}</td><td>active</td>`);

    const view = bodyOf(
      await admin.invoke(httpEvent('GET', `/admin/connect-links/${bodyOf(created).linkId}`)),
    );
    expect(view).toMatchObject({
      status: 'done',
      // Each page, and after the café its linked Instagram account.
      result: d.graph.pages.flatMap((p) => [
        { pageId: p.id, status: 'active' },
        ...(p.id === DEMO_INSTAGRAM.pageId ? [{ pageId: DEMO_INSTAGRAM.id, status: 'active' }] : []),
      ]),
    });
    // The link's user token was sealed for the link, and is gone now the link is done.
    const table = d.fn(CONNECT).environment.TABLE_NAME;
    const items = (await d.dynamo.send(new ScanCommand({ TableName: table }))).Items ?? [];
    const linkItem = items.find((i) => i.pk?.S === `LINK#${bodyOf(created).linkId}`);
    expect(linkItem?.status?.S).toBe('done');
    expect(linkItem?.sealedUserToken).toBeUndefined();
    expect(JSON.stringify(items)).not.toContain(state);
  });

  it('every AWS call of every bundle was allowed by its role', () => {
    const calls = Object.fromEntries(
      [VERIFIER, PROCESSOR, ADMIN, PAGE_COMMANDS, OPS, MEDIA, CONNECT].map((prefix) => [
        prefix,
        allowedCalls(prefix),
      ]),
    );
    expect(calls).toEqual({
      [VERIFIER]: ['s3:PutObject', 'secretsmanager:GetSecretValue', 'sqs:SendMessageBatch'],
      [PROCESSOR]: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'events:PutEvents',
        'kms:Decrypt',
        's3:GetObject',
        's3:PutObject',
        'secretsmanager:GetSecretValue',
        'sqs:SendMessageBatch',
      ],
      [ADMIN]: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'events:PutEvents',
        'kms:Decrypt',
        'kms:Encrypt',
        's3:GetObject',
        'secretsmanager:GetSecretValue',
        'sqs:SendMessageBatch',
      ],
      [PAGE_COMMANDS]: [
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'events:PutEvents',
        'kms:Decrypt',
        'secretsmanager:GetSecretValue',
      ],
      [OPS]: ['dynamodb:Query', 'dynamodb:UpdateItem', 'kms:Decrypt', 'secretsmanager:GetSecretValue'],
      [MEDIA]: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'events:PutEvents',
        's3:PutObject',
      ],
      [CONNECT]: [
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'events:PutEvents',
        'kms:Decrypt',
        'kms:Encrypt',
        'secretsmanager:GetSecretValue',
        'sqs:SendMessageBatch',
      ],
    });
    // Logs (stdout/stderr, CloudWatch on AWS) never carry the app secret or a page token.
    const tokens = d.graph.pages.map((p) => d.graph.fake.pageToken(p.id));
    expect(started.size).toBe(7);
    for (const running of started.values()) {
      for (const secret of [d.graph.appSecret, ...tokens]) expect(running.output).not.toContain(secret);
    }
    // KMS calls carried the {pageId} context the key's grant is conditioned on.
    const kms = d.gateway.calls.filter((c) => c.service === 'kms').flatMap((c) => c.authorizations);
    expect(kms.length).toBeGreaterThan(0);
    for (const auth of kms) expect(auth.context?.['kms:EncryptionContextKeys']).toEqual(['pageId']);
  });

  it('carries neither the KMS client nor the Redis client in the verifier', () => {
    const code = readFileSync(join(d.fn(VERIFIER).bundleDir, 'index.mjs'), 'utf8');
    // WP2 takes client-dynamodb out of the verifier (plan §0.2): add 'DynamoDB_20120810' here then.
    for (const marker of ['TrentService', 'ioredis']) expect(code).not.toContain(marker);
  });
});

function WEBHOOK(mid = 'm_bundle-test-1', text = 'Hola, ¿está abierto?'): string {
  const page = first(d.graph.pages, 'sandbox page');
  return metaJson({
    object: 'page',
    entry: [
      {
        id: page.id,
        time: SENT_AT,
        messaging: [
          {
            sender: { id: d.graph.psids[page.id] },
            recipient: { id: page.id },
            timestamp: SENT_AT,
            message: { mid, text },
          },
        ],
      },
    ],
  });
}

/** Now, so the reply below falls inside Messenger's 24-hour window. */
const SENT_AT = Date.now();

/** The template's one event bus, by name. */
function templateBus(): string {
  const [bus, ...more] = d.template.resourcesOfType('AWS::Events::EventBus');
  if (!bus || more.length)
    throw new Error(`expected one event bus in the template, found ${more.length + 1}`);
  return String(d.template.resolve({ Ref: bus[0] }));
}

/** The PutEvents entries EventBridge accepted from the function, each checked to be a Pagewire event. */
function publishedBy(prefix: string): PutEventsEntry[] {
  const principal = principalOf(d.fn(prefix));
  const entries = d.events.calls
    .filter((c) => c.principal === principal)
    .flatMap((c) => c.entries.filter((e) => e.EventId !== undefined));
  for (const entry of entries) {
    expect(entry).toMatchObject({ Source: 'pagewire', EventBusName: templateBus() });
  }
  return entries;
}

/** An entry's detail, parsed with the contract; the entry's detail-type is the event's type. */
function publicEventOf(entry: PutEventsEntry): PublicEvent {
  const event = PublicEvent.parse(JSON.parse(present(entry.Detail, 'Detail')));
  expect(entry.DetailType).toBe(event.type);
  return event;
}

const eventsQueue = () => queueOf(present(d.fn(VERIFIER).environment.EVENTS_QUEUE_URL, 'EVENTS_QUEUE_URL'));

describe('the IAM check', () => {
  it('refuses and flags a call the role does not allow: the verifier reading the table', async () => {
    const verifier = d.fn(VERIFIER);
    const table = d.fn(PROCESSOR).environment.TABLE_NAME;
    const client = new DynamoDBClient({
      endpoint: d.gateway.url,
      region: 'us-east-1',
      credentials: { accessKeyId: principalOf(verifier), secretAccessKey: 'bundle-test-secret' },
    });
    const read = client.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: 'PAGE#1' }, sk: { S: 'PAGE' } } }),
    );
    // Refused as AWS would refuse it, and recorded as a denied call of the verifier.
    await expect(read).rejects.toMatchObject({ name: 'AccessDeniedException' });
    client.destroy();
    expect(d.denied(verifier)).toMatchObject([
      {
        service: 'dynamodb',
        operation: 'GetItem',
        authorizations: [
          { action: 'dynamodb:GetItem', resource: `arn:aws:dynamodb:us-east-1:000000000000:table/${table}` },
        ],
        why: 'no Allow statement matches',
      },
    ]);
  });
});
