import type { ConversationLock } from '#ports/conversation-lock';
import { NoLock } from '#ports/conversation-lock';
import type { RedisLockOptions } from './redis-lock.js';

/** The lock's own settings, from the function's parsed environment (contracts/env.ts). */
export interface LockSettings {
  /** LOCK_REDIS_URL: `redis://` or `rediss://`; unset means no lock. */
  url?: string;
  /** LOCK_TTL_MS: how long a lock lives (default 90 s; keep it above the processor's timeout). */
  ttlMs?: number;
}

/**
 * The conversation lock the settings ask for: Redis at `url`, or none. The Redis client is loaded
 * only when a lock is configured: without one, the processor's cold start does not pay for it.
 */
export async function lockFromUrl(
  settings: LockSettings = {},
  options: RedisLockOptions = {},
): Promise<ConversationLock & { close(): Promise<void> }> {
  const url = settings.url?.trim();
  if (!url) return new NoLock();
  const { redisLockFromUrl } = await import('./redis-lock.js');
  return redisLockFromUrl(url, { ...options, ttlMs: settings.ttlMs ?? options.ttlMs });
}
