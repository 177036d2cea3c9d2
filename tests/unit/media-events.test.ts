/**
 * What the copies' jobs and events carry (SPEC §8, §10, §11): the conversation's channel goes from the
 * stored message's event through its job to `message.media_stored`; no event carries a copy's storage key.
 */
import { describe, expect, it } from 'vitest';
import type { TimelineItem } from '#contracts/conversation-records';
import { mediaJobsOf } from '#contracts/media-job';
import type { PublicConversationEvent } from '#contracts/public-event';
import { editChange, itemChange } from '#conversations/changes';
import { mediaChange } from '#media/media-view';
import { only } from '#testkit/pick';

const received = (channel: 'messenger' | 'instagram'): PublicConversationEvent => ({
  id: '0b3f5c1e-2a4d-8e6f-9a1b-2c3d4e5f6a7b',
  type: 'message.received',
  time: '2026-12-01T10:00:00.000Z',
  version: 1,
  pageId: channel === 'instagram' ? '17841400000000437' : '108374925610437',
  channel,
  userId: 'u1',
  seq: 1,
  data: {
    mid: 'm1',
    attachments: [
      {
        type: 'image',
        url: 'https://scontent.xx.fbcdn.net/a.jpg',
        payload: { url: 'https://scontent.xx.fbcdn.net/a.jpg' },
      },
    ],
  },
});

describe('media jobs and events', () => {
  it('carry an Instagram conversation’s channel from its message to message.media_stored', () => {
    const ig = only(mediaJobsOf([received('instagram')]), 'job');
    const messenger = only(mediaJobsOf([received('messenger')]), 'job');
    expect([ig.channel, messenger.channel]).toEqual(['instagram', undefined]);
    const stored = { type: 'image', stored: { size: 1, contentType: 'image/jpeg', sha256: 'ab' } };
    expect(mediaChange(ig, stored, 1).channel).toBe('instagram');
    expect(mediaChange(messenger, stored, 1).channel).toBeUndefined();
  });

  it('never put a copy’s storage key in a message’s or an edit’s event', () => {
    const item: TimelineItem = {
      pageId: 'p1',
      userId: 'u1',
      mid: 'm1',
      kind: 'message',
      direction: 'in',
      timestamp: 1,
      text: 'edited',
      attachments: [
        {
          type: 'image',
          url: 'https://scontent.xx.fbcdn.net/a.jpg',
          stored: { size: 1, contentType: 'image/jpeg', sha256: 'ab' },
          mediaKey: 'media/abc/0',
        },
      ],
    };
    for (const change of [itemChange(item), editChange(item, 2, 2)]) {
      expect(JSON.stringify(change.data)).not.toContain('media/abc/0');
      expect(change.data.attachments).toEqual([
        {
          type: 'image',
          url: 'https://scontent.xx.fbcdn.net/a.jpg',
          stored: { size: 1, contentType: 'image/jpeg', sha256: 'ab' },
        },
      ]);
    }
  });
});
