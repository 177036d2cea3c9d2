import type { PublicEvent } from '#contracts/public-event';
import type { Deadline } from '#runtime/deadline';

/*
 * Placeholder of the publishing port (SPEC §8), written by the events-local branch only so that it
 * compiles: the events-contract branch owns this file and its version wins at merge.
 */
export interface EventPublisher {
  /** Resolves only when every event is accepted (durably); throws otherwise. */
  publish(events: readonly PublicEvent[], deadline: Deadline): Promise<void>;
}
