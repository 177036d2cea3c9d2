import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { lockFromUrl } from '#adapters/redis/lock-from-url';
import {
  type LockLog,
  RedisLock,
  type RedisLockOptions,
  redactRedisUrl,
  redisClient,
  redisLockFromUrl,
} from '#adapters/redis/redis-lock';
import { LockUnavailableError, NoLock } from '#ports/conversation-lock';
import { deadlineAt, NO_DEADLINE } from '#runtime/deadline';
import { at, first, present } from '#testkit/pick';
import {
  freePort,
  redisServerAvailableOrSkip,
  startRedisServer,
  type TestRedisServer,
} from '#testkit/redis-server';

const PREFIX = 'pagewire:lock:';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const newKey = () => `page-1:user-${randomUUID()}`;

interface LogEntry {
  level: 'info' | 'warn' | 'error';
  message: string;
  extra: Record<string, unknown>;
}

function captureLog(): LockLog & { entries: LogEntry[]; text(): string } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (message: string, extra: Record<string, unknown>): void => {
      entries.push({ level, message, extra });
    };
  return {
    entries,
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    text: () => JSON.stringify(entries),
  };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function expectLockError(run: Promise<unknown>): Promise<LockUnavailableError> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LockUnavailableError);
  return err as LockUnavailableError;
}

describe('conversation lock without Redis', () => {
  it('NoLock runs the work directly and passes its outcome through', async () => {
    const lock = new NoLock();
    await expect(lock.withLock('k', async () => 42, NO_DEADLINE)).resolves.toBe(42);
    const boom = new Error('boom');
    await expect(
      lock.withLock(
        'k',
        async () => {
          throw boom;
        },
        NO_DEADLINE,
      ),
    ).rejects.toBe(boom);
  });

  // A malformed LOCK_REDIS_URL is refused (without its value) by the environment contract: env.test.ts.
  it('lockFromUrl: no (or a blank) LOCK_REDIS_URL means no lock', async () => {
    expect(await lockFromUrl({})).toBeInstanceOf(NoLock);
    expect(await lockFromUrl({ url: '  ' })).toBeInstanceOf(NoLock);
  });

  it.each([
    ['redis://cache.local:6379', 'redis://cache.local:6379'],
    [
      'rediss://default:s3cr%40t@cache.serverless.use1.cache.amazonaws.com:6379/0',
      'rediss://***@cache.serverless.use1.cache.amazonaws.com:6379/0',
    ],
    ['redis://:onlypass@127.0.0.1:6380', 'redis://***@127.0.0.1:6380'],
    ['redis://user:pa/ss@host', 'redis://***@host'],
    ['redis://user:p@ss@host:1', 'redis://***@host:1'],
    ['user:pass@host', '***@host'],
    ['redis://host:6379?password=secret&db=1', 'redis://host:6379?password=***&db=1'],
    ['redis://cache:6379/0?password=hunt3r@Secret42', 'redis://cache:6379/0?password=***'],
  ])('redactRedisUrl(%s)', (url, expected) => {
    expect(redactRedisUrl(url)).toBe(expected);
  });

  it('redisClient: rediss:// turns TLS on; fail-fast timeouts; credentials decoded', () => {
    const tls = redisClient('rediss://app:s3cr%40t@cache.example.com:6380/2');
    const plain = redisClient('redis://localhost');
    try {
      expect(tls.options).toMatchObject({
        host: 'cache.example.com',
        port: 6380,
        db: 2,
        username: 'app',
        password: 's3cr@t',
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        connectTimeout: 2_000,
        commandTimeout: 1_000,
      });
      expect(tls.options.tls).toBeTruthy();
      expect(plain.options).toMatchObject({ host: 'localhost', port: 6379, db: 0 });
      expect(plain.options.tls).toBeUndefined();
      expect(plain.options.password).toBeFalsy();
      expect(tls.status).toBe('wait'); // nothing connects before the first command
    } finally {
      tls.disconnect();
      plain.disconnect();
    }
  });

  it('back-off: equal jitter within [ceiling/2, ceiling], doubling up to retryMaxMs', () => {
    const client = redisClient('redis://localhost');
    const low = new RedisLock(client, { retryBaseMs: 10, retryMaxMs: 160, random: () => 0 });
    const high = new RedisLock(client, { retryBaseMs: 10, retryMaxMs: 160, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => low.backoffMs(n))).toEqual([5, 10, 20, 40, 80, 80, 80]);
    expect([1, 2, 3, 4, 5, 6].map((n) => Math.round(high.backoffMs(n)))).toEqual([10, 20, 40, 80, 160, 160]);
    client.disconnect();
  });
});

const available = redisServerAvailableOrSkip('redis-lock integration tests');

describe.skipIf(!available)('RedisLock against a real redis-server', () => {
  let server: TestRedisServer;
  let raw: Redis;
  const closers: Array<() => Promise<unknown>> = [];

  const newLock = (options: RedisLockOptions = {}): RedisLock => {
    const lock = redisLockFromUrl(server.url, { log: captureLog(), ...options });
    closers.push(() => lock.close());
    return lock;
  };

  beforeAll(async () => {
    server = await startRedisServer();
    raw = new Redis(server.url);
    closers.push(() => raw.quit());
  });

  afterAll(async () => {
    await Promise.allSettled(closers.map((close) => close()));
    await server?.stop();
  });

  it('50 concurrent calls on one key never overlap (5 consumers, each its own connection)', async () => {
    const consumers = Array.from({ length: 5 }, () =>
      newLock({ retryBaseMs: 2, retryMaxMs: 20, waitMs: 20_000 }),
    );
    const key = newKey();
    let active = 0;
    let maxActive = 0;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        present(consumers[i % consumers.length], 'consumers[i % consumers.length]').withLock(
          key,
          async () => {
            active++;
            maxActive = Math.max(maxActive, active);
            await sleep(1);
            active--;
            return i;
          },
          NO_DEADLINE,
        ),
      ),
    );
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(maxActive).toBe(1);
    expect(await raw.exists(PREFIX + key)).toBe(0);
  });

  it('different keys are held at the same time', async () => {
    const lock = newLock({ waitMs: 200 });
    const [a, b] = [deferred(), deferred()];
    const meet = async (mine: ReturnType<typeof deferred>, other: ReturnType<typeof deferred>) => {
      mine.resolve();
      await Promise.race([
        other.promise,
        sleep(2_000).then(() => {
          throw new Error('the other key was not held concurrently');
        }),
      ]);
      return 'met';
    };
    const both = await Promise.all([
      lock.withLock(newKey(), () => meet(a, b), NO_DEADLINE),
      lock.withLock(newKey(), () => meet(b, a), NO_DEADLINE),
    ]);
    expect(both).toEqual(['met', 'met']);
  });

  it('takes the lock with SET NX PX under the prefix, a fresh token each time, and releases it', async () => {
    const lock = newLock({ ttlMs: 7_000 });
    const key = newKey();
    const seen: Array<{ token: string | null; pttl: number }> = [];
    for (let i = 0; i < 2; i++) {
      await lock.withLock(
        key,
        async () => {
          seen.push({ token: await raw.get(PREFIX + key), pttl: await raw.pttl(PREFIX + key) });
        },
        NO_DEADLINE,
      );
    }
    expect(first(seen, 'seen').token).toMatch(/^[0-9a-f-]{36}$/);
    expect(at(seen, 1, 'seen').token).toMatch(/^[0-9a-f-]{36}$/);
    expect(at(seen, 1, 'seen').token).not.toBe(first(seen, 'seen').token);
    for (const { pttl } of seen) expect(pttl).toBeGreaterThan(6_000);
    expect(await raw.exists(PREFIX + key)).toBe(0);
  });

  it('releases only its own lock: after its TTL ran out and B took it, A leaves B alone', async () => {
    const logA = captureLog();
    const a = newLock({ ttlMs: 100, log: logA });
    const b = newLock({ ttlMs: 10_000, waitMs: 3_000, retryBaseMs: 5, retryMaxMs: 20 });
    const key = newKey();
    const aStarted = deferred();
    const runA = a.withLock(
      key,
      async () => {
        aStarted.resolve();
        await sleep(350); // outlives A's 100 ms TTL
        return 'a';
      },
      NO_DEADLINE,
    );
    await aStarted.promise;
    const runB = b.withLock(
      key,
      async () => {
        const mine = await raw.get(PREFIX + key);
        await runA; // A finishes (and tries to release) while B holds the lock
        return { mine, afterA: await raw.get(PREFIX + key) };
      },
      NO_DEADLINE,
    );
    await expect(runA).resolves.toBe('a');
    const { mine, afterA } = await runB;
    expect(mine).toMatch(/^[0-9a-f-]{36}$/);
    expect(afterA).toBe(mine); // A's compare-and-delete did not touch B's lock
    expect(await raw.exists(PREFIX + key)).toBe(0); // B released its own
    expect(logA.entries.map((e) => [e.level, e.message])).toEqual(
      expect.arrayContaining([
        ['warn', expect.stringContaining('expired before its work finished')],
        ['warn', expect.stringContaining('no longer ours')],
      ]),
    );
  });

  it('gives up after waitMs with LockUnavailableError naming the key; the work never runs', async () => {
    const lock = newLock({ waitMs: 250, retryBaseMs: 10, retryMaxMs: 50 });
    const key = newKey();
    await raw.set(PREFIX + key, 'another-consumer', 'PX', 10_000);
    const work = vi.fn(async () => 'ran');
    const started = Date.now();
    const err = await expectLockError(lock.withLock(key, work, NO_DEADLINE));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(240);
    expect(elapsed).toBeLessThan(5_000); // bounded wait, not a hang;
    expect(work).not.toHaveBeenCalled();
    expect(err.reason).toBe('contended');
    expect(err.key).toBe(key);
    expect(err.message).toContain(key);
    expect(err.message).not.toContain('redis://');
    expect(await raw.get(PREFIX + key)).toBe('another-consumer');
  });

  it('backs off exponentially with jitter until exactly waitMs (fake clock)', async () => {
    let now = 0;
    const delays: number[] = [];
    const lock = newLock({
      waitMs: 1_000,
      retryBaseMs: 10,
      retryMaxMs: 160,
      random: () => 0.5,
      clock: {
        now: () => now,
        sleep: async (ms) => {
          delays.push(ms);
          now += ms;
        },
      },
    });
    const key = newKey();
    await raw.set(PREFIX + key, 'another-consumer', 'PX', 10_000);
    const err = await expectLockError(lock.withLock(key, async () => 'ran', NO_DEADLINE));
    expect(delays.slice(0, 6)).toEqual([7.5, 15, 30, 60, 120, 120]);
    expect(delays.reduce((sum, d) => sum + d, 0)).toBe(1_000);
    expect(err.message).toContain(`${delays.length + 1} attempts`);
  });

  it('never waits beyond the invocation deadline passed in', async () => {
    const lock = newLock({ waitMs: 5_000 });
    const key = newKey();
    await raw.set(PREFIX + key, 'another-consumer', 'PX', 10_000);
    const started = Date.now();
    const err = await expectLockError(lock.withLock(key, async () => 'ran', { remainingMs: () => 0 }));
    expect(Date.now() - started).toBeLessThan(10_000); // fails fast: no hang
    expect(err.message).toContain('1 attempts');
  });

  it('a deadline that leaves time bounds the wait to what is left of it, not to waitMs', async () => {
    let now = 1_000;
    const lock = newLock({
      waitMs: 5_000,
      retryBaseMs: 100,
      retryMaxMs: 100,
      random: () => 0.999999,
      clock: {
        now: () => now,
        sleep: async (ms) => {
          now += ms;
        },
      },
    });
    const key = newKey();
    await raw.set(PREFIX + key, 'another-consumer', 'PX', 10_000);
    const err = await expectLockError(lock.withLock(key, async () => 'ran', deadlineAt(1_300)));
    expect(err.message).toContain('(300 ms,'); // waitMs alone would have waited 5,000 ms
  });

  it("a failing work still releases the lock, and the work's own error comes out", async () => {
    const lock = newLock({ waitMs: 100 });
    const key = newKey();
    const boom = new Error('work failed');
    await expect(
      lock.withLock(
        key,
        async () => {
          throw boom;
        },
        NO_DEADLINE,
      ),
    ).rejects.toBe(boom);
    expect(await raw.exists(PREFIX + key)).toBe(0);
    await expect(lock.withLock(key, async () => 'again', NO_DEADLINE)).resolves.toBe('again');
  });

  it("a failing release is logged, not thrown over the work's result; the TTL is the backstop", async () => {
    const log = captureLog();
    const client = redisClient(server.url);
    closers.push(async () => client.disconnect());
    const lock = new RedisLock(client, { ttlMs: 2_000, log });
    vi.spyOn(client, 'releaseLock').mockRejectedValue(new Error('release exploded'));
    const key = newKey();
    await expect(lock.withLock(key, async () => 'result', NO_DEADLINE)).resolves.toBe('result');
    const boom = new Error('work failed');
    await expect(
      lock.withLock(
        newKey(),
        async () => {
          throw boom;
        },
        NO_DEADLINE,
      ),
    ).rejects.toBe(boom);
    expect(log.entries.filter((e) => e.level === 'error')).toHaveLength(2);
    expect(log.entries[0]).toMatchObject({ extra: { key, error: 'release exploded' } });
    const pttl = await raw.pttl(PREFIX + key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(2_000);
  });

  it('200 GET+SET increments from 20 concurrent consumers under the lock end at exactly 200', async () => {
    const counter = `pagewire:test:counter:${randomUUID()}`;
    const increment = async () => {
      const value = Number((await raw.get(counter)) ?? '0');
      await sleep(Math.random() * 2);
      await raw.set(counter, String(value + 1));
    };
    const consumers = Array.from({ length: 20 }, () =>
      newLock({ retryBaseMs: 2, retryMaxMs: 10, waitMs: 30_000 }),
    );
    await Promise.all(
      consumers.map(async (lock) => {
        for (let i = 0; i < 10; i++) await lock.withLock('counter', increment, NO_DEADLINE);
      }),
    );
    expect(await raw.get(counter)).toBe('200');

    // The same workload without the lock loses updates, so the assertion above means something.
    const unlocked = new NoLock();
    await raw.del(counter);
    await Promise.all(
      consumers.map(async () => {
        for (let i = 0; i < 10; i++) await unlocked.withLock('counter', increment, NO_DEADLINE);
      }),
    );
    expect(Number(await raw.get(counter))).toBeLessThan(200);
  });

  it('lockFromUrl: LOCK_REDIS_URL set means a working RedisLock; its log line hides the password', async () => {
    const log = captureLog();
    const url = server.url.replace('redis://', 'redis://:hunter2@');
    const lock = await lockFromUrl({ url }, { log });
    closers.push(() => lock.close());
    expect(lock).toBeInstanceOf(RedisLock);
    expect(log.text()).toContain('redis://***@127.0.0.1');
    expect(log.text()).not.toContain('hunter2');
    await expect(lock.withLock(newKey(), async () => 'ran', NO_DEADLINE)).resolves.toBe('ran'); // nopass user
    expect(log.text()).not.toContain('hunter2');

    const open = await lockFromUrl({ url: server.url }, { log });
    closers.push(() => open.close());
    expect(open).toBeInstanceOf(RedisLock);
    await expect(open.withLock(newKey(), async () => 'ran', NO_DEADLINE)).resolves.toBe('ran');
  });

  describe('when Redis is not there, it fails fast instead of hanging', () => {
    it('nothing listening on the port', async () => {
      const port = await freePort();
      const log = captureLog();
      const lock = redisLockFromUrl(`redis://user:hunter2@127.0.0.1:${port}`, { log });
      closers.push(() => lock.close());
      const work = vi.fn(async () => 'ran');
      const started = Date.now();
      const err = await expectLockError(lock.withLock(newKey(), work, NO_DEADLINE));
      expect(Date.now() - started).toBeLessThan(10_000); // fails fast: no hang
      expect(err.reason).toBe('backend');
      expect(err.message).toMatch(/ECONNREFUSED/);
      expect(err.message).not.toContain('hunter2');
      expect(log.text()).not.toContain('hunter2');
      expect(work).not.toHaveBeenCalled();
    });

    it('a wrong password', async () => {
      const guarded = await startRedisServer(['--requirepass', 'right-one']);
      try {
        const log = captureLog();
        const lock = redisLockFromUrl(guarded.url.replace('redis://', 'redis://:hunter2@'), { log });
        closers.push(() => lock.close());
        const started = Date.now();
        const err = await expectLockError(lock.withLock(newKey(), async () => 'ran', NO_DEADLINE));
        expect(Date.now() - started).toBeLessThan(10_000); // fails fast: no hang
        expect(err.reason).toBe('backend');
        expect(err.message).not.toContain('hunter2');
        expect(log.text()).not.toContain('hunter2');
        // What the processor's logger would print of it: no `cause` carrying ioredis's AUTH arguments.
        expect(err.cause).toBeUndefined();
        expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).not.toContain('hunter2');
        const right = redisLockFromUrl(guarded.url.replace('redis://', 'redis://:right-one@'), { log });
        closers.push(() => right.close());
        await expect(right.withLock(newKey(), async () => 'ran', NO_DEADLINE)).resolves.toBe('ran');
      } finally {
        await guarded.stop();
      }
    });

    it('the server goes away after the lock was in use', async () => {
      const doomed = await startRedisServer();
      const lock = redisLockFromUrl(doomed.url, { log: captureLog() });
      closers.push(() => lock.close());
      await expect(lock.withLock(newKey(), async () => 'before', NO_DEADLINE)).resolves.toBe('before');
      await doomed.stop();
      const started = Date.now();
      const err = await expectLockError(lock.withLock(newKey(), async () => 'after', NO_DEADLINE));
      expect(Date.now() - started).toBeLessThan(10_000); // fails fast: no hang
      expect(err.reason).toBe('backend');
    });

    it('a peer that accepts the connection and never answers (black hole)', async () => {
      const sockets: Socket[] = [];
      const silent: Server = createServer((socket) => {
        sockets.push(socket);
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as { port: number };
      const lock = redisLockFromUrl(`redis://127.0.0.1:${port}`, { log: captureLog() });
      try {
        const started = Date.now();
        const err = await expectLockError(lock.withLock(newKey(), async () => 'ran', NO_DEADLINE));
        expect(Date.now() - started).toBeLessThan(10_000); // fails fast: no hang
        expect(err.reason).toBe('backend');
      } finally {
        await lock.close();
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it('a closed lock refuses work', async () => {
      const lock = newLock();
      await lock.close();
      const err = await expectLockError(lock.withLock(newKey(), async () => 'ran', NO_DEADLINE));
      expect(err.reason).toBe('backend');
    });
  });
});
