/**
 * Nothing lost, nothing stored twice, nothing reordered, no secret leaked: 2,000 webhook events over 50
 * pages (a fifth of them Instagram accounts linked to the others, SPEC §11) and 500 conversations through the real verifier and processor handlers while DynamoDB throttles,
 * the Graph API fails, the processor crashes mid-batch, SQS sends fail, Meta delivers POSTs again and
 * public event publishes fail (whole or in part) or the processor dies right after one; and every
 * stored change published, with a stable id and gapless seq (SPEC §8) (testkit/chaos-harness.ts;
 * `npm run bench` runs the same with 10,000 events).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChaosReport } from '#testkit/chaos-harness';
import { startTestDynamo, type TestDynamo } from '#testkit/dynamo';

// Every log and metric line counts for the secret scan: Powertools takes its settings when the logger
// and the metrics are created, so the harness (and the handlers behind it) are loaded after this.
process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

let dynamo: TestDynamo;
let report: ChaosReport;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const { runChaos } = await import('#testkit/chaos-harness');
  report = await runChaos({ dynamo, events: 2_000, pages: 50, persons: 10, poison: 4, instagramShare: 0.2 });
}, 240_000); // a correctness run, not a timing: it may take long on a loaded machine

afterAll(async () => {
  await dynamo?.stop();
});

describe('fault injection: 2,000 events, 50 pages (10 of them Instagram accounts), 500 conversations', () => {
  it('ran the traffic with every kind of fault injected', () => {
    expect(report).toMatchObject({ events: 2_000, pages: 50, conversations: 500 });
    // A fifth of the entries are Instagram accounts: their events came in object "instagram" POSTs.
    expect(report.instagram.accounts).toBe(10);
    expect(report.instagram.events).toBeGreaterThan(200);
    expect(report.instagram.posts).toBeGreaterThan(0);
    expect(report.instagram.unsends).toBeGreaterThan(0);
    expect(report.injected.dynamoThrottles).toBeGreaterThan(0);
    expect(report.injected.graphErrors).toBeGreaterThan(0);
    expect(report.injected.crashes).toBeGreaterThan(0);
    expect(report.injected.queueFailuresBefore + report.injected.queueFailuresAfter).toBeGreaterThan(0);
    expect(report.sent.concurrentDuplicates).toBeGreaterThan(0);
    expect(report.sent.lateDuplicates).toBeGreaterThan(0);
    expect(report.processor.redeliveredRecords).toBeGreaterThan(0);
    expect(report.injected.publishFailures).toBeGreaterThan(0);
    expect(report.injected.partialPublishFailures).toBeGreaterThan(0);
    expect(report.injected.crashesAfterPublish).toBeGreaterThan(0);
    // Meta only ever saw 200 or, when SQS failed, 500 (and then delivered again).
    expect(Object.keys(report.statuses).sort()).toEqual(report.statuses['500'] ? ['200', '500'] : ['200']);
  });

  it('lost nothing', () => {
    expect(report.lost).toEqual([]);
  });

  it('stored nothing twice and nothing that was not sent', () => {
    expect(report.storedTwice).toEqual([]);
    expect(report.unexpected).toEqual([]);
  });

  it('stored every conversation in timestamp order, with the state its events imply', () => {
    expect(report.orderViolations).toEqual([]);
    expect(report.stateMismatches).toEqual([]);
  });

  it('quarantined the poison messages, and only them; nothing reached the dead letters', () => {
    expect(report.quarantined).toEqual({ total: 4, poison: 4, unexpected: [] });
    expect(report.deadLetters).toEqual({ total: 0, poison: 0, unexpected: [] });
  });

  it('published every stored change, and nothing that was not stored', () => {
    const { published, distinct, duplicates, logged } = report.publicEvents;
    console.info(
      `public events: ${published} published, ${distinct} distinct, ${duplicates} again after a redelivery; ` +
        `publish faults: ${report.injected.publishFailures} rejected (${report.injected.partialPublishFailures} ` +
        `in part), ${report.injected.crashesAfterPublish} crashes after a publish`,
    );
    // Every stored item, watermark, reaction and name has its event: more events than items.
    expect(logged).toBeGreaterThan(report.events);
    expect(distinct).toBe(logged);
    expect(duplicates).toBeGreaterThan(0);
    expect(report.publicEvents.unpublished).toEqual([]);
    expect(report.publicEvents.notStored).toEqual([]);
    expect(report.publicEvents.missingEvents).toEqual([]);
  });

  it('kept each event id the same across redeliveries, and each conversation’s seq without gaps', () => {
    expect(report.publicEvents.unstableIds).toEqual([]);
    expect(report.publicEvents.seqViolations).toEqual([]);
  });

  it('published every event on its entry’s channel (instagram for the Instagram accounts)', () => {
    expect(report.channelMismatches).toEqual([]);
  });

  it('never wrote the app secret or a page token to a log line, an answer, an error, a message or a request', () => {
    expect(report.logLevel).toBe('DEBUG');
    expect(report.scanned.logLines).toBeGreaterThan(0);
    expect(report.scanned.queueMessages).toBeGreaterThan(report.events);
    expect(report.leaks).toEqual([]);
  });
});
