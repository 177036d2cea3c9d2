import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConversationRecord, OutStatus, TimelineItem } from '#contracts/conversation-records';
import { outStatus } from '#conversations/message-status';
import { HUMAN_AGENT_WINDOW_MS, replyPolicy, STANDARD_WINDOW_MS } from '#conversations/messaging-window';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 27, 8, 0, 0);
const RESPONSE = { messagingType: 'RESPONSE' };
const HUMAN_AGENT = { messagingType: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' };

describe('replyPolicy', () => {
  it('the windows are 24 hours and 7 days', () => {
    expect(STANDARD_WINDOW_MS).toBe(DAY);
    expect(HUMAN_AGENT_WINDOW_MS).toBe(7 * DAY);
  });

  it.each([false, true])('inside 24 h → RESPONSE (humanAgentReplies %s)', (humanAgent) => {
    for (const age of [0, 1, HOUR, 23 * HOUR, DAY - 1, DAY]) {
      expect(replyPolicy(NOW - age, NOW, humanAgent), `age ${age}`).toEqual(RESPONSE);
    }
  });

  it('24 h to 7 d → HUMAN_AGENT tag only when enabled', () => {
    for (const age of [DAY + 1, 2 * DAY, 6 * DAY, 7 * DAY - 1, 7 * DAY]) {
      expect(replyPolicy(NOW - age, NOW, true), `age ${age}`).toEqual(HUMAN_AGENT);
      expect(replyPolicy(NOW - age, NOW, false), `age ${age}`).toBeUndefined();
    }
  });

  it('beyond 7 d → no reply at all', () => {
    for (const age of [7 * DAY + 1, 8 * DAY, 365 * DAY]) {
      expect(replyPolicy(NOW - age, NOW, true)).toBeUndefined();
      expect(replyPolicy(NOW - age, NOW, false)).toBeUndefined();
    }
  });

  it('a person who never wrote cannot be messaged', () => {
    expect(replyPolicy(undefined, NOW, false)).toBeUndefined();
    expect(replyPolicy(undefined, NOW, true)).toBeUndefined();
  });

  it('boundaries: exactly 24 h is still RESPONSE, exactly 7 d is still HUMAN_AGENT', () => {
    expect(replyPolicy(NOW - DAY, NOW, false)).toEqual(RESPONSE);
    expect(replyPolicy(NOW - DAY - 1, NOW, false)).toBeUndefined();
    expect(replyPolicy(NOW - DAY - 1, NOW, true)).toEqual(HUMAN_AGENT);
    expect(replyPolicy(NOW - 7 * DAY, NOW, true)).toEqual(HUMAN_AGENT);
    expect(replyPolicy(NOW - 7 * DAY - 1, NOW, true)).toBeUndefined();
  });

  it('a last message slightly in the future (clock skew) is inside the window', () => {
    expect(replyPolicy(NOW + 5_000, NOW, false)).toEqual(RESPONSE);
  });

  it('property: the policy only gets stricter as time passes', () => {
    const rank = (p: ReturnType<typeof replyPolicy>) =>
      p === undefined ? 0 : p.messagingType === 'MESSAGE_TAG' ? 1 : 2;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 * DAY }),
        fc.integer({ min: 0, max: 10 * DAY }),
        fc.boolean(),
        (a, b, humanAgent) => {
          const [earlier, later] = a <= b ? [a, b] : [b, a];
          const last = NOW - 10 * DAY;
          const before = replyPolicy(last, last + earlier, humanAgent);
          const after = replyPolicy(last, last + later, humanAgent);
          expect(rank(after)).toBeLessThanOrEqual(rank(before));
          if (!humanAgent) expect(after?.messagingType).not.toBe('MESSAGE_TAG');
        },
      ),
    );
  });
});

const sentAt = NOW;
const out = (extra: Partial<TimelineItem> = {}): TimelineItem => ({
  pageId: 'p1',
  userId: 'u1',
  mid: 'm_1',
  kind: 'message',
  direction: 'out',
  timestamp: sentAt,
  text: 'hello',
  status: 'sent',
  ...extra,
});
const conv = (extra: Partial<ConversationRecord> = {}): ConversationRecord => ({
  pageId: 'p1',
  userId: 'u1',
  lastMessageAt: sentAt,
  ...extra,
});

describe('outStatus', () => {
  it('failed wins over every watermark', () => {
    const c = conv({ deliveredWatermark: sentAt + 10, readWatermark: sentAt + 10 });
    expect(outStatus(out({ status: 'failed' }), c)).toBe('failed');
    expect(outStatus(out({ status: 'failed' }), undefined)).toBe('failed');
  });

  it('a read watermark at or after the message → read', () => {
    expect(outStatus(out(), conv({ readWatermark: sentAt }))).toBe('read');
    expect(outStatus(out(), conv({ readWatermark: sentAt + 1 }))).toBe('read');
    expect(outStatus(out({ status: 'delivered' }), conv({ readWatermark: sentAt }))).toBe('read');
  });

  it('a read watermark before the message does not count', () => {
    expect(outStatus(out(), conv({ readWatermark: sentAt - 1 }))).toBe('sent');
  });

  it('delivered by the delivery watermark or by the stored status', () => {
    expect(outStatus(out(), conv({ deliveredWatermark: sentAt }))).toBe('delivered');
    expect(outStatus(out(), conv({ deliveredWatermark: sentAt - 1 }))).toBe('sent');
    expect(outStatus(out({ status: 'delivered' }), conv())).toBe('delivered');
    expect(outStatus(out({ status: 'delivered' }), undefined)).toBe('delivered');
    expect(outStatus(out({ status: 'delivered' }), conv({ readWatermark: sentAt - 1 }))).toBe('delivered');
  });

  it('otherwise sent (also without a conversation or a stored status)', () => {
    expect(outStatus(out(), conv())).toBe('sent');
    expect(outStatus(out(), undefined)).toBe('sent');
    expect(outStatus(out({ status: undefined }), conv())).toBe('sent');
  });

  it('a message at timestamp 0 is not read by an absent watermark', () => {
    expect(outStatus(out({ timestamp: 0 }), conv())).toBe('sent');
  });

  const ORDER: Record<OutStatus, number> = { sent: 0, delivered: 1, read: 2, failed: 3 };
  const watermark = fc.option(fc.integer({ min: sentAt - 1_000, max: sentAt + 1_000 }), { nil: undefined });
  const stored = fc.constantFrom<OutStatus | undefined>('sent', 'delivered', undefined);

  it('property: the status never goes backwards as either watermark rises', () => {
    fc.assert(
      fc.property(
        stored,
        watermark,
        watermark,
        fc.nat(2_000),
        fc.nat(2_000),
        (status, delivered, read, dRise, rRise) => {
          const item = out({ status });
          const before = outStatus(item, conv({ deliveredWatermark: delivered, readWatermark: read }));
          const risen = conv({
            deliveredWatermark: (delivered ?? sentAt - 1_000) + dRise,
            readWatermark: (read ?? sentAt - 1_000) + rRise,
          });
          expect(ORDER[outStatus(item, risen)]).toBeGreaterThanOrEqual(ORDER[before]);
        },
      ),
    );
  });

  it('property: a sequence of watermark events yields a non-decreasing status', () => {
    const event = fc.record({
      which: fc.constantFrom('delivered', 'read'),
      at: fc.integer({ min: -500, max: 500 }),
    });
    fc.assert(
      fc.property(stored, fc.array(event, { maxLength: 20 }), (status, events) => {
        const item = out({ status });
        const c = conv();
        let last = outStatus(item, c);
        for (const e of events) {
          // Watermarks only rise (as ConversationRepository.raiseWatermark guarantees).
          const field = e.which === 'read' ? 'readWatermark' : 'deliveredWatermark';
          c[field] = Math.max(c[field] ?? Number.NEGATIVE_INFINITY, sentAt + e.at);
          const now = outStatus(item, c);
          expect(ORDER[now]).toBeGreaterThanOrEqual(ORDER[last]);
          last = now;
        }
      }),
    );
  });

  it('property: read implies the read watermark covers the message; failed only from the stored status', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<OutStatus | undefined>('sent', 'delivered', 'failed', undefined),
        watermark,
        watermark,
        (status, delivered, read) => {
          const result = outStatus(
            out({ status }),
            conv({ deliveredWatermark: delivered, readWatermark: read }),
          );
          if (result === 'read') expect(read).toBeGreaterThanOrEqual(sentAt);
          expect(result === 'failed').toBe(status === 'failed');
          if (result === 'sent') {
            expect(status).not.toBe('delivered');
            expect(delivered ?? Number.NEGATIVE_INFINITY).toBeLessThan(sentAt);
          }
        },
      ),
    );
  });
});
