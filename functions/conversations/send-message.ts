import { randomUUID } from 'node:crypto';
import { AdminError } from '#contracts/admin-api';
import type { Config } from '#contracts/config';
import type { TimelineItem } from '#contracts/conversation-records';
import type { PageRecord } from '#contracts/page-record';
import type { ChangeLog } from '#events/change-log';
import type { GraphClient } from '#graph/graph-client';
import { GraphError, GraphNotAttemptedError } from '#graph/graph-error';
import type { PageAccess } from '#pages/page-access';
import type { EventPublisher } from '#ports/event-publisher';
import type { Deadline } from '#runtime/deadline';
import { count, logger } from '#runtime/observability';
import { itemChange } from './changes.js';
import type { ConversationRepository } from './conversation-repository.js';
import { replyPolicy } from './messaging-window.js';

export interface SendDeps {
  access: PageAccess;
  conversations: ConversationRepository;
  graph: GraphClient;
  config: Config;
  /** Where the stored message becomes its public event (SPEC §8); without them, its echo publishes it. */
  changes?: ChangeLog;
  publisher?: EventPublisher;
  now?: () => number;
}

/**
 * `POST …/messages`: a reply through the Send API with the page's own token, inside Messenger's
 * window. The sent message is stored at once as `out`/`sent`; its echo later is the same `mid`,
 * so it is dropped as a duplicate, and delivery/read watermarks move its status on.
 */
export async function sendMessage(
  deps: SendDeps,
  { pageId, userId, text }: { pageId: string; userId: string; text: string },
  deadline: Deadline,
) {
  const now = (deps.now ?? Date.now)();
  const page = await deps.access.page(pageId);
  if (!page || page.status === 'disconnected')
    throw new AdminError(404, 'page_not_found', `page ${pageId} is not connected`);
  const conversation = await deps.conversations.get(pageId, userId);
  if (!conversation)
    throw new AdminError(404, 'conversation_not_found', `no conversation with ${userId} on page ${pageId}`);
  const policy = replyPolicy(conversation.lastInboundAt, now, deps.config.humanAgentReplies);
  if (!policy) {
    throw new AdminError(
      422,
      'outside_messaging_window',
      'the person last wrote more than 24 hours ago; Messenger allows no reply now' +
        (deps.config.humanAgentReplies
          ? ' (nor with HUMAN_AGENT: over 7 days)'
          : ' (HUMAN_AGENT replies are not enabled)'),
    );
  }
  const token = await deps.access.token(page);
  if (!token) throw new AdminError(409, 'reauth_required', `page ${pageId} needs to be connected again`);
  const item: TimelineItem = {
    pageId,
    userId,
    mid: '',
    kind: 'message',
    direction: 'out',
    text,
    timestamp: now,
  };
  try {
    // An Instagram entry sends through its linked page (SPEC §11): `POST /{page-id}/messages`, IGSID recipient.
    const sender = page.channel === 'instagram' ? page.linkedPageId : pageId;
    if (!sender)
      throw new AdminError(409, 'reauth_required', `page ${pageId} has no linked page to send with`);
    const { messageId } = await deps.graph.sendText(sender, token, userId, text, policy, { deadline });
    item.mid = messageId;
    item.status = 'sent';
  } catch (err) {
    const failed: TimelineItem = { ...item, mid: `failed:${randomUUID()}`, status: 'failed' };
    throw await refusedSend(deps, page, failed, err, deadline);
  }
  try {
    await storeOut(deps, item, deadline, page);
  } catch (err) {
    // Sent all the same: its echo will store it. Saying "failed" would invite a second send.
    logger.error('sent message not stored; its echo will store it', { pageId, error: err as Error });
    return { item, conversation, warning: 'sent, but not stored yet: it appears when its echo arrives' };
  }
  count('MessagesSent');
  return { item, conversation };
}

async function storeOut(
  deps: SendDeps,
  item: TimelineItem,
  deadline: Deadline,
  page: PageRecord,
): Promise<void> {
  await deps.conversations.touch(item.pageId, item.userId, { timestamp: item.timestamp, inbound: false });
  const outcome = await deps.conversations.putItem(item);
  if (!deps.changes || !deps.publisher) return;
  // Stored: recorded and published now. If publishing fails, a sent message's echo publishes the same
  // event (it finds it recorded); a refused one has no echo: counted and logged (PublishFailed).
  const change = itemChange(item);
  if (page.channel === 'instagram') change.channel = 'instagram';
  const event = await deps.changes.record(change, { known: outcome === 'duplicate' });
  try {
    await deps.publisher.publish([event], deadline);
  } catch (err) {
    count('PublishFailed');
    logger.error('message stored, its public event not published', {
      pageId: item.pageId,
      error: err as Error,
    });
  }
}

/**
 * What a refused send answers. Meta's refusals (the person is unavailable, outside the window, …) are
 * kept in the conversation as a `failed` message and answered 422 with Meta's words; a refused token
 * is 409; a timeout may have sent the message, so nothing is stored and the caller is told so.
 */
async function refusedSend(
  deps: SendDeps,
  page: PageRecord,
  failed: TimelineItem,
  err: unknown,
  deadline: Deadline,
): Promise<unknown> {
  if (!(err instanceof GraphError)) return err;
  if (err.errorClass === 'auth') {
    await deps.access.markReauthRequired(page, err);
    return new AdminError(
      409,
      'reauth_required',
      `page ${page.pageId} needs to be connected again: ${err.message}`,
    );
  }
  if (err.errorClass === 'permanent') {
    await storeOut(deps, failed, deadline, page);
    count('MessagesRefused');
    return new AdminError(422, 'send_refused', `Messenger refused the message: ${err.message}`);
  }
  if (err instanceof GraphNotAttemptedError) {
    return new AdminError(
      503,
      'send_not_attempted',
      'no time was left to call the Send API: nothing was sent',
    );
  }
  if (err.status === 0) {
    return new AdminError(
      504,
      'send_unconfirmed',
      'the Send API did not answer in time: the message may have been sent',
    );
  }
  return err;
}
