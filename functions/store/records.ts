import * as z from 'zod/mini';
import { issueSummary } from '#contracts/json';
import { PK, SK } from './table.js';

/** A stored item that is not the record its key says it is: a bug or a hand edit, never input. */
export class UnreadableRecordError extends Error {
  override readonly name = 'UnreadableRecordError';
}

/**
 * A stored item read as the record `schema` describes: its key and index attributes left out (as is
 * every attribute the schema does not name: `z.object` keeps only its own), every field checked.
 * An item that does not parse throws, naming its key and the first field that is wrong (never a
 * value: records hold people's messages).
 */
export function recordOf<S extends z.ZodMiniType>(
  schema: S,
  item: Record<string, unknown>,
  key: Record<string, unknown> = item,
): z.output<S> {
  const parsed = z.safeParse(schema, item);
  if (parsed.success) return parsed.data;
  throw new UnreadableRecordError(
    `stored item ${String(key[PK])} / ${String(key[SK])} is not a valid record: ${issueSummary(parsed.error, 'record')}`,
  );
}
