import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { FileBlobStore, MemoryBlobStore } from '#adapters/local/blob-store';
import { LocalDeadLetters } from '#adapters/local/dead-letters';
import { EnvCredentials } from '#adapters/local/env-credentials';
import { LocalEventForwarder, LocalEventPublisher } from '#adapters/local/event-forwarder';
import { LocalEventLog } from '#adapters/local/event-log';
import { LocalFifoQueue, type RestoreSummary } from '#adapters/local/fifo-queue';
import { LocalKeyring } from '#adapters/local/keyring';
import { LocalMediaQueue } from '#adapters/local/media-queue';
import { FileMediaStore, MemoryMediaStore } from '#adapters/local/media-store';
import { LocalQueueStore } from '#adapters/local/queue-store';
import { lockFromUrl } from '#adapters/redis/lock-from-url';
import { createApp } from '#app/app';
import { DEFAULT_SUBSCRIBED_FIELDS, loadConfig } from '#app/config';
import { INSTAGRAM_SUBSCRIBED_FIELDS } from '#contracts/config';
import { LocalEnv, readEnv } from '#contracts/env';
import { HEALTH_PATH, isConnectLoginPath, WEBHOOK_PATH } from '#contracts/routes';
import { createTableIfMissing } from '#local/dynalite';
import { sleep } from '#runtime/backoff';
import { type HttpEvent, type HttpResult, header, httpError, json } from '#runtime/http';
import { counters, logger } from '#runtime/observability';
import { bearerMatches } from './admin-auth.js';
import { dynamoClients, startDynalite } from './dynalite.js';
import { EVENTS_PATH, eventsRoute } from './events-route.js';
import { SandboxCdn } from './graph-sandbox/cdn.js';
import { startSandbox } from './graph-sandbox/demo.js';
import { serveHttp } from './http-server.js';
import { lambdaContext } from './lambda-context.js';
import { LOCAL_MEDIA_PATH, mediaRoute } from './media-route.js';
import { SANDBOX_BREAK_PATH, sandboxBreakRoute } from './sandbox-route.js';

/** How long a stop waits for the batches in flight (on disk, they would only be delivered again). */
const STOP_GRACE_MS = 5_000;

export interface LocalStack {
  url: string;
  mode: 'sandbox' | 'facebook';
  adminToken: string;
  /** The settings the stack runs with (generated secrets included, in sandbox mode). */
  env: Record<string, string | undefined>;
  sandbox?: Awaited<ReturnType<typeof startSandbox>>;
  queue: LocalFifoQueue;
  commands: LocalFifoQueue;
  /** Attachments waiting for their copy (SPEC §10), and where the copies are. */
  media: LocalFifoQueue;
  mediaStore: FileMediaStore | MemoryMediaStore;
  /** Sandbox mode: the stand-in for Meta's CDN, serving demo files at links that expire. */
  cdn?: SandboxCdn;
  /** Where the queues live: a folder under DATA_DIR, or undefined when in memory (`MEMORY=1`). */
  queueDir?: string;
  /** What the queues brought back from the last run (on disk only). */
  restored?: {
    events: RestoreSummary;
    pageCommands: RestoreSummary;
    forwards?: { pending: number };
    media?: RestoreSummary;
  };
  /**
   * Where the public events go (SPEC §8): the tail log (GET /admin/events) and, with FORWARD_URL, the
   * durable forwarding queue. The EventPublisher to give the processor and the page operations.
   */
  events: LocalEventPublisher;
  /** FORWARD_URL fit for printing (credentials and query hidden); undefined when not forwarding. */
  forwardTo?: string;
  /** Events a past run queued for forwarding that wait on disk because FORWARD_URL is not set now. */
  forwardsWaiting?: number;
  stop(): Promise<StopSummary>;
}

/** What a stop left behind. */
export interface StopSummary {
  /** Messages not processed: on disk for the next start, or lost when in memory. */
  events: number;
  pageCommands: number;
  /** Attachment copies not done: on disk for the next start, or lost when in memory. */
  media?: number;
  /** Public events not yet accepted by the FORWARD_URL consumer. */
  forwards: number;
  durable: boolean;
}

/**
 * The whole of Pagewire on one machine: the same handlers as on AWS, behind a local API Gateway,
 * with dynalite for DynamoDB, an in-process FIFO event source for SQS and a keyring for KMS.
 */
export async function startLocalStack(input: NodeJS.ProcessEnv = process.env): Promise<LocalStack> {
  const env: Record<string, string | undefined> = { ...input };
  const localEnv = readEnv(LocalEnv, env);
  const memory = localEnv.MEMORY === true;
  const dataDir = localEnv.DATA_DIR ?? '.data';
  if (!memory) await mkdir(dataDir, { recursive: true });

  // Sandbox secrets persist with the data, so the demo pages' sealed tokens stay valid across restarts.
  const previous = env.FB_APP_SECRET || memory ? undefined : await readSandboxFile(dataDir);
  const sandbox = env.FB_APP_SECRET
    ? undefined
    : await startSandbox({ appId: env.FB_APP_ID ?? previous?.appId, appSecret: previous?.appSecret });
  if (sandbox) {
    env.FB_APP_ID = sandbox.appId;
    env.FB_APP_SECRET = sandbox.appSecret;
    env.FB_VERIFY_TOKEN = env.FB_VERIFY_TOKEN || previous?.verifyToken || randomBytes(12).toString('hex');
    env.GRAPH_API_URL = sandbox.url;
    // The sandbox plays Facebook Login's dialog too (SPEC §12).
    env.FB_DIALOG_URL = env.FB_DIALOG_URL || sandbox.url;
  }
  // The sandbox's CDN (http on loopback) is an allowed media host on its own port only.
  const cdn = sandbox ? new SandboxCdn() : undefined;
  if (cdn) {
    const cdnHost = new URL(await cdn.start()).host;
    env.MEDIA_HOSTS = [env.MEDIA_HOSTS, cdnHost].filter(Boolean).join(',');
  }
  env.ADMIN_TOKEN = env.ADMIN_TOKEN || previous?.adminToken || randomBytes(24).toString('base64url');
  const config = loadConfig(env);
  const credentials = new EnvCredentials(env);

  const dynamo = await startDynalite({ path: memory ? undefined : join(dataDir, 'dynamodb') });
  const { client, doc } = dynamoClients(dynamo.endpoint);
  await createTableIfMissing(client, config.tableName);
  const keyring = memory
    ? LocalKeyring.ephemeral()
    : await LocalKeyring.fromFile(join(dataDir, 'keyring.key'));

  const blobs = memory ? new MemoryBlobStore() : new FileBlobStore(join(dataDir, 'blobs'));
  // Links to copies are made from the address bound below (or PUBLIC_URL).
  let baseUrl = localEnv.PUBLIC_URL ?? '';
  const mediaStore = memory
    ? new MemoryMediaStore(() => baseUrl)
    : new FileMediaStore(join(dataDir, 'media'), () => baseUrl);

  // Opened after dynalite, whose check already says plainly when another process uses DATA_DIR.
  const queueDir = memory ? undefined : join(dataDir, 'queues');
  const store = queueDir ? await LocalQueueStore.open(queueDir) : undefined;
  const visibilityTimeoutMs = localEnv.LOCAL_VISIBILITY_TIMEOUT_MS ?? 30_000;
  const lock = await lockFromUrl({ url: localEnv.LOCK_REDIS_URL, ttlMs: localEnv.LOCK_TTL_MS });
  // The queues call the app, which sends to the queues: each queue calls the app only once started.
  const queue = new LocalFifoQueue({
    name: 'pagewire-events.fifo',
    handler: (event) => app.processor(event, lambdaContext('pagewire-processor')),
    visibilityTimeoutMs,
    journal: store?.journal('pagewire-events.fifo'),
  });
  const commands = new LocalFifoQueue({
    name: 'pagewire-page-commands.fifo',
    handler: (event) => app.pageCommands(event, lambdaContext('pagewire-page-commands')),
    visibilityTimeoutMs,
    journal: store?.journal('pagewire-page-commands.fifo'),
  });
  const media = new LocalFifoQueue({
    name: 'pagewire-media',
    handler: (event) => app.media(event, lambdaContext('pagewire-media', 300_000)),
    visibilityTimeoutMs,
    journal: store?.journal('pagewire-media'),
  });
  // The public events (SPEC §8): created before the app, which is to publish through `events`.
  const forwardsJournal = store?.journal('pagewire-forwards');
  const forwarder = localEnv.FORWARD_URL
    ? new LocalEventForwarder({
        url: localEnv.FORWARD_URL,
        apiKey: localEnv.FORWARD_API_KEY,
        journal: forwardsJournal,
        onFailure: (failure) => logger.warn('event forward failed; retrying', { ...failure }),
      })
    : undefined;
  const events = new LocalEventPublisher(new LocalEventLog(), forwarder);
  const app = createApp(
    config,
    {
      table: doc,
      sealer: keyring,
      credentials,
      eventsQueue: queue,
      commandsQueue: commands,
      blobs,
      lock,
      publisher: events,
      deadLetters: new LocalDeadLetters({ events: queue, 'page-commands': commands }),
      mediaQueue: new LocalMediaQueue(media),
      media: mediaStore,
    },
    { mediaHosts: env.MEDIA_HOSTS },
  );
  const restored = store
    ? {
        events: await queue.restore(),
        pageCommands: await commands.restore(),
        forwards: forwarder ? await forwarder.restore() : undefined,
        media: await media.restore(),
      }
    : undefined;
  // Without FORWARD_URL the forwards of a past run stay on disk untouched, for when it is set again.
  const forwardsWaiting =
    !forwarder && forwardsJournal ? (await forwardsJournal.load()).messages.length : undefined;
  // Plays the EventBridge schedule of the subscription health check.
  const healthCheck = setInterval(
    () =>
      void app
        .ops({ 'detail-type': 'Scheduled Event' }, lambdaContext('pagewire-ops', 300_000))
        .catch((err: Error) => logger.error('scheduled health check failed', { error: err })),
    localEnv.HEALTH_CHECK_INTERVAL_MS ?? 3_600_000,
  );
  healthCheck.unref();

  const gateway = async (event: HttpEvent): Promise<HttpResult> => {
    const path = event.rawPath;
    if (path === HEALTH_PATH)
      return json(200, {
        status: 'ok',
        mode: sandbox ? 'sandbox' : 'facebook',
        queue: queue.stats(),
        forward: events.stats(),
        media: media.stats(),
        counters: counters(),
      });
    if (path === '/webhooks/facebook') return app.verifier(event, lambdaContext('pagewire-verifier'));
    // Facebook Login (SPEC §12): public, the link's state is the credential.
    if (isConnectLoginPath(path)) return app.connectLogin(event, lambdaContext('pagewire-connect'));
    if (path === '/admin' || path.startsWith('/admin/')) {
      // On AWS the gateway checks IAM before the admin function runs; here a bearer token does.
      if (!bearerMatches(header(event, 'authorization'), env.ADMIN_TOKEN as string)) {
        return httpError(401, 'unauthorized', 'missing or wrong bearer token');
      }
      if (path === EVENTS_PATH) return eventsRoute(events.log, event);
      if (path.startsWith(LOCAL_MEDIA_PATH)) return mediaRoute(mediaStore, event);
      // Sandbox only: break Meta's side to watch the doctor find and repair it (SPEC §9).
      if (sandbox && path === SANDBOX_BREAK_PATH)
        return sandboxBreakRoute(sandbox.fake, sandbox.pages[0]?.id ?? '', event);
      return app.admin(event, lambdaContext('pagewire-admin'));
    }
    return httpError(404, 'not_found', `no route ${event.requestContext.http.method} ${path}`);
  };

  queue.start();
  commands.start();
  media.start();
  forwarder?.start();
  const { server, url } = await serveHttp(gateway, localEnv.PORT ?? 3000, localEnv.HOST ?? '127.0.0.1');
  // The doctor's expected callback (SPEC §9): PUBLIC_URL (a tunnel) or the address just bound, + the path.
  config.webhookUrl ??= `${(localEnv.PUBLIC_URL ?? url).replace(/\/+$/, '')}${WEBHOOK_PATH}`;
  baseUrl ||= url;
  config.publicBaseUrl ??= (localEnv.PUBLIC_URL ?? url).replace(/\/+$/, '');
  // The sandbox's app comes configured, as a developer's would be: its page webhook on this stack with
  // every field, so `npx pagewire doctor` is healthy from the start (the break route undoes it).
  sandbox?.fake.setAppWebhook({
    callbackUrl: config.webhookUrl,
    fields: [...DEFAULT_SUBSCRIBED_FIELDS],
    active: true,
  });
  sandbox?.fake.setAppWebhook(
    { callbackUrl: config.webhookUrl, fields: [...INSTAGRAM_SUBSCRIBED_FIELDS], active: true },
    'instagram',
  );
  if (sandbox && !memory) await writeSandboxFile(dataDir, url, env, { ...sandbox, cdnUrl: cdn?.url });

  return {
    url,
    mode: sandbox ? 'sandbox' : 'facebook',
    adminToken: env.ADMIN_TOKEN,
    env,
    sandbox,
    queue,
    commands,
    media,
    mediaStore,
    cdn,
    queueDir,
    restored,
    events,
    forwardTo: localEnv.FORWARD_URL ? printableUrl(localEnv.FORWARD_URL) : undefined,
    forwardsWaiting,
    stop: async () => {
      events.log.close();
      if (store) {
        // Take no more work: everything not processed is on disk already. Batches that outlast the
        // grace are simply delivered again on the next start.
        const stopped = Promise.all([queue.stop(), commands.stop(), media.stop()]);
        const inFlight = queue.stats().inFlight + commands.stats().inFlight + media.stats().inFlight;
        logger.info('stopping: no new requests or batches; waiting for the batches in flight', { inFlight });
        await close(server);
        clearInterval(healthCheck);
        await Promise.race([stopped, sleep(STOP_GRACE_MS, { unref: true })]);
      } else {
        // In memory, what is queued dies with the process: give it a moment to be processed first.
        logger.info('stopping: no new requests; processing what is queued (in memory) for a moment');
        await close(server);
        clearInterval(healthCheck);
        await Promise.race([
          Promise.all([queue.idle(), commands.idle(), media.idle(), forwarder?.idle()]),
          sleep(STOP_GRACE_MS, { unref: true }),
        ]);
        await Promise.race([
          Promise.all([queue.stop(), commands.stop(), media.stop()]),
          sleep(STOP_GRACE_MS, { unref: true }),
        ]);
      }
      // Sends in flight are cut: their events stay pending (on disk: sent again at the next start).
      await forwarder?.stop();
      const left = (q: LocalFifoQueue) => q.stats().pending + q.stats().inFlight;
      const summary: StopSummary = {
        events: left(queue),
        pageCommands: left(commands),
        media: left(media),
        forwards: events.stats().pending,
        durable: !!store,
      };
      if (store) {
        await store.close();
        logger.info('stopped: the messages not processed stay queued under DATA_DIR for the next start', {
          ...summary,
          queueDir,
        });
      } else if (summary.events + summary.pageCommands + summary.forwards > 0) {
        logger.warn(
          'stopped with messages still queued: they are lost (MEMORY=1 keeps the queue in memory)',
          {
            ...summary,
          },
        );
      }
      await lock.close();
      await dynamo.stop();
      await sandbox?.fake.stop();
      await cdn?.stop();
      return summary;
    },
  };
}

export interface SandboxFile {
  url: string;
  adminToken: string;
  appId: string;
  appSecret: string;
  verifyToken: string;
  userToken: string;
  pages: Array<{ id: string; name: string; psid: string }>;
  /** The sandbox CDN (demo attachments at expiring links: POST {cdnUrl}/cdn/links). */
  cdnUrl?: string;
}

async function readSandboxFile(dataDir: string): Promise<SandboxFile | undefined> {
  try {
    return JSON.parse(await readFile(join(dataDir, 'sandbox.json'), 'utf8')) as SandboxFile;
  } catch {
    return undefined;
  }
}

/** What `npm run send-test-webhook` needs to play Facebook against this stack (owner-only file). */
async function writeSandboxFile(
  dataDir: string,
  url: string,
  env: Record<string, string | undefined>,
  sandbox: {
    userToken: string;
    pages: { id: string; name: string }[];
    psids: Record<string, string>;
    cdnUrl?: string;
  },
): Promise<void> {
  const info: SandboxFile = {
    url,
    adminToken: env.ADMIN_TOKEN as string,
    appId: env.FB_APP_ID as string,
    appSecret: env.FB_APP_SECRET as string,
    verifyToken: env.FB_VERIFY_TOKEN as string,
    userToken: sandbox.userToken,
    pages: sandbox.pages.map((p) => ({ ...p, psid: psidOf(sandbox.psids, p.id) })),
    cdnUrl: sandbox.cdnUrl,
  };
  await writeFile(join(dataDir, 'sandbox.json'), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

/** The sandbox made one PSID per page; a page without one is a sandbox bug, not something to write. */
function psidOf(psids: Record<string, string>, pageId: string): string {
  const psid = psids[pageId];
  if (psid === undefined) throw new Error(`sandbox: no PSID for page ${pageId}`);
  return psid;
}

/** A URL for the start-up lines: no user name or password, no query (either may carry a key). */
export function printableUrl(raw: string): string {
  try {
    const url = new URL(raw);
    const hidden = url.username || url.password ? '***@' : '';
    return `${url.protocol}//${hidden}${url.host}${url.pathname}${url.search ? '?…' : ''}`;
  } catch {
    return '(not a URL)';
  }
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
