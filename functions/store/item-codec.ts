/**
 * How a timeline item is kept in DynamoDB, so that any event that can be stored is.
 *
 * Free-form parts (whatever Meta, or anyone who signs as Meta, put there) are kept as JSON text:
 * `detail` as `detailJson`, each attachment's `payload` as `payloadJson`. DynamoDB's marshalling cannot
 * hold every JSON object: a `__proto__` key is dropped and its map refused, a `constructor` key breaks
 * the marshaller, numbers beyond 2^53 or below 1e-130 are refused, empty map keys are refused, maps nest
 * at most 32 deep. Text holds all of them exactly as they came, and nothing queries inside them.
 *
 * An item larger than INLINE_ITEM_LIMIT moves its largest parts (text, attachments, payloads, …) to the
 * blob store, content-addressed under `items/`, and keeps a pointer (`overflow`); reading puts them back.
 * Items stored before this codec keep their maps and read as they were.
 */

import { TimelineItem } from '#contracts/conversation-records';
import { isJsonObject } from '#contracts/json';
import type { BlobStore } from '#ports/ports';
import { logger } from '#runtime/observability';
import { recordOf, UnreadableRecordError } from './records.js';
import { DYNAMO_ITEM_LIMIT, itemBlobKey, itemSize, sha256 } from './storable.js';
import { KEY_ATTRIBUTES, PK, SK } from './table.js';

/**
 * Beyond this an item's large parts go to the blob store. Far above any real message (Meta caps text at
 * 2,000 characters; a template echo is a few KB), far below DynamoDB's 400 KB, leaving room for what
 * later updates add (reactions, statuses) and keeping a conversation's query pages and write units sane.
 */
export const INLINE_ITEM_LIMIT = 100 * 1024;

/** What stays in the item whatever its size: keys, and what queries, statuses and updates use. */
const ALWAYS_INLINE = new Set<string>([
  ...KEY_ATTRIBUTES,
  'pageId',
  'userId',
  'mid',
  'kind',
  'direction',
  'timestamp',
  'status',
  'standby',
  'reactions',
  'overflow',
]);

/** Where an oversize item's parts are: a blob holding `{part: value}` for each part moved. */
export interface Overflow {
  key: string;
  parts: string[];
  size: number;
}

/** The item as DynamoDB keeps it (without its key attributes). */
export function encodeItem(item: TimelineItem): Record<string, unknown> {
  const { detail, attachments, ...rest } = item;
  const record: Record<string, unknown> = { ...rest };
  if (detail !== undefined) record.detailJson = JSON.stringify(detail);
  if (attachments !== undefined) record.attachments = attachments.map(encodeAttachment);
  return record;
}

/**
 * A stored item (as read, keys and all, its moved parts back) as the item it was: free-form parts
 * decoded, then parsed (`recordOf`): an item that is not a timeline item throws, naming its key.
 */
export function decodeItem(stored: Record<string, unknown>): TimelineItem {
  const { detailJson, attachments, ...rest } = stored;
  const decoded: Record<string, unknown> = rest;
  if (typeof detailJson === 'string') decoded.detail = jsonPart(detailJson, stored);
  if (Array.isArray(attachments)) {
    decoded.attachments = attachments.map((attachment) => decodeAttachment(attachment, stored));
  } else if (attachments !== undefined) decoded.attachments = attachments;
  return recordOf(TimelineItem, decoded, stored);
}

function encodeAttachment(attachment: Record<string, unknown>): Record<string, unknown> {
  const { payload, ...rest } = attachment;
  return payload === undefined ? rest : { ...rest, payloadJson: JSON.stringify(payload) };
}

function decodeAttachment(stored: unknown, item: Record<string, unknown>): unknown {
  if (!isJsonObject(stored)) return stored; // the parse says what is wrong
  const { payloadJson, ...rest } = stored;
  return typeof payloadJson === 'string' ? { ...rest, payload: jsonPart(payloadJson, item) } : rest;
}

/** A part kept as JSON text, read back; text that is not JSON is an unreadable record. */
function jsonPart(text: string, item: Record<string, unknown>): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UnreadableRecordError(
      `stored item ${String(item[PK])} / ${String(item[SK])} is not a valid record: a JSON part is not JSON`,
    );
  }
}

/**
 * The record as it fits in one item: itself when small enough, else without its largest parts, which
 * are written to the blob store first (content-addressed: a retry writes the same bytes to the same key).
 */
export async function fitItem(
  record: Record<string, unknown>,
  identity: { pageId: string; userId: string; mid: string },
  blobs: BlobStore | undefined,
): Promise<Record<string, unknown>> {
  if (itemSize(record) <= INLINE_ITEM_LIMIT) return record;
  if (!blobs) throw new Error('an item exceeds the inline limit and no blob store is configured');
  const kept = { ...record };
  const moved: Record<string, unknown> = {};
  const movable = Object.keys(record)
    .filter((name) => !ALWAYS_INLINE.has(name) && record[name] !== undefined)
    .sort((a, b) => itemSize({ [b]: record[b] }) - itemSize({ [a]: record[a] }));
  for (const name of movable) {
    moved[name] = kept[name];
    delete kept[name];
    if (itemSize(kept) <= INLINE_ITEM_LIMIT - POINTER_ALLOWANCE) break;
  }
  const body = Buffer.from(JSON.stringify(moved), 'utf8');
  const key = itemBlobKey([identity.pageId, identity.userId, identity.mid], body);
  await blobs.put(key, body);
  const overflow: Overflow = { key, parts: Object.keys(moved), size: body.length };
  const fitted = { ...kept, overflow };
  // Keys are checked before; what always stays inline is small: this only guards the arithmetic.
  if (itemSize(fitted) > DYNAMO_ITEM_LIMIT) throw new Error('an item does not fit even without its parts');
  return fitted;
}

/** Room for the `overflow` pointer itself. */
const POINTER_ALLOWANCE = 512;

/**
 * A stored record with its moved parts back in place. A blob that cannot be found (or does not match
 * its digest) leaves the parts out and flags the item `partsUnavailable`, so one lost blob never hides
 * the rest of a conversation; a blob store that fails throws (the read is retried by the caller).
 */
export async function restoreParts(
  stored: Record<string, unknown>,
  blobs: BlobStore | undefined,
): Promise<Record<string, unknown>> {
  const overflow = stored.overflow as Overflow | undefined;
  if (!overflow) return stored;
  const body = blobs ? await blobs.get(overflow.key) : undefined;
  if (!body || !overflow.key.endsWith(`/${sha256(body)}.json`)) {
    logger.warn('the moved parts of an item are unavailable', {
      pageId: stored.pageId,
      blobStore: blobs !== undefined,
      found: body !== undefined,
    });
    return { ...stored, partsUnavailable: true };
  }
  // A part written inline after the move (an edit's new text) is newer than the moved one.
  return { ...(JSON.parse(body.toString('utf8')) as Record<string, unknown>), ...stored };
}
