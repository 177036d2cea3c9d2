import { type Config, DEFAULT_GRAPH_API_VERSION } from '#contracts/config';
import { ConfigEnv, readEnv } from '#contracts/env';

export { type Config, DEFAULT_GRAPH_API_VERSION, DEFAULT_SUBSCRIBED_FIELDS } from '#contracts/config';

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
    webhookUrl: env.WEBHOOK_URL,
    publicBaseUrl: env.PUBLIC_BASE_URL,
    dialogUrl: (env.FB_DIALOG_URL ?? 'https://www.facebook.com').replace(/\/+$/, ''),
  };
}

/** The app's settings from raw variables (the local stack, tests): a malformed one fails, named. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return configOf(readEnv(ConfigEnv, env));
}
