/**
 * An EventPublisher for tests: it checks every event against the public contract, records the ones it
 * accepts in order, and fails on demand (whole calls, or after accepting the first few events of a
 * call, as EventBridge may), so tests can prove a failed publish is retried and ids stay stable.
 */
import { type PublicEvent, PublicEvent as PublicEventSchema } from '#contracts/public-event';
import { type EventPublisher, PublishError } from '#ports/event-publisher';
import type { Deadline } from '#runtime/deadline';

export interface MemoryPublisher extends EventPublisher {
  /** Every accepted event, in the order accepted (a retried event appears once per acceptance). */
  readonly events: PublicEvent[];
  /** publish calls made, failed ones included. */
  readonly calls: number;
  /**
   * The next `times` calls fail with a PublishError; each first accepts its first `accepted` events
   * (a partial failure). Adds to failures already planned.
   */
  failNext(times?: number, opts?: { accepted?: number }): void;
  /** While set, a call holding an event that matches fails (after accepting the events before it). */
  failWhen(predicate: ((event: PublicEvent) => boolean) | undefined): void;
  /** The accepted events with distinct ids, first acceptance kept (what a deduping consumer sees). */
  distinct(): PublicEvent[];
  clear(): void;
}

export function memoryPublisher(): MemoryPublisher {
  const events: PublicEvent[] = [];
  const planned: { accepted: number }[] = [];
  let predicate: ((event: PublicEvent) => boolean) | undefined;
  let calls = 0;

  return {
    events,
    get calls() {
      return calls;
    },
    async publish(batch: readonly PublicEvent[], _deadline: Deadline) {
      calls++;
      // A malformed event is the caller's bug: say which, loudly, before accepting anything.
      batch.forEach((event, i) => {
        const parsed = PublicEventSchema.safeParse(event);
        if (!parsed.success)
          throw new Error(`event ${i} breaks the public contract: ${parsed.error.message}`);
      });
      const plan = planned.shift();
      const stopAt = plan
        ? Math.min(plan.accepted, batch.length)
        : predicate
          ? batch.findIndex((event) => predicate?.(event))
          : -1;
      if (stopAt === -1) {
        events.push(...batch);
        return;
      }
      events.push(...batch.slice(0, stopAt));
      throw new PublishError(batch.length, batch.length - stopAt, ['MemoryPublisherFault']);
    },
    failNext(times = 1, { accepted = 0 } = {}) {
      for (let i = 0; i < times; i++) planned.push({ accepted });
    },
    failWhen(p) {
      predicate = p;
    },
    distinct() {
      const seen = new Set<string>();
      return events.filter((event) => !seen.has(event.id) && seen.add(event.id));
    },
    clear() {
      events.length = 0;
      planned.length = 0;
      predicate = undefined;
      calls = 0;
    },
  };
}
