/**
 * Synthetic Messenger traffic for the fault-injection suite and the benchmarks: conversations of
 * persons with pages (a person writes to every page, with a different PSID on each), each a run of
 * turns (the person writes 1–3 messages, the page answers with echoes, Messenger reports delivery and
 * read), all conversations interleaved by timestamp and cut into webhook POSTs of 1–5 entries the way
 * Meta batches them. Seeded: the same options give the same bytes.
 */
import { metaJson } from './webhooks.js';

/** mulberry32: small, fast, seedable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type TrafficKind = 'in' | 'echo' | 'delivery' | 'read' | 'postback' | 'reaction' | 'unsend';

export interface TrafficEvent {
  kind: TrafficKind;
  pageId: string;
  userId: string;
  timestamp: number;
  /** The event's own mid (message, echo, postback). */
  mid?: string;
  /** Delivery: the echoes it names; reaction: the message it targets; unsend: the message taken back. */
  refs?: string[];
  watermark?: number;
  /** The raw event as Meta serialises it inside `messaging[]`. */
  raw: string;
  /** Instagram conversations' events (`object: "instagram"` POSTs). */
  channel?: 'instagram';
}

export interface TrafficPost {
  /** The POST body, byte for byte what gets signed. */
  body: string;
  events: TrafficEvent[];
  /** `{pageId}:{userId}` of every event in it. */
  conversations: string[];
}

export interface Conversation {
  pageId: string;
  userId: string;
  /**
   * `instagram`: an Instagram account (pageId) and an IGSID (SPEC §11). Its events come in
   * `object: "instagram"` POSTs; it has no deliveries, and its reads (`messaging_seen`) name a mid.
   */
  channel?: 'instagram';
}

export interface TrafficOptions {
  conversations: Conversation[];
  /** Stop once this many events are generated in all (whichever limit is met first). */
  events?: number;
  /** Stop once this many inbound messages are generated. */
  inbound?: number;
  seed?: number;
  /** The app id of echoes of replies sent through Pagewire (others carry the Page inbox's). */
  appId: string;
  /** Also postbacks and reactions (the fault run); the cost workload keeps to messages and receipts. */
  variety?: boolean;
  /** Entries per POST: 1 to this (default 5). */
  maxEntries?: number;
  /** Timestamps start here (ms). */
  startAt?: number;
}

const PAGE_INBOX_APP_ID = 263902037430900;
const TEXTS = [
  'Olá! Quanto custa o envio para Málaga?',
  'Is this still available? https://example.com/p/123',
  'Merci beaucoup 🙏',
  'Can I change the size to M?',
  '¿Tienen envío a Canarias?',
  'ok',
];

export function conversationKey(pageId: string, userId: string): string {
  return `${pageId}:${userId}`;
}

/** Generates the events, then the POSTs. */
export function makeTraffic(opts: TrafficOptions): { events: TrafficEvent[]; posts: TrafficPost[] } {
  const random = prng(opts.seed ?? 1);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const maxEvents = opts.events ?? Number.POSITIVE_INFINITY;
  const maxInbound = opts.inbound ?? Number.POSITIVE_INFINITY;
  const start = opts.startAt ?? 1_767_225_600_000;
  const state = opts.conversations.map((c, i) => ({
    ...c,
    // Conversations start spread over an hour, so pages and conversations interleave.
    clock: start + Math.floor(random() * 3_600_000),
    seq: 0,
    lastEcho: undefined as string | undefined,
    index: i,
  }));
  const events: TrafficEvent[] = [];
  let inbound = 0;
  const full = () => events.length >= maxEvents || inbound >= maxInbound;

  const channelOf = new Map(opts.conversations.map((c) => [conversationKey(c.pageId, c.userId), c.channel]));
  const push = (e: Omit<TrafficEvent, 'raw'>, raw: Record<string, unknown>) => {
    if (events.length >= maxEvents) return;
    const channel = channelOf.get(conversationKey(e.pageId, e.userId));
    events.push({ ...e, raw: metaJson(raw), ...(channel ? { channel } : {}) });
  };
  const fromUser = (c: (typeof state)[number], ts: number) => ({
    sender: { id: c.userId },
    recipient: { id: c.pageId },
    timestamp: ts,
  });

  // One turn of one conversation at a time, round robin, until a limit is met.
  while (!full()) {
    for (const c of state) {
      if (full()) break;
      const tick = () => {
        c.clock += int(1_000, 40_000);
        return c.clock;
      };
      const mid = (what: string) =>
        `m_${what}_${c.index}_${++c.seq}_${Math.floor(random() * 1e9).toString(36)}`;
      for (let k = int(1, 3); k > 0 && !full(); k--) {
        const ts = tick();
        if (opts.variety && random() < 0.05) {
          const m = mid('pb');
          const payload = `MENU_${int(1, 4)}`;
          push(
            { kind: 'postback', pageId: c.pageId, userId: c.userId, timestamp: ts, mid: m },
            { ...fromUser(c, ts), postback: { title: 'Menu', payload, mid: m } },
          );
          continue;
        }
        const m = mid('in');
        inbound++;
        push(
          { kind: 'in', pageId: c.pageId, userId: c.userId, timestamp: ts, mid: m },
          { ...fromUser(c, ts), message: { mid: m, text: TEXTS[int(0, TEXTS.length - 1)] } },
        );
        // Instagram: now and then the person unsends what they just wrote (SPEC §11).
        if (opts.variety && c.channel === 'instagram' && random() < 0.08 && !full()) {
          const at = tick();
          push(
            { kind: 'unsend', pageId: c.pageId, userId: c.userId, timestamp: at, refs: [m] },
            { ...fromUser(c, at), message: { mid: m, is_deleted: true } },
          );
        }
      }
      if (opts.variety && c.lastEcho && random() < 0.05 && !full()) {
        const ts = tick();
        push(
          { kind: 'reaction', pageId: c.pageId, userId: c.userId, timestamp: ts, refs: [c.lastEcho] },
          {
            ...fromUser(c, ts),
            reaction: { mid: c.lastEcho, action: 'react', reaction: 'love', emoji: '❤️' },
          },
        );
      }
      const echoes: string[] = [];
      let lastEchoAt = 0;
      for (let k = random() < 0.35 ? 0 : int(1, 2); k > 0 && !full(); k--) {
        const ts = tick();
        const m = mid('out');
        echoes.push(m);
        lastEchoAt = ts;
        const appId = random() < 0.7 ? Number(opts.appId) : PAGE_INBOX_APP_ID;
        push(
          { kind: 'echo', pageId: c.pageId, userId: c.userId, timestamp: ts, mid: m },
          {
            sender: { id: c.pageId },
            recipient: { id: c.userId },
            timestamp: ts,
            message: { mid: m, is_echo: true, app_id: appId, text: 'Gracias, te escribimos enseguida.' },
          },
        );
      }
      if (echoes.length && c.channel === 'instagram' && !full()) {
        // Instagram has no deliveries; `messaging_seen` names the last message seen, and everything
        // sent up to the moment it was seen is read (the processor's watermark: the event's time).
        c.lastEcho = echoes[echoes.length - 1];
        if (random() < 0.8) {
          const readAt = tick();
          push(
            { kind: 'read', pageId: c.pageId, userId: c.userId, timestamp: readAt, watermark: readAt },
            { ...fromUser(c, readAt), read: { mid: c.lastEcho } },
          );
        }
      } else if (echoes.length && !full()) {
        c.lastEcho = echoes[echoes.length - 1];
        const ts = tick();
        push(
          {
            kind: 'delivery',
            pageId: c.pageId,
            userId: c.userId,
            timestamp: ts,
            refs: echoes,
            watermark: lastEchoAt,
          },
          { ...fromUser(c, ts), delivery: { mids: echoes, watermark: lastEchoAt } },
        );
        if (random() < 0.8 && !full()) {
          const readAt = tick();
          push(
            { kind: 'read', pageId: c.pageId, userId: c.userId, timestamp: readAt, watermark: lastEchoAt },
            { ...fromUser(c, readAt), read: { watermark: lastEchoAt } },
          );
        }
      }
      // Conversations pause between turns, so others get ahead of them.
      c.clock += int(10_000, 600_000);
    }
  }

  // Interleave by time (a stable sort keeps each conversation's own order on equal timestamps).
  const ordered = events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.timestamp - b.e.timestamp || a.i - b.i)
    .map(({ e }) => e);
  const posts: TrafficPost[] = [];
  for (let i = 0; i < ordered.length; ) {
    const n = Math.min(int(1, opts.maxEntries ?? 5), ordered.length - i);
    // Meta sends one object per POST: a batch stops where the channel changes.
    const cut = ordered.slice(i, i + n);
    const other = cut.findIndex((e) => e.channel !== cut[0]?.channel);
    const batch = other < 0 ? cut : cut.slice(0, other);
    i += batch.length;
    const entries = batch.map((e) => `{"id":"${e.pageId}","time":${e.timestamp},"messaging":[${e.raw}]}`);
    const object = batch[0]?.channel === 'instagram' ? 'instagram' : 'page';
    posts.push({
      body: `{"object":"${object}","entry":[${entries.join(',')}]}`,
      events: batch,
      conversations: [...new Set(batch.map((e) => conversationKey(e.pageId, e.userId)))],
    });
  }
  return { events: ordered, posts };
}

/** What the store must hold once every event is processed, per conversation. */
export interface ExpectedConversation {
  pageId: string;
  userId: string;
  /** mid → timestamp of every item (message, echo, postback). */
  items: Map<string, number>;
  echoes: Set<string>;
  /** Echoes some delivery names: they read `delivered` (at least). */
  delivered: Set<string>;
  lastMessageAt: number;
  readWatermark?: number;
  deliveredWatermark?: number;
  /** Target mid → timestamp of the last reaction to it. */
  reactions: Map<string, number>;
  /** Instagram messages unsent: stored deleted, their text erased. */
  deleted: Set<string>;
}

export function expectedState(events: TrafficEvent[]): Map<string, ExpectedConversation> {
  const out = new Map<string, ExpectedConversation>();
  for (const e of events) {
    const key = conversationKey(e.pageId, e.userId);
    let c = out.get(key);
    if (!c) {
      c = {
        pageId: e.pageId,
        userId: e.userId,
        items: new Map(),
        echoes: new Set(),
        delivered: new Set(),
        lastMessageAt: 0,
        reactions: new Map(),
        deleted: new Set(),
      };
      out.set(key, c);
    }
    if (e.mid && (e.kind === 'in' || e.kind === 'echo' || e.kind === 'postback')) {
      c.items.set(e.mid, e.timestamp);
      c.lastMessageAt = Math.max(c.lastMessageAt, e.timestamp);
      if (e.kind === 'echo') c.echoes.add(e.mid);
    }
    if (e.kind === 'delivery') {
      for (const m of e.refs ?? []) c.delivered.add(m);
      c.deliveredWatermark = Math.max(c.deliveredWatermark ?? 0, e.watermark ?? 0);
    }
    if (e.kind === 'read') c.readWatermark = Math.max(c.readWatermark ?? 0, e.watermark ?? 0);
    if (e.kind === 'reaction' && e.refs?.[0]) c.reactions.set(e.refs[0], e.timestamp);
    if (e.kind === 'unsend' && e.refs?.[0]) c.deleted.add(e.refs[0]);
  }
  return out;
}

/**
 * Sends every POST with `deliver`, at most `limit` at once, as Meta would for many pages: a POST waits
 * until every earlier POST that shares a conversation with it has been answered, so each conversation's
 * events reach the verifier in timestamp order. Rejects with the first failure, after all settled.
 */
export async function sendInOrder(
  posts: TrafficPost[],
  limit: number,
  deliver: (post: TrafficPost, index: number) => Promise<void>,
): Promise<void> {
  const lastOf = new Map<string, Promise<void>>();
  const inFlight = new Set<Promise<void>>();
  const failures: unknown[] = [];
  for (const [index, post] of posts.entries()) {
    while (inFlight.size >= limit) await Promise.race(inFlight);
    const before = post.conversations.map((c) => lastOf.get(c)).filter((p): p is Promise<void> => !!p);
    const task = (async () => {
      await Promise.all(before);
      await deliver(post, index);
    })().catch((err) => {
      failures.push(err);
    });
    for (const c of post.conversations) lastOf.set(c, task);
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  }
  await Promise.all(inFlight);
  if (failures.length) throw failures[0];
}
