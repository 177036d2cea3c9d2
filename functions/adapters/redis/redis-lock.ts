import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { type ConversationLock, LockUnavailableError } from '#ports/conversation-lock';
import { backoffMs, sleep } from '#runtime/backoff';
import type { Deadline } from '#runtime/deadline';
import { logger } from '#runtime/observability';

/** The slice of a logger the lock writes to (the shared Powertools logger by default). */
export interface LockLog {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

export interface RedisLockOptions {
  /** How long a taken lock lives unless released; must exceed the longest work (default 90 s). */
  ttlMs?: number;
  /** How long to wait for a contended lock before giving up with `LockUnavailableError` (default 5 s). */
  waitMs?: number;
  /** First back-off step; steps double up to `retryMaxMs`, with equal jitter (default 25 ms). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Tests only: a fake clock drives the back-off; `random` in [0, 1) for the jitter. */
  clock?: { now(): number; sleep(ms: number): Promise<void> };
  random?: () => number;
  log?: LockLog;
}

/** Outlives the processor's 60 s timeout, so a lock is never lost while its holder still works. */
export const DEFAULT_LOCK_TTL_MS = 90_000;
const PREFIX = 'pagewire:lock:';

/**
 * Connect on first use; commands sent meanwhile wait in ioredis's offline queue, and each fails after
 * `commandTimeout` (or one reconnect attempt), so a Redis that is down fails the record quickly and
 * SQS retries it. Host, credentials, database and TLS (`rediss://`) come from the URL, parsed by ioredis.
 */
export const LOCK_CLIENT_OPTIONS: RedisOptions = Object.freeze({
  lazyConnect: true,
  maxRetriesPerRequest: 1,
  connectTimeout: 2_000,
  commandTimeout: 1_000,
  retryStrategy: (times: number) => backoffMs(times, { baseMs: 100, maxMs: 2_000, jitter: 'none' }),
});

type LockClient = Redis & { releaseLock(key: string, token: string): Promise<number> };

/** A client for the lock at `url` (not connected until first used), with the compare-and-delete. */
export function redisClient(url: string): LockClient {
  const client = new Redis(url, { ...LOCK_CLIENT_OPTIONS }) as LockClient;
  // Only the holder of the token may release, never whoever holds the key now.
  client.defineCommand('releaseLock', {
    numberOfKeys: 1,
    lua: "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
  });
  return client;
}

/**
 * The conversation lock on Redis/Valkey: `SET key token NX PX ttl` (a fresh token per acquisition), a
 * compare-and-delete release, a bounded wait with back-off in between. Not fair, not FIFO on purpose:
 * ordering belongs to the SQS FIFO group; when the lock cannot be taken in time the record fails.
 */
export class RedisLock implements ConversationLock {
  private readonly ttlMs: number;
  private readonly log: LockLog;
  private readonly clock;
  private lastConnectionError = '';

  constructor(
    private readonly client: LockClient,
    private readonly options: RedisLockOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_LOCK_TTL_MS;
    this.log = options.log ?? logger;
    this.clock = options.clock ?? { now: Date.now, sleep };
    // One line per outage, not one per reconnect attempt; without a listener ioredis prints to stderr.
    client.on('error', (err: Error) => {
      if (!this.lastConnectionError)
        this.log.warn('conversation lock: Redis connection error', { error: err.message });
      this.lastConnectionError = err.message;
    });
    client.on('ready', () => {
      this.lastConnectionError = '';
    });
  }

  /** The wait for a contended lock never outlasts `deadline`. */
  async withLock<T>(key: string, work: () => Promise<T>, deadline: Deadline): Promise<T> {
    const token = await this.acquire(key, deadline);
    const acquiredAt = this.clock.now();
    try {
      return await work();
    } finally {
      const heldMs = this.clock.now() - acquiredAt;
      if (heldMs >= this.ttlMs)
        this.log.warn('conversation lock expired before its work finished', { key, heldMs });
      await this.release(key, token);
    }
  }

  /** The back-off before retry `attempt` (1-based): equal jitter over `min(max, base · 2^(attempt-1))`. */
  backoffMs(attempt: number): number {
    const { retryBaseMs: baseMs = 25, retryMaxMs: maxMs = 500, random = Math.random } = this.options;
    return backoffMs(attempt, { baseMs, maxMs: Math.max(baseMs, maxMs), jitter: 'equal' }, random);
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private async acquire(key: string, invocation: Deadline): Promise<string> {
    const token = randomUUID();
    const started = this.clock.now();
    const giveUpAt =
      started + Math.max(0, Math.min(this.options.waitMs ?? 5_000, invocation.remainingMs(started)));
    for (let attempt = 1; ; attempt++) {
      let reply: string | null;
      try {
        reply = await this.client.set(PREFIX + key, token, 'PX', this.ttlMs, 'NX');
      } catch (err) {
        // The SET may have landed although its answer did not (a timeout): give it back, best effort.
        this.client.releaseLock(PREFIX + key, token).catch(() => {});
        // No `cause`: ioredis errors can carry a command's arguments, AUTH's password among them.
        const why = [describe(err), this.lastConnectionError].filter(Boolean).join('; ');
        throw new LockUnavailableError(key, 'backend', `Redis unavailable: ${why}`);
      }
      if (reply === 'OK') return token;
      const remaining = giveUpAt - this.clock.now();
      if (remaining <= 0) {
        const detail = `held by another consumer for the whole wait (${this.clock.now() - started} ms, ${attempt} attempts)`;
        throw new LockUnavailableError(key, 'contended', detail);
      }
      await this.clock.sleep(Math.min(remaining, this.backoffMs(attempt)));
    }
  }

  private async release(key: string, token: string): Promise<void> {
    try {
      if ((await this.client.releaseLock(PREFIX + key, token)) !== 1) {
        this.log.warn('conversation lock was no longer ours at release (expired); left to its holder', {
          key,
        });
      }
    } catch (err) {
      // Never thrown over the work's outcome: the lock expires by itself after ttlMs.
      this.log.error('conversation lock release failed; it expires by itself', { key, error: describe(err) });
    }
  }
}

export function redisLockFromUrl(url: string, options: RedisLockOptions = {}): RedisLock {
  (options.log ?? logger).info('conversation lock: Redis', { url: redactRedisUrl(url) });
  return new RedisLock(redisClient(url), options);
}

/** The URL with its credentials (`user:pass@`, password-like query parameters) replaced by `***`. */
export function redactRedisUrl(url: string): string {
  // Query values first: one may hold an `@`, which the user-info rule (up to the last `@`) would take
  // for the end of the user info and leave the rest of the password in view.
  return url
    .replace(/([?&](?:password|pass|auth|token|secret)=)[^&#]*/gi, '$1***')
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, (_m, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
