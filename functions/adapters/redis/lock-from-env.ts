import type { ConversationLock } from '#ports/conversation-lock';
import { NoLock } from '#ports/conversation-lock';

/**
 * The conversation lock the environment asks for (`LOCK_REDIS_URL`), or none. The Redis client is
 * loaded only when a lock is configured: without one, the processor's cold start does not pay for it.
 */
export async function conversationLockFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Promise<ConversationLock & { close(): Promise<void> }> {
  if (!env.LOCK_REDIS_URL?.trim()) return new NoLock();
  const { lockFromEnv } = await import('./redis-lock.js');
  return lockFromEnv(env);
}
