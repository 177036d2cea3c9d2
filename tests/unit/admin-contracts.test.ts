import { describe, expect, it } from 'vitest';
import {
  ConversationsAnswer,
  MessagesAnswer,
  PageCommandAnswer,
  PagesAnswer,
  QuarantineAnswer,
} from '#contracts/admin-answers';
import { adminRoutes, isAdminPath, pathOf } from '#contracts/routes';
import { conversationView, messageView, pageView, quarantineView } from '#conversations/views';

// The answer contracts the CLI parses must accept what the admin API's views write: a field renamed
// or retyped on one side fails here rather than as `bad_answer` in the CLI.
describe('admin answer contracts against the server views', () => {
  const page = {
    pageId: '101',
    name: 'Shop',
    status: 'active' as const,
    sealedToken: 'sealed-secret',
    subscribedFields: ['messages'],
    connectedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };

  it('reads pages (never a token) and page command answers', () => {
    const answer = PagesAnswer.parse({ pages: [pageView(page)] });
    expect(answer.pages[0]).toMatchObject({ pageId: '101', status: 'active', lastCheckedAt: null });
    expect(JSON.stringify(answer)).not.toContain('sealed');
    expect(PageCommandAnswer.parse({ page: pageView(page), warning: 'w' })).toHaveProperty('page');
    expect(PageCommandAnswer.parse({ pageId: '101', status: 'queued', message: 'm' })).toHaveProperty(
      'message',
    );
  });

  it('reads conversations, messages and quarantined events', () => {
    const conversation = { pageId: '101', userId: '7', lastMessageAt: 5 };
    expect(ConversationsAnswer.parse({ conversations: [conversationView(conversation)] })).toEqual({
      conversations: [{ userId: '7', name: null, lastMessageAt: 5, lastInboundAt: null }],
    });
    const item = {
      pageId: '101',
      userId: '7',
      mid: 'm_1',
      kind: 'message' as const,
      direction: 'out' as const,
      timestamp: 5,
      status: 'sent' as const,
    };
    const messages = MessagesAnswer.parse({ messages: [messageView(item, conversation)] });
    expect(messages.messages[0]).toMatchObject({ mid: 'm_1', direction: 'out', text: null });
    const q = {
      pageId: '101',
      userId: '7',
      eventId: 'e',
      reason: 'KeyTooLarge',
      quarantinedAt: '2026-01-01T00:00:00.000Z',
      bodySize: 3,
    };
    expect(QuarantineAnswer.parse({ events: [quarantineView(q)] }).events[0]).toMatchObject({
      eventId: 'e',
      timestamp: null,
    });
  });

  it('refuses an answer of another shape', () => {
    expect(PagesAnswer.safeParse({ pages: [{ name: 'no id' }] }).success).toBe(false);
    expect(PageCommandAnswer.safeParse({ pageId: '1', status: 'done' }).success).toBe(false);
  });
});

describe('routes', () => {
  it('fills path parameters URI-encoded, so an id cannot add a segment', () => {
    expect(pathOf(adminRoutes.subscribePage, { pageId: '101' })).toBe('/admin/pages/101/subscribe');
    expect(pathOf(adminRoutes.listMessages, { pageId: '1', userId: 'ref:a/b' })).toBe(
      '/admin/pages/1/conversations/ref%3Aa%2Fb/messages',
    );
  });

  it('adds the query without undefined values, and refuses a missing parameter', () => {
    expect(pathOf(adminRoutes.listQuarantine, {}, { pageId: undefined })).toBe('/admin/quarantine');
    expect(pathOf(adminRoutes.listDeadLetters, {}, { queue: 'events', limit: 5 })).toBe(
      '/admin/dead-letters?queue=events&limit=5',
    );
    expect(() => pathOf(adminRoutes.disconnectPage)).toThrow(/pageId/);
  });

  it('knows the admin prefix', () => {
    expect([isAdminPath('/admin'), isAdminPath('/admin/pages'), isAdminPath('/administrator')]).toEqual([
      true,
      true,
      false,
    ]);
  });
});
