import type * as z from 'zod/mini';
import type { StoredAttachment } from '#contracts/conversation-records';
import type { MediaJob } from '#contracts/media-job';
import type { Change } from '#events/change-log';
import type { MediaStore } from '#ports/media';

type Attachment = z.infer<typeof StoredAttachment>;

/** An attachment as the admin API shows it: once copied, `url` is the copy's link, `sourceUrl` Meta's. */
export async function attachmentView(
  attachment: Attachment,
  links: Pick<MediaStore, 'linkFor'> | undefined,
): Promise<Record<string, unknown>> {
  const { mediaKey, ...shown } = attachment;
  if (!mediaKey || !attachment.stored || !links) return shown;
  return { ...shown, url: await links.linkFor(mediaKey), sourceUrl: attachment.url };
}

/** A message view (conversations/views.ts) with each copied attachment's link in place of Meta's. */
export async function withMediaLinks<V extends { attachments: Attachment[] }>(
  view: V,
  links: Pick<MediaStore, 'linkFor'> | undefined,
): Promise<V> {
  if (!view.attachments.some((a) => a.mediaKey)) return view;
  const attachments = await Promise.all(view.attachments.map((a) => attachmentView(a, links)));
  return { ...view, attachments } as V;
}

/**
 * A copy finished (or finally failed) as its public event (SPEC §8 `message.media_stored`): the attachment
 * without any link (a presigned link would expire inside the archive; the admin API gives a fresh one),
 * with the message's mid and the attachment's index. One change per attachment, whatever the deliveries.
 */
export function mediaChange(
  ids: Pick<MediaJob, 'pageId' | 'userId' | 'mid' | 'index' | 'channel'>,
  attachment: Attachment,
  at: number,
): Change {
  const { mediaKey: _key, url: _url, payload: _payload, ...shown } = attachment;
  return {
    pageId: ids.pageId,
    userId: ids.userId,
    channel: ids.channel,
    key: `media:${ids.mid}:${ids.index}`,
    type: 'message.media_stored',
    at,
    data: { mid: ids.mid, index: ids.index, ...shown },
  };
}
