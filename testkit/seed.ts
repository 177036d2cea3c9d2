/**
 * Pages stored as connecting them leaves them: `active`, the page token sealed for the page, the default
 * fields subscribed. One helper for the tests, the chaos run and the bench (they each had a copy).
 */
import { DEFAULT_SUBSCRIBED_FIELDS } from '#app/config';
import type { PageRecord } from '#contracts/page-record';
import type { PageRepository } from '#pages/page-repository';
import type { TokenSealer } from '#ports/ports';
import { at } from './pick.js';

export interface SeedPage {
  pageId: string;
  /** The page token Meta handed out (the Graph fake's `pageToken(pageId)`). */
  token: string;
  /** `Page <pageId>` unless given. */
  name?: string;
  /** Anything else of the record (status, fields, times…), laid over the defaults. */
  changes?: Partial<PageRecord>;
}

export interface SeedOptions {
  /** Writes in flight at once (all at once unless given). */
  concurrency?: number;
  /** `connectedAt` and `updatedAt` (now unless given). */
  now?: Date;
}

/** Stores every page, sealing its token with `sealer`; answers the records in the order given. */
export async function seedPages(
  pages: Pick<PageRepository, 'put'>,
  sealer: Pick<TokenSealer, 'seal'>,
  seeds: SeedPage[],
  opts: SeedOptions = {},
): Promise<PageRecord[]> {
  const now = (opts.now ?? new Date()).toISOString();
  const records: PageRecord[] = new Array(seeds.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < seeds.length; i = next++) {
      const { pageId, token, name, changes } = at(seeds, i, 'seed');
      const record: PageRecord = {
        pageId,
        name: name ?? `Page ${pageId}`,
        status: 'active',
        sealedToken: await sealer.seal(pageId, token),
        subscribedFields: [...DEFAULT_SUBSCRIBED_FIELDS],
        connectedAt: now,
        updatedAt: now,
        ...changes,
      };
      await pages.put(record);
      records[i] = record;
    }
  };
  const workers = Math.max(1, Math.min(opts.concurrency ?? seeds.length, seeds.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return records;
}
