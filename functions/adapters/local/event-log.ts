import { randomBytes } from 'node:crypto';
import type { PublicEvent } from '#contracts/public-event';

/**
 * The local stack's recent public events, for `pagewire events tail` (GET /admin/events). In memory and
 * bounded: the oldest go once `capacity` is passed by a tenth. It is a window to watch, not a store: what must
 * survive a restart is the forwarding queue (event-forwarder.ts).
 *
 * Cursors are `<boot>.<n>`: `n` counts the events appended by this process, `boot` names the process,
 * so a cursor kept across a restart of the stack reads the new process's events from the start
 * instead of waiting for a count that the new process may never reach.
 */
export interface EventLogPage {
  events: PublicEvent[];
  /** Pass it as `after` to read on from here; it moves past events skipped by the page filter too. */
  cursor: string;
}

export interface EventLogQuery {
  /** A cursor from an earlier page; without one, the latest `limit` events. */
  after?: string;
  pageId?: string;
  /** At most this many events (default 100). */
  limit?: number;
  /** When nothing matches yet, wait up to this long for an event that does (default 0: answer now). */
  waitMs?: number;
}

interface Waiter {
  wake(): void;
}

export const DEFAULT_LOG_CAPACITY = 10_000;
const DEFAULT_LIMIT = 100;

export class LocalEventLog {
  private readonly boot = randomBytes(4).toString('hex');
  private readonly ring: PublicEvent[] = [];
  /** The number of the newest event appended (the first is 1); the ring holds the last ones. */
  private last = 0;
  private readonly waiters = new Set<Waiter>();
  private closed = false;

  constructor(private readonly capacity = DEFAULT_LOG_CAPACITY) {}

  append(events: readonly PublicEvent[]): void {
    for (const event of events) {
      this.ring.push(event);
      this.last++;
    }
    // Trimmed a tenth of the capacity at a time, not one event per append: the splice copies the ring.
    const over = this.ring.length - this.capacity;
    if (over > this.capacity / 10) this.ring.splice(0, over);
    for (const waiter of this.waiters) waiter.wake();
  }

  /** The events after `after` (filtered), waiting up to `waitMs` while there are none. */
  async read(query: EventLogQuery = {}): Promise<EventLogPage> {
    const limit = Math.max(1, Math.min(query.limit ?? DEFAULT_LIMIT, 1000));
    let from = query.after === undefined ? undefined : this.position(query.after);
    if (from === undefined) from = Math.max(0, this.last - limit);
    let page = this.collect(from, query.pageId, limit);
    const waitMs = Math.max(0, query.waitMs ?? 0);
    if (page.events.length > 0 || waitMs === 0 || this.closed) return page;
    const deadline = Date.now() + waitMs;
    while (page.events.length === 0 && !this.closed && Date.now() < deadline) {
      await this.nextAppend(deadline - Date.now());
      page = this.collect(this.position(page.cursor) ?? from, query.pageId, limit);
    }
    return page;
  }

  /** Answers every waiting read at once (the stack is stopping). */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters) waiter.wake();
  }

  private collect(from: number, pageId: string | undefined, limit: number): EventLogPage {
    const first = this.last - this.ring.length; // the number of the event before ring[0]
    const events: PublicEvent[] = [];
    let n = Math.max(from, first);
    while (n < this.last && events.length < limit) {
      const event = this.ring[n - first] as PublicEvent;
      n++;
      if (pageId === undefined || event.pageId === pageId) events.push(event);
    }
    return { events, cursor: `${this.boot}.${n}` };
  }

  /** The event number a cursor stands for; undefined for a cursor of another process or nonsense. */
  private position(cursor: string): number | undefined {
    const [boot, n] = cursor.split('.');
    if (boot !== this.boot || !/^\d+$/.test(n ?? '')) return boot === this.boot ? undefined : 0;
    return Math.min(Number(n), this.last);
  }

  private nextAppend(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, Math.max(0, ms));
      timer.unref();
      this.waiters.add(waiter);
    });
  }
}
