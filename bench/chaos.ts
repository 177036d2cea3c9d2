/**
 * The fault-injection run of tests/chaos/fault-injection.test.ts at bench size: 10,000 events over 50
 * pages and 500 conversations (dynalite in its own process). Run with POWERTOOLS_LOG_LEVEL=DEBUG
 * (bench/run.ts does) so every log line is scanned for secrets. Each figure beside what it must be.
 */

import { startDynaliteProcess } from '#testkit/chaos-dynalite';
import { type ChaosReport, runChaos } from '#testkit/chaos-harness';

export interface ChaosResult {
  figures: Record<string, { value: number; reference: number; ok: boolean }>;
  injected: ChaosReport['injected'];
  sent: ChaosReport['sent'];
  processor: ChaosReport['processor'];
  scanned: ChaosReport['scanned'];
  /** Public events (SPEC §8): published, distinct, published again after a redelivery, logged. */
  publicEvents: {
    published: number;
    distinct: number;
    duplicates: number;
    logged: number;
    publishCalls: number;
  };
  events: number;
  posts: number;
  pages: number;
  conversations: number;
  /** Instagram's part of the traffic (SPEC §11): accounts, events, POSTs. */
  instagram: ChaosReport['instagram'];
  logLevel: string;
  wallSeconds: number;
  /** The first few problems, if any (empty when everything holds). */
  problems: string[];
}

export async function chaosBench(): Promise<ChaosResult> {
  const dynamo = await startDynaliteProcess();
  try {
    const poison = 6;
    // A fifth of the entries are Instagram accounts (SPEC §11), as in tests/chaos/fault-injection.test.ts.
    const r = await runChaos({
      dynamo,
      events: 10_000,
      pages: 50,
      persons: 10,
      poison,
      seed: 424242,
      instagramShare: 0.2,
    });
    const figures = {
      lost: { value: r.lost.length, reference: 0 },
      storedTwice: { value: r.storedTwice.length, reference: 0 },
      unexpectedItems: { value: r.unexpected.length, reference: 0 },
      orderViolations: { value: r.orderViolations.length, reference: 0 },
      stateMismatches: { value: r.stateMismatches.length, reference: 0 },
      deadLetters: { value: r.deadLetters.total, reference: 0 },
      quarantined: { value: r.quarantined.poison, reference: poison },
      unexpectedQuarantined: { value: r.quarantined.unexpected.length, reference: 0 },
      secretsLeaked: { value: r.leaks.length, reference: 0 },
      eventsUnpublished: { value: r.publicEvents.unpublished.length, reference: 0 },
      eventsNotStored: { value: r.publicEvents.notStored.length, reference: 0 },
      eventIdsUnstable: { value: r.publicEvents.unstableIds.length, reference: 0 },
      eventSeqViolations: { value: r.publicEvents.seqViolations.length, reference: 0 },
      changesWithoutEvent: { value: r.publicEvents.missingEvents.length, reference: 0 },
      eventsOnWrongChannel: { value: r.channelMismatches.length, reference: 0 },
    };
    const { published, distinct, duplicates, logged, publishCalls } = r.publicEvents;
    return {
      figures: Object.fromEntries(
        Object.entries(figures).map(([k, f]) => [k, { ...f, ok: f.value === f.reference }]),
      ),
      injected: r.injected,
      sent: r.sent,
      processor: r.processor,
      scanned: r.scanned,
      publicEvents: { published, distinct, duplicates, logged, publishCalls },
      events: r.events,
      posts: r.posts,
      pages: r.pages,
      conversations: r.conversations,
      instagram: r.instagram,
      logLevel: r.logLevel,
      wallSeconds: Math.round(r.wallMs / 100) / 10,
      problems: [
        ...r.lost,
        ...r.storedTwice,
        ...r.unexpected,
        ...r.orderViolations,
        ...r.stateMismatches,
        ...r.deadLetters.unexpected,
        ...r.quarantined.unexpected,
        ...r.leaks,
        ...r.publicEvents.unpublished,
        ...r.publicEvents.notStored,
        ...r.channelMismatches,
        ...r.publicEvents.unstableIds,
        ...r.publicEvents.seqViolations,
        ...r.publicEvents.missingEvents,
      ].slice(0, 10),
    };
  } finally {
    await dynamo.stop();
  }
}
