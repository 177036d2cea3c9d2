/**
 * The shared test and bench machinery itself: the SDK tap (testkit/sdk-tap.ts) and the page seeding
 * (testkit/seed.ts), on dynalite.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyring } from '#adapters/local/keyring';
import { DEFAULT_SUBSCRIBED_FIELDS } from '#app/config';
import { PageRepository } from '#pages/page-repository';
import { startTestTable, type TestTable } from '#testkit/dynamo';
import { at, first } from '#testkit/pick';
import { type TappedCall, tappedDocClient } from '#testkit/sdk-tap';
import { seedPages } from '#testkit/seed';

let db: TestTable;
beforeAll(async () => {
  db = await startTestTable();
});
afterAll(async () => {
  await db?.stop();
});

describe('tappedDocClient', () => {
  it('shows the tap each document command as the caller wrote it, and what DynamoDB answered', async () => {
    const calls: TappedCall[] = [];
    const outputs: Record<string, unknown>[] = [];
    const doc = tappedDocClient(db.endpoint, async (call, send) => {
      calls.push(call);
      // A tap may add to the input: DynamoDB then reports the capacity it used.
      call.input.ReturnConsumedCapacity = 'TOTAL';
      const output = await send();
      outputs.push(output);
      return output;
    });
    const Item = { pk: 'TAP#1', sk: 'A', tags: new Set(['x']), nested: { n: 1 } };
    await doc.send(new PutCommand({ TableName: db.tableName, Item }));
    const got = await doc.send(new GetCommand({ TableName: db.tableName, Key: { pk: 'TAP#1', sk: 'A' } }));

    expect(calls.map((c) => c.name)).toEqual(['PutCommand', 'GetCommand']);
    expect(first(calls, 'calls').command).toBeInstanceOf(PutCommand);
    expect(at(calls, 1, 'calls').command).toBeInstanceOf(GetCommand);
    // Plain values, not marshalled attribute values.
    expect(first(calls, 'calls').input.Item).toEqual(Item);
    expect(at(outputs, 1, 'outputs').Item).toEqual(Item);
    expect(at(outputs, 1, 'outputs').ConsumedCapacity).toMatchObject({ TableName: db.tableName });
    expect(got.Item).toEqual(Item);
  });

  it('lets the tap fail a command before it reaches DynamoDB, once (no SDK retry)', async () => {
    let taps = 0;
    const doc = tappedDocClient(db.endpoint, async (call, send) => {
      taps++;
      if (call.command instanceof PutCommand)
        throw Object.assign(new Error('injected'), { name: 'ProvisionedThroughputExceededException' });
      return send();
    });
    const Key = { pk: 'TAP#2', sk: 'A' };
    await expect(doc.send(new PutCommand({ TableName: db.tableName, Item: Key }))).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    });
    expect(taps).toBe(1);
    expect((await db.doc.send(new GetCommand({ TableName: db.tableName, Key }))).Item).toBeUndefined();
  });

  it('taps only its own client: the shared client of the same DynamoDB passes untouched', async () => {
    const calls: TappedCall[] = [];
    tappedDocClient(db.endpoint, async (call, send) => {
      calls.push(call);
      return send();
    });
    await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { pk: 'TAP#3', sk: 'A' } }));
    expect(calls).toEqual([]);
  });
});

describe('seedPages', () => {
  it('stores each page active with its token sealed for it, the default fields, changes laid over', async () => {
    const keyring = LocalKeyring.ephemeral();
    const pages = new PageRepository(db.doc, db.tableName);
    const now = new Date('2026-12-01T10:00:00.000Z');
    const seeds = Array.from({ length: 7 }, (_, i) => ({
      pageId: `90000000000000${i}`,
      token: `EAAtoken${i}`,
    }));
    const records = await seedPages(
      pages,
      keyring,
      [...seeds.slice(0, 6), { ...at(seeds, 6, 'seed'), name: 'Named', changes: { subscribedFields: [] } }],
      { concurrency: 3, now },
    );
    expect(records.map((r) => r.pageId)).toEqual(seeds.map((s) => s.pageId));
    for (const [i, seed] of seeds.entries()) {
      const stored = await pages.get(seed.pageId);
      expect(stored).toMatchObject({
        pageId: seed.pageId,
        name: i === 6 ? 'Named' : `Page ${seed.pageId}`,
        status: 'active',
        subscribedFields: i === 6 ? [] : [...DEFAULT_SUBSCRIBED_FIELDS],
        connectedAt: now.toISOString(),
        updatedAt: now.toISOString(),
      });
      expect(await keyring.unseal(seed.pageId, String(stored?.sealedToken))).toBe(seed.token);
    }
  });
});
