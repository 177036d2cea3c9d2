/**
 * The connect link store on the DynamoDB API (dynalite): single use under concurrency, expiry by the
 * given clock, and the end of a link erasing its sealed user token.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConnectLinkStore } from '#connect-login/link-store';
import { linkIdOf, newSecret } from '#connect-login/secrets';
import { linkKey } from '#store/table';
import { startTestTable, type TestTable } from '#testkit/dynamo';

let t: TestTable;
let store: ConnectLinkStore;
const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const MIN = 60_000;

beforeAll(async () => {
  t = await startTestTable();
  store = new ConnectLinkStore(t.doc, t.tableName);
});
afterAll(async () => {
  await t?.stop();
});

async function newLink(): Promise<string> {
  const linkId = linkIdOf(newSecret());
  await store.create(linkId, T0, T0 + 15 * MIN);
  return linkId;
}

it('stores the link under a hash of the state, never the state, with a TTL a day after expiry', async () => {
  const state = newSecret();
  const linkId = linkIdOf(state);
  await store.create(linkId, T0, T0 + 15 * MIN);
  const { Item } = await t.doc.send(new GetCommand({ TableName: t.tableName, Key: linkKey(linkId) }));
  expect(JSON.stringify(Item)).not.toContain(state);
  expect(Item).toMatchObject({ status: 'created', expiresAt: '2026-12-01T10:15:00.000Z' });
  expect(Item?.ttl).toBe((T0 + 15 * MIN) / 1000 + 86_400);
  // A second link with the same id is refused, not overwritten.
  await expect(store.create(linkId, T0, T0 + MIN)).rejects.toThrow();
});

it('ten callbacks at once: exactly one claims the link, the others find it used', async () => {
  const linkId = await newLink();
  const outcomes = await Promise.all(
    Array.from({ length: 10 }, () =>
      store.move(linkId, ['created', 'dialog_opened'], 'code_exchanged', T0 + MIN),
    ),
  );
  expect(outcomes.filter((o) => o === 'claimed')).toHaveLength(1);
  expect(outcomes.filter((o) => o === 'used')).toHaveLength(9);
  expect((await store.get(linkId))?.status).toBe('code_exchanged');
});

it('expired at its expiry instant, by the clock given', async () => {
  const linkId = await newLink();
  expect(await store.move(linkId, ['created'], 'dialog_opened', T0 + 15 * MIN)).toBe('expired');
  expect(await store.move(linkId, ['created'], 'dialog_opened', T0 + 15 * MIN - 1)).toBe('claimed');
  expect(await store.move(linkIdOf(newSecret()), ['created'], 'dialog_opened', T0)).toBe('unknown');
});

it('finish and fail erase the sealed user token and the CSRF hash; a done link never becomes failed', async () => {
  const linkId = await newLink();
  await store.move(linkId, ['created'], 'code_exchanged', T0, { sealedUserToken: 'sealed', csrfHash: 'h' });
  expect(await store.get(linkId)).toMatchObject({ sealedUserToken: 'sealed', csrfHash: 'h' });
  await store.finish(linkId, [{ pageId: '1', name: 'P', status: 'active' }], T0);
  await store.fail(linkId, 'late', T0);
  const done = await store.get(linkId);
  expect(done).toMatchObject({ status: 'done', result: [{ pageId: '1', status: 'active' }] });
  expect(done?.sealedUserToken).toBeUndefined();
  expect(done?.csrfHash).toBeUndefined();
  expect(done?.error).toBeUndefined();
});
