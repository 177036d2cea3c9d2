/**
 * PageAccess's page cache and a disconnect (issue 8): a change made through any PageAccess of the composition
 * (the page commands' disconnect) reaches every other one (the processor's) at once, also a read that was
 * in flight while the change happened. No timers: the cache TTL is far longer than the test (the TTL
 * test moves a faked clock). Also the parts PageAccess is made of: cache TTL, tokens, throttles.
 */

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PageRecord } from '#contracts/page-record';
import { PageAccess } from '#pages/page-access';
import { PageCache, PageChanges } from '#pages/page-cache';
import { PageRepository } from '#pages/page-repository';
import { PageThrottles } from '#pages/page-throttles';
import { PageTokens } from '#pages/page-tokens';
import type { TokenSealer } from '#ports/ports';

const HOUR = 3_600_000;
let seq = 0;

/** The page table as PageAccess reads it: a record per page, every read counted, reads can be held. */
function table(record: PageRecord, changes = new PageChanges()) {
  let current = record;
  const gets: string[] = [];
  let held: { release: () => void; arrived: Promise<void> } | undefined;
  let arrive = () => {};
  const repository = {
    changes,
    async get(pageId: string) {
      gets.push(pageId);
      const answer = current;
      if (held) {
        arrive();
        await new Promise<void>((resolve) => {
          (held as { release: () => void }).release = resolve;
        });
      }
      return answer;
    },
  } as unknown as PageRepository;
  return {
    repository,
    gets,
    set(changes: Partial<PageRecord>) {
      current = { ...current, ...changes };
    },
    /** The next read takes the record as it is now, and answers only on `release()`. */
    holdNextRead() {
      const arrived = new Promise<void>((resolve) => {
        arrive = resolve;
      });
      held = { release: () => {}, arrived };
      return {
        arrived,
        release: () => {
          const h = held;
          held = undefined;
          h?.release();
        },
      };
    },
  };
}

const sealer: TokenSealer = {
  seal: async (_pageId, token) => token,
  unseal: async (_pageId, sealed) => sealed,
};

function page(): PageRecord {
  const now = new Date().toISOString();
  return {
    pageId: `50000000000${String(++seq).padStart(4, '0')}`,
    name: 'Page',
    status: 'active',
    sealedToken: 'sealed',
    subscribedFields: ['messages'],
    connectedAt: now,
    updatedAt: now,
  };
}

describe('page cache', () => {
  it('keeps a connected page for the TTL: one read for many lookups', async () => {
    const p = page();
    const t = table(p);
    const processor = new PageAccess(t.repository, sealer, HOUR);
    for (let i = 0; i < 5; i++) expect(await processor.page(p.pageId)).toMatchObject({ status: 'active' });
    expect(t.gets).toHaveLength(1);
  });

  it('a disconnect made through another PageAccess of the process is seen by the next lookup', async () => {
    const p = page();
    const t = table(p);
    const processor = new PageAccess(t.repository, sealer, HOUR);
    const commands = new PageAccess(t.repository, sealer, 0);
    expect(await processor.page(p.pageId)).toMatchObject({ status: 'active' });

    // What PageOperations.disconnect does: the record first, then forget.
    t.set({ status: 'disconnected', sealedToken: undefined });
    commands.forget(p.pageId);

    expect(await processor.page(p.pageId)).toMatchObject({ status: 'disconnected' });
    expect(t.gets).toHaveLength(2);
  });

  it('a read in flight while the page changed is answered but not kept', async () => {
    const p = page();
    const t = table(p);
    const processor = new PageAccess(t.repository, sealer, HOUR);
    const commands = new PageAccess(t.repository, sealer, 0);
    const gate = t.holdNextRead();
    const inFlight = processor.page(p.pageId);
    await gate.arrived;
    t.set({ status: 'disconnected', sealedToken: undefined });
    commands.forget(p.pageId);
    gate.release();
    expect(await inFlight).toMatchObject({ status: 'active' });

    expect(await processor.page(p.pageId)).toMatchObject({ status: 'disconnected' });
    expect(t.gets).toHaveLength(2);
  });

  it('other pages keep their cached copies when one page changes', async () => {
    const [a, b] = [page(), page()];
    const ta = table(a);
    const tb = table(b);
    const onA = new PageAccess(ta.repository, sealer, HOUR);
    const onB = new PageAccess(tb.repository, sealer, HOUR);
    await onA.page(a.pageId);
    await onB.page(b.pageId);
    new PageAccess(ta.repository, sealer, 0).forget(a.pageId);
    await onB.page(b.pageId);
    expect(tb.gets).toHaveLength(1);
  });
});

describe('page changes, one per composition', () => {
  it('two compositions in one process share nothing: a change in one leaves the other’s copy alone', async () => {
    const p = page();
    const [one, two] = [table(p, new PageChanges()), table(p, new PageChanges())];
    const processorOne = new PageAccess(one.repository, sealer, HOUR);
    const processorTwo = new PageAccess(two.repository, sealer, HOUR);
    await processorOne.page(p.pageId);
    await processorTwo.page(p.pageId);

    new PageAccess(one.repository, sealer, 0).forget(p.pageId); // stack one's page commands
    await processorOne.page(p.pageId);
    await processorTwo.page(p.pageId);
    expect(one.gets).toHaveLength(2);
    expect(two.gets).toHaveLength(1);
  });

  it('repositories built apart over one table client (processor, page commands) share the changes', () => {
    const doc = {} as DynamoDBDocumentClient;
    const other = {} as DynamoDBDocumentClient;
    const processor = new PageRepository(doc, 'pagewire');
    const commands = new PageRepository(doc, 'pagewire');
    expect(processor.changes).toBe(commands.changes);
    expect(new PageRepository(other, 'pagewire').changes).not.toBe(processor.changes);
    const own = new PageChanges();
    expect(new PageRepository(doc, 'pagewire', { changes: own }).changes).toBe(own);
  });
});

describe('page cache TTL', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads a page again once its TTL has passed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const p = page();
    const t = table(p);
    const cache = new PageCache(t.repository, HOUR);
    await cache.page(p.pageId);
    vi.setSystemTime(Date.now() + HOUR - 1);
    await cache.page(p.pageId);
    expect(t.gets).toHaveLength(1);
    vi.setSystemTime(Date.now() + 2);
    await cache.page(p.pageId);
    expect(t.gets).toHaveLength(2);
  });

  it('keeps nothing with a TTL of 0', async () => {
    const p = page();
    const t = table(p);
    const cache = new PageCache(t.repository, 0);
    await cache.page(p.pageId);
    await cache.page(p.pageId);
    expect(t.gets).toHaveLength(2);
  });
});

describe('page tokens', () => {
  function countingSealer() {
    const unsealed: string[] = [];
    const s: TokenSealer = {
      seal: async (_pageId, token) => token,
      unseal: async (_pageId, sealed) => {
        unsealed.push(sealed);
        return `token-of-${sealed}`;
      },
    };
    return { sealer: s, unsealed };
  }

  it('unseals a token once, and again when the page holds a new one', async () => {
    const { sealer: s, unsealed } = countingSealer();
    const tokens = new PageTokens(s);
    const p = page();
    expect(await tokens.token(p)).toBe('token-of-sealed');
    expect(await tokens.token(p)).toBe('token-of-sealed');
    expect(await tokens.token({ ...p, sealedToken: 'sealed-2' })).toBe('token-of-sealed-2');
    expect(unsealed).toEqual(['sealed', 'sealed-2']);
  });

  it('gives no token to a page that needs reauth, is disconnected or has none', async () => {
    const tokens = new PageTokens(countingSealer().sealer);
    const p = page();
    expect(await tokens.token({ ...p, status: 'reauth_required' })).toBeUndefined();
    expect(await tokens.token({ ...p, status: 'disconnected' })).toBeUndefined();
    expect(await tokens.token({ ...p, sealedToken: undefined })).toBeUndefined();
  });
});

describe('page throttles', () => {
  it('holds a page off until the time given, then lets it go', () => {
    let now = 1_000;
    const throttles = new PageThrottles(() => now);
    throttles.throttle('p', 500);
    expect(throttles.throttled('p')).toBe(true);
    expect(throttles.throttled('q')).toBe(false);
    now = 1_499;
    expect(throttles.throttled('p')).toBe(true);
    now = 1_500;
    expect(throttles.throttled('p')).toBe(false);
  });
});
