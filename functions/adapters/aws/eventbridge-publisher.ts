import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import pMap from 'p-map';
import { PUBLIC_EVENT_SOURCE, type PublicEvent } from '#contracts/public-event';
import { type EventPublisher, EventTooLargeError, PublishError } from '#ports/event-publisher';
import { type Backoff, backoffMs, sleep } from '#runtime/backoff';
import type { Deadline } from '#runtime/deadline';

/** `source` of every Pagewire event; the bus rules match on it (lib/events.ts). */
export const EVENT_SOURCE = PUBLIC_EVENT_SOURCE;
/** PutEvents takes at most 10 entries and 256 KiB of entries (as entrySize counts them) per call. */
export const MAX_PUT_EVENTS_ENTRIES = 10;
export const MAX_PUT_EVENTS_BYTES = 256 * 1024;
/** Calls in flight at once for one publish (a processor batch rarely makes more than a few). */
const MAX_CALLS_IN_FLIGHT = 10;

/** AWS's count of an entry's size: UTF-8 bytes of source, detail-type, detail and resources, 14 for a time. */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));
  return (
    (entry.Time ? 14 : 0) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((sum, r) => sum + bytes(r), 0)
  );
}

export interface EventBridgePublisherOptions {
  /** Attempts per chunk, the first included (default 5), while the deadline allows. */
  maxAttempts?: number;
  /** Back-off between attempts (default 100 ms doubling to 2 s, full jitter: PutEvents throttles per account). */
  backoff?: Backoff;
  /** In [0, 1): the jitter's randomness (tests fix it). */
  random?: () => number;
}

interface Failure {
  entry: PutEventsRequestEntry;
  code: string;
}

/**
 * Publishes to an EventBridge bus: `source` pagewire, `detail-type` the event's type, `detail` the
 * event itself, `time` the event's time. Entries go in chunks of at most 10 and 256 KiB; the entries
 * EventBridge reports failed (FailedEntryCount, per-entry ErrorCode), and whole chunks whose call
 * failed, are retried with back-off, only those, until the attempts or the deadline run out.
 */
export class EventBridgePublisher implements EventPublisher {
  private readonly maxAttempts: number;
  private readonly backoff: Backoff;
  private readonly random: () => number;

  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    opts: EventBridgePublisherOptions = {},
  ) {
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 5);
    this.backoff = opts.backoff ?? { baseMs: 100, maxMs: 2_000, jitter: 'full' };
    this.random = opts.random ?? Math.random;
  }

  async publish(events: readonly PublicEvent[], deadline: Deadline): Promise<void> {
    const entries = events.map((event) => this.toEntry(event));
    const chunks = chunk(entries);
    const failures = (
      await pMap(chunks, (c) => this.publishChunk(c, deadline), { concurrency: MAX_CALLS_IN_FLIGHT })
    ).flat();
    if (failures.length > 0) {
      throw new PublishError(events.length, failures.length, [...new Set(failures.map((f) => f.code))]);
    }
  }

  private toEntry(event: PublicEvent): PutEventsRequestEntry {
    const entry: PutEventsRequestEntry = {
      EventBusName: this.busName,
      Source: EVENT_SOURCE,
      DetailType: event.type,
      Detail: JSON.stringify(event),
      Time: new Date(event.time),
    };
    const size = entrySize(entry);
    if (size > MAX_PUT_EVENTS_BYTES)
      throw new EventTooLargeError(event.id, event.type, size, MAX_PUT_EVENTS_BYTES);
    return entry;
  }

  /** The entries of `chunk` still not accepted when the attempts or the time ran out. */
  private async publishChunk(chunk: PutEventsRequestEntry[], deadline: Deadline): Promise<Failure[]> {
    let pending = chunk;
    for (let attempt = 1; ; attempt++) {
      const failures = await this.put(pending, deadline);
      if (failures.length === 0) return [];
      const delay = backoffMs(attempt, this.backoff, this.random);
      // Give up while the caller still has time to fail its record (it comes back and publishes again).
      if (attempt >= this.maxAttempts || deadline.remainingMs() <= delay) return failures;
      pending = failures.map((f) => f.entry);
      await sleep(delay);
    }
  }

  private async put(entries: PutEventsRequestEntry[], deadline: Deadline): Promise<Failure[]> {
    let results: PutEventsResultEntry[];
    try {
      // The SDK's own retries stop at the deadline too: the record must fail in time to come back.
      const abortSignal = AbortSignal.timeout(Math.max(1, Math.min(deadline.remainingMs(), 2 ** 31 - 1)));
      const output = await this.client.send(new PutEventsCommand({ Entries: entries }), { abortSignal });
      results = output.Entries ?? [];
    } catch (err) {
      // The SDK already retried what it deems transient; keep the error's name, not its message.
      const code = err instanceof Error ? err.name : 'UnknownError';
      return entries.map((entry) => ({ entry, code }));
    }
    // The result lists one entry per request entry, in order; a failed one has an ErrorCode.
    return entries.flatMap((entry, i) => {
      const result = results[i];
      if (result === undefined) return [{ entry, code: 'NotAcknowledged' }];
      if (result.ErrorCode !== undefined || result.EventId === undefined) {
        return [{ entry, code: result.ErrorCode ?? 'NoEventId' }];
      }
      return [];
    });
  }
}

/** Chunks of at most 10 entries and 256 KiB, in order (EventBridge does not keep order anyway). */
function chunk(entries: PutEventsRequestEntry[]): PutEventsRequestEntry[][] {
  const chunks: PutEventsRequestEntry[][] = [];
  let current: PutEventsRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    if (current.length === MAX_PUT_EVENTS_ENTRIES || bytes + size > MAX_PUT_EVENTS_BYTES) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

let sharedClient: EventBridgeClient | undefined;

/** The container's one EventBridge client. */
export function eventBridgeClient(): EventBridgeClient {
  sharedClient ??= new EventBridgeClient({});
  return sharedClient;
}

/** The deployed bus (`EVENT_BUS_NAME`, set by PublicEvents.grantPublish in lib/events.ts). */
export const eventBridgePublisher = (busName: string): EventBridgePublisher =>
  new EventBridgePublisher(eventBridgeClient(), busName);
