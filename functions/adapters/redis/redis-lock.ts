import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { type ConversationLock, LockUnavailableError, NoLock } from '#ports/conversation-lock';
import { backoffMs, sleep } from '#runtime/backoff';
import { type Deadline, deadlineOr } from '#runtime/deadline';
import { logger } from '#runtime/observability';

/** Compare-and-delete: only the holder of the token may release, never whoever holds the key now. */
export const RELEASE_SCRIPT =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export interface LockClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The slice of a logger the lock writes to (the shared Powertools logger by default). */
export interface LockLog {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

export interface RedisLockOptions {
  /** How long a taken lock lives unless released; must exceed the longest work (default 30 s). */
  ttlMs?: number;
  /** How long to wait for a contended lock before giving up with `LockUnavailableError` (default 5 s). */
  waitMs?: number;
  /** First back-off step; steps double up to `retryMaxMs`, with jitter (default 25 ms). */
  retryBaseMs?: number;
  /** Largest back-off step (default 500 ms). */
  retryMaxMs?: number;
  /** How long to wait for a connection that is not ready (connecting, reconnecting) (default 2 s). */
  connectWaitMs?: number;
  /** Prepended to every key (default `pagewire:lock:`). */
  keyPrefix?: string;
  /** Tests only: a fake clock drives the back-off. */
  clock?: Partial<LockClock>;
  /** Tests only: in [0, 1), for the jitter. */
  random?: () => number;
  log?: LockLog;
}

const SYSTEM_CLOCK: LockClock = {
  now: () => Date.now(),
  sleep,
};

/**
 * The conversation lock on Redis/Valkey: `SET key token NX PX ttl` to take it (a fresh random token per
 * acquisition), a Lua compare-and-delete to release it, a bounded wait with exponential back-off and
 * jitter in between. Not fair and not FIFO on purpose: ordering belongs to the SQS FIFO group; when the
 * lock cannot be taken in time the caller's record fails and the queue redelivers it, in order.
 */
export class RedisLock implements ConversationLock {
  private readonly ttlMs: number;
  private readonly waitMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly connectWaitMs: number;
  private readonly keyPrefix: string;
  private readonly clock: LockClock;
  private readonly random: () => number;
  private readonly log: LockLog;
  private pendingReady: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly client: Redis,
    options: RedisLockOptions = {},
  ) {
    this.ttlMs = positiveInt('ttlMs', options.ttlMs ?? 30_000);
    this.waitMs = nonNegative('waitMs', options.waitMs ?? 5_000);
    this.retryBaseMs = positiveInt('retryBaseMs', options.retryBaseMs ?? 25);
    this.retryMaxMs = Math.max(this.retryBaseMs, positiveInt('retryMaxMs', options.retryMaxMs ?? 500));
    this.connectWaitMs = positiveInt('connectWaitMs', options.connectWaitMs ?? 2_000);
    this.keyPrefix = options.keyPrefix ?? 'pagewire:lock:';
    this.clock = { ...SYSTEM_CLOCK, ...options.clock };
    this.random = options.random ?? Math.random;
    this.log = options.log ?? logger;
  }

  /** The wait for a contended lock never outlasts `deadline` (omitted: the invocation's ambient one). */
  async withLock<T>(key: string, work: () => Promise<T>, deadline?: Deadline): Promise<T> {
    const redisKey = this.keyPrefix + key;
    const token = await this.acquire(key, redisKey, deadlineOr(deadline));
    const acquiredAt = this.clock.now();
    try {
      return await work();
    } finally {
      const heldMs = this.clock.now() - acquiredAt;
      if (heldMs >= this.ttlMs) {
        this.log.warn('conversation lock expired before its work finished; another consumer may have run', {
          key,
          heldMs,
          ttlMs: this.ttlMs,
        });
      }
      await this.release(key, redisKey, token);
    }
  }

  /** The back-off before retry `attempt` (1-based): equal jitter over `min(max, base · 2^(attempt-1))`. */
  backoffMs(attempt: number): number {
    return backoffMs(
      attempt,
      { baseMs: this.retryBaseMs, maxMs: this.retryMaxMs, jitter: 'equal' },
      this.random,
    );
  }

  /** Closes the Redis client (the lock is unusable afterwards). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.client.status === 'ready') {
      await this.client.quit().catch(() => this.client.disconnect());
    } else if (this.client.status !== 'end') {
      // Never `quit` an unconnected client: any command would connect it first.
      this.client.disconnect();
    }
  }

  private async acquire(key: string, redisKey: string, invocation: Deadline): Promise<string> {
    const token = randomUUID();
    const started = this.clock.now();
    const deadline = started + Math.max(0, Math.min(this.waitMs, invocation.remainingMs()));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.ready();
      } catch (err) {
        // No `cause`: ioredis errors carry the command's arguments, AUTH's password among them.
        throw new LockUnavailableError(key, 'backend', `Redis unavailable: ${describe(err)}`);
      }
      let reply: string | null;
      try {
        reply = await this.client.set(redisKey, token, 'PX', this.ttlMs, 'NX');
      } catch (err) {
        // The SET may have landed although its answer did not (a timeout): give it back, best effort,
        // so the conversation is not blocked for a whole TTL.
        void this.releaseQuietly(redisKey, token);
        throw new LockUnavailableError(key, 'backend', `Redis error: ${describe(err)}`);
      }
      if (reply === 'OK') return token;
      const now = this.clock.now();
      const remaining = deadline - now;
      if (remaining <= 0) {
        throw new LockUnavailableError(
          key,
          'contended',
          `held by another consumer for the whole wait (${now - started} ms, ${attempt} attempts)`,
        );
      }
      await this.clock.sleep(Math.min(remaining, this.backoffMs(attempt)));
    }
  }

  private async release(key: string, redisKey: string, token: string): Promise<void> {
    try {
      await this.ready();
      const deleted = await this.client.eval(RELEASE_SCRIPT, 1, redisKey, token);
      if (Number(deleted) !== 1) {
        this.log.warn('conversation lock was no longer ours at release (expired); left to its holder', {
          key,
          ttlMs: this.ttlMs,
        });
      }
    } catch (err) {
      // Never thrown over the work's outcome: the lock expires by itself after ttlMs.
      this.log.error('conversation lock release failed; it expires by itself', {
        key,
        ttlMs: this.ttlMs,
        error: describe(err),
      });
    }
  }

  private async releaseQuietly(redisKey: string, token: string): Promise<void> {
    try {
      if (this.client.status === 'ready') await this.client.eval(RELEASE_SCRIPT, 1, redisKey, token);
    } catch {
      // best effort; the TTL is the backstop
    }
  }

  /**
   * Resolves once the client can take commands. With `lazyConnect` and the offline queue disabled, a
   * command sent before `ready` fails at once, so the first call (and every call during a reconnect)
   * waits here, at most `connectWaitMs`, and a connection error fails it straight away.
   */
  private ready(): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('the lock has been closed'));
    this.pendingReady ??= this.waitForReady().finally(() => {
      this.pendingReady = undefined;
    });
    return this.pendingReady;
  }

  private waitForReady(): Promise<void> {
    const client = this.client;
    return new Promise<void>((resolve, reject) => {
      const settle = (err?: Error) => {
        clearTimeout(timer);
        client.off('ready', onReady);
        client.off('error', onError);
        client.off('end', onEnd);
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => settle();
      const onError = (err: Error) => settle(err);
      const onEnd = () => settle(new Error('connection ended'));
      const timer = setTimeout(
        () => settle(new Error(`not ready within ${this.connectWaitMs} ms (status ${client.status})`)),
        this.connectWaitMs,
      );
      client.on('ready', onReady);
      client.on('error', onError);
      client.on('end', onEnd);
      // Connection errors arrive through the 'error' event above.
      if (client.status === 'wait' || client.status === 'end') client.connect().catch(() => {});
    });
  }
}

/**
 * The lock's client options: connect on first use, never queue commands while disconnected, short
 * timeouts, so an unreachable Redis fails the record quickly (and SQS retries it) instead of hanging
 * the invocation. Host, port, credentials, database and TLS (`rediss://`, which ElastiCache Serverless
 * requires) come from the URL, parsed by ioredis itself.
 */
export const LOCK_CLIENT_OPTIONS: RedisOptions = Object.freeze({
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 2,
  connectTimeout: 2_000,
  commandTimeout: 1_000,
  // Background reconnects: quick at first, then at most every 2 s.
  retryStrategy: (times: number) => backoffMs(times, { baseMs: 100, maxMs: 2_000, jitter: 'none' }),
});

/** Throws (naming what is wrong, never the credentials) unless `url` is a usable `redis(s)://` URL. */
export function checkRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`LOCK_REDIS_URL is not a URL: ${redactRedisUrl(url)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`LOCK_REDIS_URL must start with redis:// or rediss://: ${redactRedisUrl(url)}`);
  }
  if (!parsed.hostname) throw new Error(`LOCK_REDIS_URL has no host: ${redactRedisUrl(url)}`);
  if (!/^\/*\d*$/.test(parsed.pathname)) {
    throw new Error(`LOCK_REDIS_URL path must be a database number: ${redactRedisUrl(url)}`);
  }
  return url;
}

/** A client for the lock at `url` (not connected until first used). */
export function redisClient(url: string): Redis {
  return new Redis(checkRedisUrl(url), { ...LOCK_CLIENT_OPTIONS });
}

export function redisLockFromUrl(url: string, options: RedisLockOptions = {}): RedisLock {
  const log = options.log ?? logger;
  const safeUrl = redactRedisUrl(url);
  const client = redisClient(url);
  // One line per outage, not one per reconnect attempt; without a listener ioredis prints to stderr.
  let reported = false;
  client.on('error', (err: Error) => {
    if (reported) return;
    reported = true;
    log.warn('conversation lock: Redis connection error', { url: safeUrl, error: describe(err) });
  });
  client.on('ready', () => {
    reported = false;
  });
  log.info('conversation lock: Redis', { url: safeUrl });
  return new RedisLock(client, { ...options, log });
}

/** Outlives the processor's 60 s timeout, so a lock is never lost while its holder still works. */
export const DEFAULT_LOCK_TTL_MS = 90_000;

/**
 * The lock the environment asks for: Redis when `LOCK_REDIS_URL` is set, else none. `LOCK_TTL_MS`
 * sets how long a lock lives (default 90 s; keep it above the processor's timeout).
 */
export function lockFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options: RedisLockOptions = {},
): RedisLock | NoLock {
  const url = env.LOCK_REDIS_URL?.trim();
  const ttlMs = Number(env.LOCK_TTL_MS) || options.ttlMs || DEFAULT_LOCK_TTL_MS;
  return url ? redisLockFromUrl(url, { ...options, ttlMs }) : new NoLock();
}

/** The URL with its credentials (`user:pass@`, password-like query parameters) replaced by `***`. */
export function redactRedisUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, (_m, scheme: string | undefined) => `${scheme ?? ''}***@`)
    .replace(/([?&](?:password|pass|auth|token|secret)=)[^&#]*/gi, '$1***');
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`RedisLock: ${name} must be a positive integer`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`RedisLock: ${name} must be >= 0`);
  return value;
}
