/**
 * Ids from webhooks never steer a Graph call (issue 8): a signed event whose sender is not a Facebook id
 * is stored like any other, and no Graph request is made with that id, nor is the page token unsealed
 * for it. Without the check, `..` made the profile fetch `GET /` on the Graph host with the page token,
 * and `me` fetched the page itself as the contact.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NO_DEADLINE } from '#runtime/deadline';
import { counters } from '#runtime/observability';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { createProcessorWorld, type ProcessorWorld } from '#testkit/processor-harness';
import { entry, PAGE_A, TIME, textEvent, webhookBody } from '#testkit/webhooks';

let dynamo: TestDynamo;
let w: ProcessorWorld;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});
afterEach(async () => {
  await w?.stop();
});

const NOT_IDS = ['..', 'a/b', 'me', '%2e%2e', '?x=1', '../../oauth/access_token', 'ref:opt-in-7'];

describe('a sender id that is not a Facebook id', () => {
  it.each(NOT_IDS)(
    '%j: the message is stored, no Graph request is made, no token unsealed',
    async (userId) => {
      w = await createProcessorWorld(dynamo);
      await w.seedPage(PAGE_A);
      const before = counters().ProfilesNotFetchable ?? 0;
      const mid = `m_not_an_id_${Buffer.from(userId).toString('hex')}`;
      const body = webhookBody(entry(PAGE_A, [textEvent({ userId, mid, text: 'hello', timestamp: TIME })]));

      const res = await w.deliver(body);

      expect(res.batchItemFailures).toEqual([]);
      expect(await w.conversations.listItems(PAGE_A, userId)).toEqual([
        expect.objectContaining({ mid, text: 'hello', direction: 'in' }),
      ]);
      expect(w.fake.calls).toEqual([]);
      expect(w.sealer.unsealed).toEqual([]);
      expect(counters().ProfilesNotFetchable).toBe(before + 1);
      expect(await w.contacts.get(PAGE_A, userId)).toBeUndefined();

      // Its next message asks nothing either: the container remembers there is no profile to fetch.
      await w.deliver(
        webhookBody(
          entry(PAGE_A, [textEvent({ userId, mid: `${mid}_2`, text: 'again', timestamp: TIME + 1 })]),
        ),
      );
      expect(await w.conversations.listItems(PAGE_A, userId)).toHaveLength(2);
      expect(w.fake.calls).toEqual([]);
      expect(counters().ProfilesNotFetchable).toBe(before + 1);
    },
  );

  it('a pending contact stored under such an id earlier is settled as unavailable, never fetched', async () => {
    w = await createProcessorWorld(dynamo);
    const page = await w.seedPage(PAGE_A);
    const ada = w.fake.psid(w.fake.addPerson('Ada', 'Lovelace'), PAGE_A);
    const updatedAt = new Date().toISOString();
    for (const userId of ['..', ada])
      await w.contacts.put({ pageId: PAGE_A, userId, profileStatus: 'pending', updatedAt });

    const fetched = await w.deps.profiles.refreshPending(page, w.conversations, NO_DEADLINE);

    expect(fetched).toBe(1);
    expect(w.fake.calls.map((c) => c.path)).toEqual([`/${ada}`]);
    expect(await w.contacts.get(PAGE_A, '..')).toMatchObject({ profileStatus: 'unavailable' });
    expect(await w.contacts.get(PAGE_A, ada)).toMatchObject({ profileStatus: 'fetched', firstName: 'Ada' });
  });
});
