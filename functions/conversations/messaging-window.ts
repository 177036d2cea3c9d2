import type { SendOptions } from '#graph/graph-client';

const HOUR = 3_600_000;
export const STANDARD_WINDOW_MS = 24 * HOUR;
export const HUMAN_AGENT_WINDOW_MS = 7 * 24 * HOUR;

/**
 * Messenger's rule for a reply: free (`RESPONSE`) within 24 hours of the person's last message;
 * up to 7 days with the `HUMAN_AGENT` tag where the app may use it; otherwise not at all.
 */
export function replyPolicy(
  lastInboundAt: number | undefined,
  now: number,
  humanAgentReplies: boolean,
): SendOptions | undefined {
  if (lastInboundAt === undefined) return undefined;
  const age = now - lastInboundAt;
  if (age <= STANDARD_WINDOW_MS) return { messagingType: 'RESPONSE' };
  if (humanAgentReplies && age <= HUMAN_AGENT_WINDOW_MS)
    return { messagingType: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' };
  return undefined;
}
