/**
 * Issue 8: the local stack loses nothing it answered 200 for. The real `npm start` process takes
 * signed webhooks for 20 conversations and is SIGKILLed mid-load; restarted on the same DATA_DIR it
 * must end with every acknowledged event stored, none twice, in order. Then the same with SIGTERM
 * (stop taking work, finish the batches in flight, keep the rest on disk), and the dead letters a
 * run left behind are listed and redriven with `npx pagewire dead-letters`.
 *
 * What makes it deterministic: a gate in front of the Graph API fake holds the profile requests of
 * chosen contacts, so their conversations' first batch stays in flight and the rest of them stays
 * queued until the process is killed, whatever the machine's speed.
 *
 * Order is checked through an effect that depends on it: every message is followed by a reaction to
 * it, and a reaction that reaches the processor before its message is skipped.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalQueueStore } from '#adapters/local/queue-store';
import { parseWebhook, toQueueMessage } from '#ingest/parse-webhook';
import { signBody } from '#ingest/signature';
import { adminCall } from '#testkit/admin-http';
import { removeDataDirs, runCli } from '#testkit/cli-process';
import { GraphFake } from '#testkit/graph-faults';
import { type StackProcess, startStackProcess } from '#testkit/local-stack-process';
import { at } from '#testkit/pick';
import { type TinyServer, tinyServer } from '#testkit/tiny-server';
import { entry, metaJson, webhookBody } from '#testkit/webhooks';

const APP_ID = '1517776481860444';
const APP_SECRET = randomBytes(16).toString('hex');
const ADMIN_TOKEN = `admin-${randomBytes(12).toString('hex')}`;
const PAGES = [
  { id: '340000000000001', name: 'Durable One' },
  { id: '340000000000002', name: 'Durable Two' },
];
const START = 1_790_000_000_000;

interface SentEvent {
  kind: 'message' | 'reaction';
  /** The message's own mid, or the mid a reaction is for. */
  mid: string;
  timestamp: number;
  body: string;
}

interface Conversation {
  pageId: string;
  userId: string;
  events: SentEvent[];
  /** Answered 200. */
  acked: SentEvent[];
  /** Sent, but the answer never came (the process died): it may or may not have been queued. */
  unsure?: SentEvent;
}

let fake: GraphFake;
let gate: ProfileGate;
let dataDir: string;
let stack: StackProcess | undefined;
const env = () => ({
  FB_APP_ID: APP_ID,
  FB_APP_SECRET: APP_SECRET,
  FB_VERIFY_TOKEN: 'verify-durable',
  ADMIN_TOKEN,
  GRAPH_API_URL: gate.url,
  GRAPH_TIMEOUT_MS: '60000',
  MEMORY: '0',
  DATA_DIR: dataDir,
});

beforeAll(async () => {
  fake = new GraphFake({ appId: APP_ID, appSecret: APP_SECRET });
  gate = await profileGate(await fake.start());
  dataDir = await mkdtemp(join(tmpdir(), 'pagewire-durable-'));
});

afterAll(async () => {
  await stack?.kill('SIGKILL');
  gate?.open();
  await gate?.server.close();
  await fake?.stop();
  await rm(dataDir, { recursive: true, force: true });
  removeDataDirs();
});

/** Persons × pages, each conversation `count` events: a message, a reaction to it, and so on. */
function conversations(persons: string[], count: number, tag: string): Conversation[] {
  return persons.flatMap((person, p) =>
    PAGES.map((page, q) => {
      const userId = fake.psid(person, page.id);
      const events: SentEvent[] = [];
      for (let i = 0; i < count; i++) {
        const timestamp = START + i * 1_000 + p * 10 + q;
        const from = { sender: { id: userId }, recipient: { id: page.id }, timestamp };
        const mid = `m.${tag}.${p}.${q}.${i - (i % 2)}`;
        const raw =
          i % 2 === 0
            ? { ...from, message: { mid, text: `${tag} ${p}/${q} #${i}` } }
            : { ...from, reaction: { mid, action: 'react', reaction: 'love', emoji: '❤️' } };
        const body = webhookBody(entry(page.id, [metaJson(raw)], { time: timestamp }));
        events.push({ kind: i % 2 === 0 ? 'message' : 'reaction', mid, timestamp, body });
      }
      return { pageId: page.id, userId, events, acked: [] };
    }),
  );
}

/**
 * POSTs every conversation's events one after the other (the conversations side by side); after
 * `killAfter` acknowledgements in all, runs `kill` and sends nothing more.
 */
async function post(url: string, convs: Conversation[], killAfter?: number, kill?: () => Promise<unknown>) {
  let acked = 0;
  let stopped = false;
  const statuses = new Set<number>();
  await Promise.all(
    convs.map(async (c) => {
      for (const e of c.events) {
        if (stopped) return;
        let status: number;
        try {
          const headers = {
            'content-type': 'application/json',
            'x-hub-signature-256': signBody(e.body, APP_SECRET),
          };
          status = (await fetch(`${url}/webhooks/facebook`, { method: 'POST', headers, body: e.body }))
            .status;
        } catch {
          c.unsure = e;
          return;
        }
        statuses.add(status);
        if (status !== 200) {
          c.unsure = e;
          return;
        }
        c.acked.push(e);
        if (++acked === killAfter) {
          stopped = true;
          await kill?.();
        }
      }
    }),
  );
  return { acked, statuses: [...statuses] };
}

/** Every acknowledged event stored, nothing stored twice or unsent, every reaction after its message. */
async function check(url: string, convs: Conversation[]) {
  const lost: string[] = [];
  const twice: string[] = [];
  const unexpected: string[] = [];
  const outOfOrder: string[] = [];
  for (const c of convs) {
    const path = `/admin/pages/${c.pageId}/conversations/${c.userId}/messages?limit=1000`;
    const answer = await adminCall(url, ADMIN_TOKEN, 'GET', path);
    const messages = (answer.json?.messages ?? []) as Array<{
      mid: string;
      reactions?: Record<string, { timestamp: number }>;
    }>;
    const byMid = new Map(messages.map((m) => [m.mid, m]));
    if (byMid.size !== messages.length) twice.push(`${c.userId}: ${messages.length - byMid.size}`);
    const sent = new Set([...c.acked, ...(c.unsure ? [c.unsure] : [])].map((e) => e.mid));
    for (const mid of byMid.keys()) if (!sent.has(mid)) unexpected.push(mid);
    for (const e of c.acked) {
      const stored = byMid.get(e.mid);
      if (!stored) lost.push(e.kind === 'message' ? e.mid : `reaction to ${e.mid}`);
      else if (e.kind === 'reaction' && stored.reactions?.[c.userId]?.timestamp !== e.timestamp) {
        outOfOrder.push(`reaction to ${e.mid}`);
      }
    }
  }
  return { lost, twice, unexpected, outOfOrder };
}

async function start(): Promise<StackProcess> {
  stack = await startStackProcess(env());
  return stack;
}

describe('the local stack on disk', () => {
  const first = { convs: [] as Conversation[], persons: [] as string[] };

  it('SIGKILL mid-load, restart on the same DATA_DIR: 0 lost, 0 twice, order kept', async () => {
    first.persons = Array.from({ length: 10 }, (_, i) => fake.addPerson(`Dura${i}`, 'Ble'));
    const { shortLivedToken } = fake.addUser({ pages: PAGES });
    first.convs = conversations(first.persons, 20, 'kill');
    // Half of the contacts' profiles hang: their conversations stay queued behind a batch in flight.
    gate.hold(first.convs.filter((_, i) => i % 2 === 0).map((c) => c.userId));

    const one = await start();
    const connected = await adminCall(one.url, ADMIN_TOKEN, 'POST', '/admin/pages/connect', {
      userAccessToken: shortLivedToken,
    });
    expect(connected.status, connected.text).toBe(200);
    await one.settle();
    const sent = await post(one.url, first.convs, 150, () => one.kill('SIGKILL'));
    // Answers already on their way when the process died still arrive.
    expect(sent.acked).toBeGreaterThanOrEqual(150);
    expect(sent.acked).toBeLessThan(400);
    expect(sent.statuses).toEqual([200]);

    gate.open();
    const two = await start();
    await two.settle();
    expect(await check(two.url, first.convs)).toEqual({
      lost: [],
      twice: [],
      unexpected: [],
      outOfOrder: [],
    });
    // The kill did leave work behind, and the start above resumed it.
    const resumed = /resumed: {2}(\d+) queued event\(s\)/.exec(two.output());
    expect(Number(resumed?.[1]), two.output()).toBeGreaterThan(0);
  });

  const second = { convs: [] as Conversation[] };

  it('SIGTERM: finishes the batches in flight, keeps the rest on disk and says so; the next start resumes it', async () => {
    const persons = Array.from({ length: 5 }, (_, i) => fake.addPerson(`Term${i}`, 'Inate'));
    second.convs = conversations(persons, 10, 'term');
    gate.hold(second.convs.map((c) => c.userId));
    const two = stack as StackProcess;
    const sent = await post(two.url, second.convs);
    expect(sent).toEqual({ acked: 100, statuses: [200] });

    const exited = two.kill('SIGTERM');
    const giveUpAt = Date.now() + 30_000;
    while (!two.output().includes('stopping: no new requests')) {
      if (Date.now() > giveUpAt) throw new Error(`the stack never said it was stopping:\n${two.output()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    gate.open();
    expect(await exited).toBe(0);
    const stopped =
      /Stopped\. (\d+) event\(s\) and 0 page command\(s\) stay queued in (\S+)\/ and resume/.exec(
        two.output(),
      );
    expect(Number(stopped?.[1]), two.output()).toBeGreaterThan(0);
    expect(stopped?.[2]).toBe(join(dataDir, 'queues'));
    expect(two.output()).not.toMatch(/lost/i);
  });

  it('lists and redrives dead letters kept from an earlier run with npx pagewire dead-letters', async () => {
    // An earlier run gave up on two events of a conversation (say DynamoDB was down): they wait on disk.
    const c = at(first.convs, 1, 'conversation');
    const letters = [1, 2].map((n) => {
      const timestamp = START + 100_000 + n;
      const raw = {
        sender: { id: c.userId },
        recipient: { id: c.pageId },
        timestamp,
        message: { mid: `m.dead.${n}`, text: `dead ${n}` },
      };
      const parsed = parseWebhook(webhookBody(entry(c.pageId, [metaJson(raw)])));
      if (!parsed.ok) throw new Error(parsed.message);
      return toQueueMessage(at(parsed.events, 0, 'event'));
    });
    const store = await LocalQueueStore.open(join(dataDir, 'queues'));
    const journal = store.journal('pagewire-events.fifo');
    const { sequence } = await journal.load();
    await journal.write({
      sequence: sequence + 2,
      buried: letters.map((m, i) => ({
        ...m,
        seq: sequence + 1 + i,
        messageId: `dead-${i + 1}`,
        sentAt: START,
        receiveCount: 5,
        firstReceivedAt: START,
        deadAt: START + 1,
      })),
    });
    await store.close();

    const three = await start();
    expect(three.output()).toContain(
      'dead letters: 2 event(s), 0 page command(s): npx pagewire dead-letters list',
    );
    await three.settle();
    expect(await check(three.url, second.convs)).toEqual({
      lost: [],
      twice: [],
      unexpected: [],
      outOfOrder: [],
    });
    expect(await check(three.url, first.convs)).toEqual({
      lost: [],
      twice: [],
      unexpected: [],
      outOfOrder: [],
    });

    const cliEnv = { PAGEWIRE_URL: three.url, PAGEWIRE_ADMIN_TOKEN: ADMIN_TOKEN };
    const listed = await runCli(['dead-letters', 'list'], cliEnv);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('events: 2 dead letters');
    expect(listed.stdout).toContain('page-commands: 0 dead letters');
    expect(listed.stdout).toMatch(
      new RegExp(`${c.pageId}:${c.userId}\\s+m\\.dead\\.1\\s+5\\s+\\d+\\s+dead-1`),
    );
    const json = await runCli(['dead-letters', 'list', '--queue', 'events', '--json'], cliEnv);
    const answer = JSON.parse(json.stdout);
    expect(answer.queues).toHaveLength(1);
    expect(answer.queues[0]).toMatchObject({ queue: 'events', count: 2, approximate: false });
    expect(JSON.parse(answer.queues[0].messages[0].body)).toMatchObject({ eventId: 'm.dead.1' });

    const redriven = await runCli(['dead-letters', 'redrive', '--queue', 'events'], cliEnv);
    expect(redriven.code, redriven.stderr).toBe(0);
    expect(redriven.stdout.trim()).toBe('events: 2 dead letters moved back to the queue');
    await three.settle();
    const messages = await adminCall(
      three.url,
      ADMIN_TOKEN,
      'GET',
      `/admin/pages/${c.pageId}/conversations/${c.userId}/messages`,
    );
    expect(messages.json.messages.map((m: { mid: string }) => m.mid).slice(-2)).toEqual([
      'm.dead.1',
      'm.dead.2',
    ]);
    const after = await runCli(['dead-letters', 'list'], cliEnv);
    expect(after.stdout).toContain('events: 0 dead letters');
    const again = await runCli(['dead-letters', 'redrive'], cliEnv);
    expect(again.stdout).toBe('events: no dead letters\npage-commands: no dead letters\n');
    const bad = await runCli(['dead-letters', 'redrive', '--queue', 'nope'], cliEnv);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--queue must be events or page-commands');
  });
});

interface ProfileGate {
  url: string;
  server: TinyServer;
  /** Holds the profile requests of these PSIDs until `open()`. */
  hold(psids: string[]): void;
  open(): void;
}

/** A pass-through proxy to the Graph API fake that can hold contact profile requests. */
async function profileGate(target: string): Promise<ProfileGate> {
  let held = new Set<string>();
  let release = () => {};
  let gated = Promise.resolve();
  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const psid = /^\/v\d+\.\d+\/(\d+)$/.exec(new URL(req.url ?? '/', 'http://gate').pathname)?.[1];
    if (req.method === 'GET' && psid && held.has(psid)) await gated;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && !['host', 'connection', 'content-length'].includes(name))
        headers[name] = value;
    }
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    const answer = await fetch(`${target}${req.url}`, { method: req.method, headers, body });
    const out: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(name))
        out[name] = value;
    });
    res.writeHead(answer.status, out);
    res.end(Buffer.from(await answer.arrayBuffer()));
  };
  const server = await tinyServer((req, res) => {
    forward(req, res).catch(() => res.destroy());
  });
  return {
    url: server.url,
    server,
    hold: (psids) => {
      held = new Set(psids);
      gated = new Promise((resolve) => {
        release = resolve;
      });
    },
    open: () => release(),
  };
}
