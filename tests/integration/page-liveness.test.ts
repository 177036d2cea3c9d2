/**
 * Liveness (SPEC §9) on dynalite: `lastEventAt` is written at most once per window per container (counted
 * UpdateItem calls), never lowered, never resurrects a deleted or disconnected page, and a failed write
 * is counted, not thrown. The `quiet` rule is checked on the slots the writes leave.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalKeyring } from '#adapters/local/keyring';
import { activeDays, isQuiet, PageLiveness } from '#pages/page-liveness';
import { PageRepository } from '#pages/page-repository';
import { counters } from '#runtime/observability';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';
import { createProcessorWorld } from '#testkit/processor-harness';
import { tappedDocClient } from '#testkit/sdk-tap';
import { seedPages } from '#testkit/seed';
import { singleEventBody, textEvent } from '#testkit/webhooks';

const PAGE = '320000000000001';
const DAY = 86_400_000;
const MIN = 60_000;
const T0 = Date.parse('2026-11-20T10:00:00.000Z');

let dynamo: TestDynamo;
let tableName: string;
let pages: PageRepository;
let updates: number;
let failNext: boolean;
let clock: number;
let liveness: PageLiveness;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
});

beforeEach(async () => {
  tableName = await dynamo.createTable();
  pages = new PageRepository(dynamo.doc, tableName);
  await seedPages(pages, LocalKeyring.ephemeral(), [{ pageId: PAGE, token: 'page-token' }]);
  updates = 0;
  failNext = false;
  clock = T0;
  const doc = tappedDocClient(dynamo.endpoint, async (call, send) => {
    if (call.name === 'UpdateCommand') {
      updates++;
      if (failNext) {
        failNext = false;
        throw new Error('DynamoDB is down');
      }
    }
    return send();
  });
  liveness = new PageLiveness(doc, tableName, { now: () => clock });
});

const stored = async () => {
  const page = await pages.get(PAGE);
  if (!page) throw new Error('page gone');
  return page;
};

describe('the throttled write', () => {
  it('100 events within the window cost one UpdateItem; the next window one more', async () => {
    for (let i = 0; i < 100; i++) {
      clock = T0 + i * 1000; // 100 s of traffic, one event a second
      await liveness.seen(PAGE, clock);
    }
    expect(updates).toBe(1);
    expect((await stored()).lastEventAt).toBe(new Date(T0).toISOString());
    clock = T0 + 5 * MIN;
    await liveness.seen(PAGE, clock);
    expect(updates).toBe(2);
    expect((await stored()).lastEventAt).toBe(new Date(clock).toISOString());
  });

  it('a new UTC day is written at once, inside the window', async () => {
    clock = Date.parse('2026-11-20T23:58:00.000Z');
    await liveness.seen(PAGE, clock);
    clock = Date.parse('2026-11-21T00:01:00.000Z');
    await liveness.seen(PAGE, clock);
    expect(updates).toBe(2);
    expect(activeDays(await stored())).toBe(2);
  });

  it('never lowers lastEventAt: an older event in another container writes nothing', async () => {
    await liveness.seen(PAGE, T0);
    const other = new PageLiveness(dynamo.doc, tableName, { now: () => clock });
    await other.seen(PAGE, T0 - 3 * DAY);
    const page = await stored();
    expect(page.lastEventAt).toBe(new Date(T0).toISOString());
    expect(activeDays(page)).toBe(1);
  });

  it('a timestamp in the future is taken as now', async () => {
    await liveness.seen(PAGE, T0 + DAY);
    expect((await stored()).lastEventAt).toBe(new Date(T0).toISOString());
  });

  it('never creates a deleted page, nor touches a disconnected one', async () => {
    await liveness.seen('320000000000099', T0);
    expect(await pages.get('320000000000099')).toBeUndefined();
    await pages.put({ ...(await stored()), status: 'disconnected' });
    await liveness.seen(PAGE, T0);
    expect((await stored()).lastEventAt).toBeUndefined();
  });

  it('a failed write is counted and logged, not thrown', async () => {
    const before = counters().PageLivenessWriteFailed ?? 0;
    failNext = true;
    await expect(liveness.seen(PAGE, T0)).resolves.toBeUndefined();
    expect(counters().PageLivenessWriteFailed).toBe(before + 1);
  });
});

describe('quiet', () => {
  /** Events on `days` (0 = T0's day, 1 = the day before…), written by a fresh container each. */
  async function eventsOn(days: number[]) {
    for (const d of [...days].sort((a, b) => b - a)) {
      const container = new PageLiveness(dynamo.doc, tableName, { now: () => T0 - d * DAY });
      await container.seen(PAGE, T0 - d * DAY);
    }
  }

  it('a page with events on 5 of its last 7 days, silent for 25 h while subscribed, is quiet', async () => {
    await eventsOn([0, 1, 2, 4, 5]);
    const page = await stored();
    expect(activeDays(page)).toBe(5);
    expect(isQuiet(page, T0 + 25 * 60 * MIN, true)).toBe(true);
    // Not while Meta does not list the subscription (that check says why it is silent).
    expect(isQuiet(page, T0 + 25 * 60 * MIN, false)).toBe(false);
    // Not after 23 h.
    expect(isQuiet(page, T0 + 23 * 60 * MIN, true)).toBe(false);
  });

  it('a page that never had daily events is not quiet', async () => {
    await eventsOn([0, 3, 6]);
    expect(isQuiet(await stored(), T0 + 3 * DAY, true)).toBe(false);
    await eventsOn([]);
    expect(isQuiet({ ...(await stored()), lastEventAt: undefined }, T0 + 3 * DAY, true)).toBe(false);
  });

  it('slots older than a week do not count', async () => {
    await eventsOn([8, 9, 10, 11, 12, 0]);
    expect(activeDays(await stored())).toBe(1);
  });
});

describe('the processor', () => {
  it('notes lastEventAt of the page once for 20 messages in two batches, after storing them', async () => {
    const w = await createProcessorWorld(dynamo);
    try {
      const pageId = '320000000000007';
      await w.seedPage(pageId);
      const at = Date.now() - 60_000;
      const bodies = Array.from({ length: 20 }, (_, i) =>
        singleEventBody(textEvent({ pageId, mid: `m.${i}`, text: `hi ${i}`, timestamp: at + i }), pageId),
      );
      expect((await w.deliver(...bodies.slice(0, 10))).batchItemFailures).toEqual([]);
      expect((await w.deliver(...bodies.slice(10))).batchItemFailures).toEqual([]);
      const touches = w.sent.filter(
        (c) => c.name === 'UpdateCommand' && String(c.input.UpdateExpression).includes('#last'),
      );
      expect(touches).toHaveLength(1);
      expect((await w.pages.get(pageId))?.lastEventAt).toBe(new Date(at).toISOString());
    } finally {
      await w.stop();
    }
  });
});
