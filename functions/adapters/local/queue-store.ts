import { mkdir } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';
import * as z from 'zod/mini';

/**
 * Where the local stack keeps its queues between runs: one LevelDB under `DATA_DIR/queues`, every
 * queue under its own key prefix, so any local queue (events, page commands, and later forwards and
 * media copies) becomes durable by asking for a journal with its name.
 *
 * Durability: every write is handed to the operating system (LevelDB's log is appended with write(2))
 * before its promise resolves, so it survives the process being stopped, crashing or SIGKILLed. It is
 * not fsynced: an fsync costs about 0.9 ms per write here against 0.1 ms without, and the DynamoDB data
 * the queues feed (dynalite, LevelDB under the same DATA_DIR) is not fsynced either, so syncing the
 * queue alone would not make the stack survive a power cut; a process crash is what it must survive.
 *
 * Writes of all queues go through one ordered pipeline: a write waits for the one before it, and the
 * writes that pile up meanwhile go to disk together in one atomic batch (group commit).
 */

/** One message as a queue keeps it on disk. */
export interface PersistedMessage {
  /** Send order within the queue; also the message's key, so reading the keys back restores the order. */
  seq: number;
  messageId: string;
  groupId: string;
  dedupId: string;
  body: string;
  sentAt: number;
  receiveCount: number;
  /** 0 until the first receive. */
  firstReceivedAt: number;
}

export interface PersistedDeadLetter extends PersistedMessage {
  deadAt: number;
}

/** Everything a queue had on disk when its process ended. */
export interface QueueSnapshot {
  /** In send order. Messages received before (in flight when the process ended) keep their counts. */
  messages: PersistedMessage[];
  /** In send order. */
  deadLetters: PersistedDeadLetter[];
  /** Deduplication keys still inside their window, with the time each expires, oldest first. */
  dedup: Array<[key: string, expiresAt: number]>;
  /** The highest sequence number ever handed out. */
  sequence: number;
}

/** One atomic change of a queue's state on disk. */
export interface QueueChanges {
  sent?: PersistedMessage[];
  sequence?: number;
  dedup?: Array<[key: string, expiresAt: number]>;
  dedupExpired?: string[];
  /** Messages whose receive count (and first receive time) changed. */
  received?: PersistedMessage[];
  /** Messages the consumer finished with. */
  deleted?: number[];
  /** Messages moved to the dead letters. */
  buried?: PersistedDeadLetter[];
  /** Dead letters taken out again (redriven, by sequence number). */
  unburied?: number[];
}

/** The durable side of one queue. */
export interface QueueJournal {
  load(): Promise<QueueSnapshot>;
  /** Resolves once the change is with the operating system; rejects if it is not. */
  write(changes: QueueChanges): Promise<void>;
}

type Operation = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

const QUEUE_NAME = /^[A-Za-z0-9._-]{1,80}$/;
const SEQ_DIGITS = 16;

const MessageValue = z.object({
  id: z.string(),
  g: z.string(),
  d: z.string(),
  b: z.string(),
  t: z.number(),
});
const count = z.int().check(z.nonnegative());
const ReceiveValue = z.object({ n: count, f: z.number() });
const DeadLetterValue = z.extend(MessageValue, {
  n: count,
  f: z.number(),
  at: z.number(),
});

export class LocalQueueStore {
  private pending: Operation[] = [];
  private waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private flushing: Promise<void> | undefined;
  private closed = false;

  private constructor(private readonly db: ClassicLevel<string, string>) {}

  /** Opens (or creates) the store in `dir`; refuses clearly when another process holds it. */
  static async open(dir: string): Promise<LocalQueueStore> {
    await mkdir(dir, { recursive: true });
    const db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      if (cause?.code === 'LEVEL_LOCKED' || (err as { code?: string }).code === 'LEVEL_LOCKED') {
        throw new Error(`the queue folder ${dir} is in use by another process (another npm start?)`);
      }
      throw err;
    }
    return new LocalQueueStore(db);
  }

  journal(queue: string): QueueJournal {
    if (!QUEUE_NAME.test(queue)) throw new Error(`not a queue name: ${JSON.stringify(queue)}`);
    return {
      load: () => this.load(queue),
      write: (changes) => this.write(operations(queue, changes)),
    };
  }

  /** Waits for every write asked for so far, then closes the database. Later writes are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.db.close();
  }

  private write(ops: Operation[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the local queue store is closed'));
    if (ops.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.pending.push(...ops);
      this.waiters.push({ resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    if (this.flushing || this.pending.length === 0) return;
    const ops = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    this.flushing = this.db
      .batch(ops)
      .then(
        () => {
          for (const waiter of waiters) waiter.resolve();
        },
        (err: Error) => {
          for (const waiter of waiters) waiter.reject(err);
        },
      )
      .finally(() => {
        this.flushing = undefined;
        this.flush();
      });
  }

  private async load(queue: string): Promise<QueueSnapshot> {
    const messages = new Map<string, PersistedMessage>();
    for await (const [key, value] of this.range(queue, 'm')) {
      const m = parse(MessageValue, key, value);
      messages.set(key.slice(-SEQ_DIGITS), {
        seq: seqOf(key),
        messageId: m.id,
        groupId: m.g,
        dedupId: m.d,
        body: m.b,
        sentAt: m.t,
        receiveCount: 0,
        firstReceivedAt: 0,
      });
    }
    for await (const [key, value] of this.range(queue, 'r')) {
      const message = messages.get(key.slice(-SEQ_DIGITS));
      if (!message) continue;
      const r = parse(ReceiveValue, key, value);
      message.receiveCount = r.n;
      message.firstReceivedAt = r.f;
    }
    const deadLetters: PersistedDeadLetter[] = [];
    for await (const [key, value] of this.range(queue, 'x')) {
      const d = parse(DeadLetterValue, key, value);
      deadLetters.push({
        seq: seqOf(key),
        messageId: d.id,
        groupId: d.g,
        dedupId: d.d,
        body: d.b,
        sentAt: d.t,
        receiveCount: d.n,
        firstReceivedAt: d.f,
        deadAt: d.at,
      });
    }
    const dedup: Array<[string, number]> = [];
    for await (const [key, value] of this.range(queue, 'k')) {
      dedup.push([key.slice(`${queue}!k!`.length), Number(value)]);
    }
    dedup.sort((a, b) => a[1] - b[1]);
    const stored = Number((await this.db.get(`${queue}!s`)) ?? 0);
    const last = [...messages.values()].at(-1)?.seq ?? 0;
    const lastDead = deadLetters.reduce((max, d) => Math.max(max, d.seq), 0);
    return {
      messages: [...messages.values()],
      deadLetters,
      dedup,
      sequence: Math.max(stored, last, lastDead),
    };
  }

  private range(queue: string, kind: string) {
    // `"` sorts right after `!`: everything under the prefix, nothing after it.
    return this.db.iterator({ gte: `${queue}!${kind}!`, lt: `${queue}!${kind}"` });
  }
}

function operations(queue: string, c: QueueChanges): Operation[] {
  const key = (kind: string, seq: number) => `${queue}!${kind}!${String(seq).padStart(SEQ_DIGITS, '0')}`;
  const ops: Operation[] = [];
  for (const m of c.sent ?? []) {
    const value = { id: m.messageId, g: m.groupId, d: m.dedupId, b: m.body, t: m.sentAt };
    ops.push({ type: 'put', key: key('m', m.seq), value: JSON.stringify(value) });
  }
  if (c.sequence !== undefined) ops.push({ type: 'put', key: `${queue}!s`, value: String(c.sequence) });
  for (const [k, expiresAt] of c.dedup ?? []) {
    ops.push({ type: 'put', key: `${queue}!k!${k}`, value: String(expiresAt) });
  }
  for (const k of c.dedupExpired ?? []) ops.push({ type: 'del', key: `${queue}!k!${k}` });
  for (const m of c.received ?? []) {
    const value = { n: m.receiveCount, f: m.firstReceivedAt };
    ops.push({ type: 'put', key: key('r', m.seq), value: JSON.stringify(value) });
  }
  for (const seq of c.deleted ?? []) {
    ops.push({ type: 'del', key: key('m', seq) }, { type: 'del', key: key('r', seq) });
  }
  for (const d of c.buried ?? []) {
    const value = {
      id: d.messageId,
      g: d.groupId,
      d: d.dedupId,
      b: d.body,
      t: d.sentAt,
      n: d.receiveCount,
      f: d.firstReceivedAt,
      at: d.deadAt,
    };
    ops.push(
      { type: 'put', key: key('x', d.seq), value: JSON.stringify(value) },
      { type: 'del', key: key('m', d.seq) },
      { type: 'del', key: key('r', d.seq) },
    );
  }
  for (const seq of c.unburied ?? []) ops.push({ type: 'del', key: key('x', seq) });
  return ops;
}

function seqOf(key: string): number {
  return Number(key.slice(-SEQ_DIGITS));
}

/** A record that does not parse is a bug or a damaged folder: refuse to start rather than drop it. */
function parse<T>(schema: z.ZodMiniType<T>, key: string, value: string): T {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new Error(`the local queue store holds a damaged record under ${key}`);
  return parsed.data;
}
