import type { Config } from '../commons/config.js';
import { replyPolicy } from '../commons/conversation/messaging-window.js';
import type { GraphClient } from '../commons/graph/graph-client.js';
import { GraphError } from '../commons/graph/graph-error.js';
import { count } from '../commons/observability.js';
import type { PageAccess } from '../commons/pages/page-access.js';
import type { ConversationRepository } from '../commons/store/conversation-repository.js';
import type { TimelineItem } from '../commons/store/records.js';
import { AdminError } from './admin-error.js';

export interface SendDeps {
  access: PageAccess;
  conversations: ConversationRepository;
  graph: GraphClient;
  config: Config;
  now?: () => number;
}

/**
 * `POST …/messages`: a reply through the Send API with the page's own token, inside Messenger's
 * window. The sent message is stored at once as `out`/`sent`; its echo later is the same `mid`,
 * so it is dropped as a duplicate, and delivery/read watermarks move its status on.
 */
export async function sendMessage(deps: SendDeps, pageId: string, userId: string, text: string) {
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
  let messageId: string;
  try {
    ({ messageId } = await deps.graph.sendText(pageId, token, userId, text, policy));
  } catch (err) {
    if (err instanceof GraphError && err.errorClass === 'auth') {
      await deps.access.markReauthRequired(page, err);
      throw new AdminError(
        409,
        'reauth_required',
        `page ${pageId} needs to be connected again: ${err.message}`,
      );
    }
    throw err;
  }
  const item: TimelineItem = {
    pageId,
    userId,
    mid: messageId,
    kind: 'message',
    direction: 'out',
    text,
    timestamp: now,
    status: 'sent',
  };
  await deps.conversations.touch(pageId, userId, { timestamp: now, inbound: false });
  await deps.conversations.putItem(item);
  count('MessagesSent');
  return { item, conversation };
}
