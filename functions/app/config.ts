import { ConfigEnv, readEnv } from '#contracts/env';

/**
 * Configuration from the environment, read once per container. The Graph API version lives here
 * and nowhere else.
 */
export const DEFAULT_GRAPH_API_VERSION = 'v24.0';

export const DEFAULT_SUBSCRIBED_FIELDS = [
  'messages',
  'messaging_postbacks',
  'message_deliveries',
  'message_reads',
  'message_echoes',
  'message_reactions',
  'messaging_referrals',
  'messaging_optins',
  'messaging_handovers',
  'standby',
] as const;

export interface Config {
  tableName: string;
  eventsQueueUrl?: string;
  kmsKeyId?: string;
  /** S3 bucket for blobs: claim-checked events and oversize item parts (AWS; locally `DATA_DIR/blobs`). */
  blobBucket?: string;
  /** Secrets Manager secret holding {appId, appSecret, verifyToken} (AWS). */
  appSecretName?: string;
  graphApiUrl: string;
  graphApiVersion: string;
  graphTimeoutMs: number;
  /** Allow replies outside the 24-hour window with the HUMAN_AGENT tag (7 days; needs app review). */
  humanAgentReplies: boolean;
  pageCacheTtlMs: number;
  /** The FIFO queue of page commands (subscribe, disconnect, check), one group per page. */
  pageCommandsQueueUrl?: string;
  /** Pages worked on at once by resubscribe-all and the health check. */
  pageOpsConcurrency: number;
  /** Beyond this many pages, a bulk run is handed to the page-commands queue instead of run in one go. */
  pageOpsFanOutAbove: number;
  /** How long an admin route waits for its page command before answering 202. */
  commandWaitMs: number;
}

/** The app's settings from a parsed environment (contracts/env.ts), defaults filled in. */
export function configOf(env: ConfigEnv): Config {
  return {
    tableName: env.TABLE_NAME ?? 'pagewire',
    eventsQueueUrl: env.EVENTS_QUEUE_URL,
    kmsKeyId: env.KMS_KEY_ID,
    blobBucket: env.BLOB_BUCKET,
    appSecretName: env.APP_SECRET_NAME,
    graphApiUrl: (env.GRAPH_API_URL ?? 'https://graph.facebook.com').replace(/\/+$/, ''),
    graphApiVersion: env.GRAPH_API_VERSION ?? DEFAULT_GRAPH_API_VERSION,
    graphTimeoutMs: env.GRAPH_TIMEOUT_MS ?? 10_000,
    humanAgentReplies: env.HUMAN_AGENT_REPLIES ?? false,
    pageCacheTtlMs: env.PAGE_CACHE_TTL_MS ?? 30_000,
    pageCommandsQueueUrl: env.PAGE_COMMANDS_QUEUE_URL,
    pageOpsConcurrency: env.PAGE_OPS_CONCURRENCY ?? 16,
    pageOpsFanOutAbove: env.PAGE_OPS_FAN_OUT_ABOVE ?? 1_000,
    commandWaitMs: env.COMMAND_WAIT_MS ?? 10_000,
  };
}

/** The app's settings from raw variables (the local stack, tests): a malformed one fails, named. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return configOf(readEnv(ConfigEnv, env));
}
